// Audio features as pure functions over Tensors, in torchaudio.functional's style: explicit
// parameters, no cached state, shapes (..., freq, time). transforms.ts wraps them in small classes
// that cache the window and the mel filter bank.
//
// Complex spectra travel as real pairs (..., freq, frames, 2) (torch.view_as_real), the form
// Tensor.stft/istft use at the binding.
//
// Two feature front-ends from the papers:
// - DeepSpeech2 (Wang et al., opt-in obfuscation; deepspeech.pytorch `SpectrogramParser.parse_audio`):
//   16 kHz, n_fft = win = 320, periodic Hamming, hop 160, centred, |STFT|, log1p, per-utterance
//   (S - mean) / std → (161, 1 + ⌊N/160⌋).
// - RDAL (sound events): 44.1 kHz, n_fft 1411, periodic Hamming, hop 441, centred with zeros,
//   power, 64 Slaney mel bands (torchaudio melscale_fbanks), AmplitudeToDB(power, top_db=80) per clip.
import { call, OP } from '../binding/ops.js';
import { Tensor, wrap, tidy, dispose, keep, stack, rand, onesLike, zerosLike } from '../tensor/index.js';
import { amplitudeToDB, melScale } from './mel.js';

export * from './mel.js';

/**
 * A complex view of real pairs (..., 2), owned by the current scope. stft's pairs are a transposed view
 * that view_as_complex takes as it is (pairs of stride 1, other strides even), so they are not copied:
 * a contiguous() copy here made the DS2 front-end 1.3 MB of copying slower than torch's on a 10 s clip.
 */
function asComplex(pairs: Tensor): Tensor {
  if (!(pairs instanceof Tensor) || pairs.ndim < 1 || pairs.size(-1) !== 2) {
    throw new TypeError("'spec' must be a Tensor of real pairs shaped (..., 2)");
  }
  const stride = (d: number): number => call(OP.stride, pairs.handle, d);
  let viewable = stride(-1) === 1;
  for (let d = 0; viewable && d < pairs.ndim - 1; d++) viewable = stride(d) % 2 === 0;
  if (viewable) {
    try {
      return wrap(call(OP.viewAsComplex, pairs.handle));
    } catch {
      // an odd storage offset (rare: a narrowed flat buffer) still needs the copy below
    }
  }
  return wrap(call(OP.viewAsComplex, pairs.contiguous().handle));
}

export type PadMode = 'reflect' | 'constant';

/** Short-time Fourier transform parameters (torch.stft's, with centring always explicit). */
export interface StftParams {
  nFft: number;
  hopLength: number;
  /** Defaults to nFft; the window tensor must have this length. */
  winLength?: number;
  /** Pad nFft/2 on both sides so frame t is centred on sample t·hop (librosa/torch center=True). */
  center: boolean;
  /** Padding when centred: 'reflect' (torch.stft, librosa ≤ 0.8) or 'constant' zeros (librosa ≥ 0.9). */
  padMode: PadMode;
}

// ---------------------------------------------------------------------------------------------
// STFT and complex pairs

function checkStft(waveform: Tensor, window: Tensor, p: StftParams): void {
  if (!(waveform instanceof Tensor)) throw new TypeError("'waveform' must be a Tensor of shape (..., time)");
  if (!(window instanceof Tensor) || window.ndim !== 1) throw new TypeError("'window' must be a 1-d Tensor");
  if (!Number.isInteger(p.nFft) || p.nFft < 2) throw new RangeError(`'nFft' must be an integer >= 2, got ${p.nFft}`);
  if (!Number.isInteger(p.hopLength) || p.hopLength < 1)
    throw new RangeError(`'hopLength' must be an integer >= 1, got ${p.hopLength}`);
  const win = p.winLength ?? p.nFft;
  if (window.size(0) !== win) throw new RangeError(`'window' has ${window.size(0)} samples but winLength is ${win}`);
}

/**
 * STFT of (..., time) → real pairs (..., freq, frames, 2): freq = ⌊nFft/2⌋ + 1; when centred
 * frames = 1 + ⌊(time − nFft mod 2)/hop⌋ (1 + ⌊time/hop⌋ for even nFft).
 * @example const spec = stft(x, hammingWindow(320), { nFft: 320, hopLength: 160, center: true, padMode: 'reflect' });
 */
export function stft(waveform: Tensor, window: Tensor, p: StftParams): Tensor {
  checkStft(waveform, window, p);
  const shape = waveform.shape;
  const n = shape[shape.length - 1] ?? 0;
  if (p.center && p.padMode === 'reflect' && n <= Math.floor(p.nFft / 2)) {
    throw new RangeError(
      `'waveform' has ${n} samples; reflect padding needs more than nFft/2 = ${Math.floor(p.nFft / 2)} ` +
        "(pad the audio or use padMode 'constant')",
    );
  }
  if (!p.center && n < p.nFft) throw new RangeError(`'waveform' has ${n} samples, fewer than nFft = ${p.nFft}`);
  return tidy(() => {
    const flat = waveform.reshape([-1, n]); // (B, time)
    const spec = flat.stft(p.nFft, {
      hopLength: p.hopLength,
      winLength: p.winLength ?? p.nFft,
      window,
      center: p.center,
      padMode: p.padMode,
      onesided: true,
    }); // (B, freq, frames, 2)
    return spec.reshape([...shape.slice(0, -1), spec.size(1), spec.size(2), 2]);
  });
}

/**
 * Inverse STFT of real pairs (..., freq, frames, 2) → (..., time); `length` trims/pads to the original length.
 * @example const y = istft(spec, window, params, x.size(-1));
 */
export function istft(spec: Tensor, window: Tensor, p: Omit<StftParams, 'padMode'>, length?: number): Tensor {
  if (!(spec instanceof Tensor) || spec.ndim < 3 || spec.size(-1) !== 2) {
    throw new TypeError("'spec' must be a Tensor of real pairs shaped (..., freq, frames, 2)");
  }
  return tidy(() => {
    const shape = spec.shape;
    const [f, t] = [shape[shape.length - 3]!, shape[shape.length - 2]!];
    const flat = spec.reshape([-1, f, t, 2]);
    const y = flat.istft(p.nFft, {
      hopLength: p.hopLength,
      winLength: p.winLength ?? p.nFft,
      window,
      center: p.center,
      onesided: true,
      ...(length === undefined ? {} : { length }),
    }); // (B, time)
    return y.reshape([...shape.slice(0, -3), y.size(1)]);
  });
}

// (one pass each over a complex view: about 3× faster than arithmetic on the pairs)

/** |z| of real pairs (..., 2) → (...). */
export function complexAbs(spec: Tensor): Tensor {
  return tidy(() => wrap(call(OP.abs, asComplex(spec).handle)));
}

/** |z|² of real pairs (..., 2) → (...), as `D.abs() ** 2` (the RDAL reference's order of operations). */
export function complexPower(spec: Tensor): Tensor {
  return tidy(() => complexAbs(spec).square());
}

/** arg z in (-π, π] of real pairs (..., 2) → (...); 0 where z = 0. */
export function complexAngle(spec: Tensor): Tensor {
  return tidy(() => wrap(call(OP.angle, asComplex(spec).handle)));
}

/** Real pairs from magnitude and phase, both (...) → (..., 2) (torch.polar). */
export function polar(magnitude: Tensor, phase: Tensor): Tensor {
  return tidy(() => {
    const [m, p] = magnitude.dtype === phase.dtype ? [magnitude, phase] : [magnitude.float(), phase.float()];
    return wrap(call(OP.viewAsReal, wrap(call(OP.polar, m.handle, p.handle)).handle));
  });
}

/** e^x − 1, accurate near 0 (the inverse of log1p). */
export function expm1(x: Tensor): Tensor {
  return wrap(call(OP.expm1, x.handle));
}

// ---------------------------------------------------------------------------------------------
// DeepSpeech2 spectrogram

/** deepspeech.pytorch's spectrogram settings (configs/train_config.py SpectConfig: 16 kHz, 20 ms window, 10 ms stride). */
export const DS2_SPECTROGRAM = {
  sampleRate: 16000,
  nFft: 320,
  hopLength: 160,
  center: true,
  // deepspeech.pytorch calls librosa.stft with librosa's default pad_mode. Its requirements (numba 0.43,
  // llvmlite 0.32 pinned; V3, 2020-21) predate librosa 0.9 (2022), whose default changed from 'reflect'
  // to zeros (pytorch/pytorch#72550); torch.stft's default is 'reflect' too. So: 'reflect'. Pass
  // padMode: 'constant' to mimic librosa >= 0.9 (only the first and last frames differ, and the mean/std slightly).
  padMode: 'reflect' as PadMode,
} as const;

export interface Ds2Params extends StftParams {
  /** Per-utterance (S − mean) / std (deepspeech.pytorch `normalize=True`; default true). */
  normalize?: boolean;
  /** Also return the STFT phase (for exact inversion; default false). */
  returnPhase?: boolean;
}

/** DS2 features and what is needed to undo them. */
export interface Ds2Features {
  /** (..., 161, frames): normalised log1p |STFT| (or un-normalised when normalize=false). */
  spectrogram: Tensor;
  /** (...): mean of log1p |STFT| over (freq, time); 0 when normalize=false. */
  mean: Tensor;
  /** (...): unbiased std (torch.std) over (freq, time), floored at 1e-10; 1 when normalize=false. */
  std: Tensor;
  /** (..., 161, frames) in radians, when requested. */
  phase?: Tensor;
}

/**
 * DeepSpeech2 spectrogram as deepspeech.pytorch's loader computes it:
 * log1p(|STFT(x)|) with a periodic Hamming window, centred, then (S − S.mean()) / S.std() per utterance
 * (torch's std is unbiased, N − 1). Input (..., time) at 16 kHz; output (..., 161, 1 + ⌊time/160⌋).
 * The std is floored at 1e-10 so silence yields zeros instead of NaN (real audio never comes near it).
 * @example
 * const w = hammingWindow(320);
 * const { spectrogram, mean, std, phase } = tidy(() => ds2Spectrogram(x, w, { ...DS2_SPECTROGRAM, returnPhase: true }));
 */
export function ds2Spectrogram(waveform: Tensor, window: Tensor, p: Ds2Params = DS2_SPECTROGRAM): Ds2Features {
  return tidy(() => {
    const spec = stft(waveform, window, p); // (..., freq, frames, 2)
    const logMag = complexAbs(spec).log1p(); // (..., freq, frames)
    const phase = p.returnPhase ? complexAngle(spec) : undefined;
    if (p.normalize === false) {
      const mean = zerosLike(logMag.sum([-2, -1])); // (...)
      const std = onesLike(mean);
      return phase ? { spectrogram: logMag, mean, std, phase } : { spectrogram: logMag, mean, std };
    }
    const mean = logMag.mean([-2, -1], true); // (..., 1, 1)
    const std = logMag.std([-2, -1], { unbiased: true, keepdim: true }).clamp(1e-10);
    const spectrogram = logMag.sub(mean).div_(std);
    const out: Ds2Features = { spectrogram, mean: mean.squeeze(-1).squeeze(-1), std: std.squeeze(-1).squeeze(-1) };
    if (phase) out.phase = phase;
    return out;
  });
}

/**
 * Undo the normalisation and the log: (..., freq, frames) → |STFT| = expm1(S·std + mean), clamped at 0.
 * @example const mag = ds2Magnitude(features.spectrogram, features.mean, features.std);
 */
export function ds2Magnitude(spectrogram: Tensor, mean: Tensor, std: Tensor): Tensor {
  return tidy(() => {
    const m = mean.unsqueeze(-1).unsqueeze(-1);
    const s = std.unsqueeze(-1).unsqueeze(-1);
    return expm1(spectrogram.mul(s).add(m)).clamp(0);
  });
}

/**
 * Invert a DS2 spectrogram with a known phase (e.g. the original one): magnitude from
 * `ds2Magnitude`, then istft. Returns (..., length) (default: (frames − 1)·hop samples).
 * @example const y = ds2Invert(f.spectrogram, f.mean, f.std, f.phase!, w, DS2_SPECTROGRAM, x.size(-1));
 */
export function ds2Invert(
  spectrogram: Tensor,
  mean: Tensor,
  std: Tensor,
  phase: Tensor,
  window: Tensor,
  p: Omit<StftParams, 'padMode'> = DS2_SPECTROGRAM,
  length?: number,
): Tensor {
  if (!(phase instanceof Tensor))
    throw new TypeError("'phase' must be a Tensor shaped like 'spectrogram'; without one use griffinLim()");
  return tidy(() => istft(polar(ds2Magnitude(spectrogram, mean, std), phase), window, p, length));
}

// ---------------------------------------------------------------------------------------------
// Griffin-Lim

export interface GriffinLimParams extends StftParams {
  /** Iterations (default 32, as torchaudio). */
  nIter?: number;
  /** Fast Griffin-Lim momentum (Perraudin et al. 2013) in [0, 1); 0 = plain Griffin-Lim (default 0.99, as torchaudio). */
  momentum?: number;
  /** Output length in samples (default (frames − 1)·hop). */
  length?: number;
  /** Start from uniformly random phases (default true; seed with manualSeed) or from zero phase. */
  randInit?: boolean;
  /** Called after each iteration with the spectral convergence ‖S − |STFT(x_i)|‖_F / ‖S‖_F (computed only when given). */
  onIteration?: (iteration: number, spectralConvergence: number) => void;
}

/**
 * Griffin-Lim phase reconstruction from a magnitude spectrogram (..., freq, frames) → (..., time),
 * following torchaudio.functional.griffinlim (power 1): alternate istft/stft projections, with the
 * momentum term angles − m/(1+m)·previous. Differences: random init draws phases uniformly in [0, 2π)
 * (torchaudio draws raw complex values), and the projection uses our STFT's padMode.
 * @example const y = griffinLim(mag, hammingWindow(320), { ...DS2_SPECTROGRAM, nIter: 60 });
 */
export function griffinLim(magnitude: Tensor, window: Tensor, p: GriffinLimParams): Tensor {
  const nIter = p.nIter ?? 32;
  const momentum = p.momentum ?? 0.99;
  if (!Number.isInteger(nIter) || nIter < 0) throw new RangeError(`'nIter' must be an integer >= 0, got ${nIter}`);
  if (!(momentum >= 0 && momentum < 1)) throw new RangeError(`'momentum' must be in [0, 1), got ${momentum}`);
  if (!(magnitude instanceof Tensor) || magnitude.ndim < 2)
    throw new TypeError("'magnitude' must be a Tensor shaped (..., freq, frames)");
  const frames = magnitude.size(-1);
  const length = p.length ?? (frames - 1) * p.hopLength;
  const mag = magnitude.unsqueeze(-1); // (..., freq, frames, 1)
  const norm = p.onIteration ? tidy(() => magnitude.norm().item()) : 1;
  let angles = keep(
    tidy(() => {
      if (p.randInit === false) return stack([onesLike(magnitude), zerosLike(magnitude)], -1);
      const theta = rand(magnitude.shape).mul(2 * Math.PI);
      return stack([theta.cos(), theta.sin()], -1); // unit phasors (..., freq, frames, 2)
    }),
  );
  let prev: Tensor | null = null;
  try {
    for (let i = 0; i < nIter; i++) {
      const next = tidy(() => {
        const inverse = istft(mag.mul(angles), window, p, length);
        const rebuilt = stft(inverse, window, p);
        let a = prev === null || momentum === 0 ? rebuilt : rebuilt.sub(prev.mul(momentum / (1 + momentum)));
        a = a.div(complexAbs(a).add(1e-16).unsqueeze(-1));
        if (p.onIteration) {
          const sc = complexAbs(rebuilt).sub(magnitude).norm().item() / (norm || 1);
          p.onIteration(i, sc);
        }
        return { angles: a, rebuilt };
      });
      dispose([angles, prev]);
      angles = keep(next.angles);
      prev = keep(next.rebuilt);
    }
    return tidy(() => istft(mag.mul(angles), window, p, length));
  } finally {
    dispose([angles, prev, mag]);
  }
}

/**
 * Spectral convergence ‖S − |STFT(x)|‖_F / ‖S‖_F of a waveform against a target magnitude (a number).
 * @example const sc = spectralConvergence(mag, y, w, DS2_SPECTROGRAM);
 */
export function spectralConvergence(magnitude: Tensor, waveform: Tensor, window: Tensor, p: StftParams): number {
  return tidy(
    () =>
      complexAbs(stft(waveform, window, p))
        .sub(magnitude)
        .norm()
        .item() / magnitude.norm().item(),
  );
}

// ---------------------------------------------------------------------------------------------
// RDAL log-mel

/** RDAL's front-end (seed003 spec §1; lndip serialize_data.py + torchaudio on the GPU). */
export const RDAL_LOGMEL = {
  sampleRate: 44100,
  nFft: 1411,
  hopLength: 441,
  center: true,
  // librosa 0.9.2's stft default pad_mode is 'constant' (zeros); the window is scipy's periodic 'hamming'
  padMode: 'constant' as PadMode,
  nMels: 64,
  fMin: 0,
  fMax: 22050,
  topDb: 80,
} as const;

export interface RdalParams extends StftParams {
  /** dB floor below each clip's max (default 80). */
  topDb?: number;
}

/**
 * RDAL log-mel: |STFT|² (n_fft 1411, hop 441, periodic Hamming, centred with zeros) → mel filter bank
 * `fb` (706, 64) → 10·log10(max(x, 1e-10)), floored at the clip's max − 80 dB. Input (..., time) at
 * 44.1 kHz; each leading index is one clip. Output (..., 64, 1 + ⌊(time − 1)/441⌋): n_fft is odd, so centring
 * pads 705 samples a side (librosa and torch alike) and exactly 44100 samples give 100 frames; the 101
 * frames quoted for RDAL's 1-s clips need at least 44101 samples.
 * @example
 * const fb = melscaleFbanks(706, 0, 22050, 64, 44100, 'slaney', 'slaney');
 * const x = rdalLogMel(clip, hammingWindow(1411), fb);
 */
export function rdalLogMel(waveform: Tensor, window: Tensor, fb: Tensor, p: RdalParams = RDAL_LOGMEL): Tensor {
  return tidy(() => {
    const power = complexPower(stft(waveform, window, p)); // (..., 706, frames)
    const mel = melScale(power, fb); // (..., 64, frames)
    const lead = mel.shape.slice(0, -2);
    const perClip = mel.reshape([-1, 1, mel.size(-2), mel.size(-1)]); // (clips, 1, 64, frames): one floor per clip
    return amplitudeToDB(perClip, 10, 1e-10, 0, p.topDb ?? 80).reshape([...lead, mel.size(-2), mel.size(-1)]);
  });
}
