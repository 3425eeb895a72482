// The mel scale and decibels as pure functions over Tensors (torchaudio.functional's melscale_fbanks,
// amplitude_to_DB): Hz ↔ mel (HTK or Slaney), triangular filter banks, and power/amplitude to dB with
// an optional top_db floor. functional.ts re-exports them beside the STFT.
import { call, OP } from '../binding/ops.js';
import { Tensor, wrap, tidy, linspace, fullLike } from '../tensor/index.js';

export type MelScaleKind = 'htk' | 'slaney';

/** Hz → mel (torchaudio `_hz_to_mel`): HTK 2595·log10(1 + f/700), or Slaney (linear below 1 kHz, log above). */
export function hzToMel(freq: number, melScale: MelScaleKind = 'htk'): number {
  if (melScale === 'htk') return 2595.0 * Math.log10(1.0 + freq / 700.0);
  const fSp = 200.0 / 3;
  const minLogHz = 1000.0;
  const minLogMel = minLogHz / fSp;
  const logstep = Math.log(6.4) / 27.0;
  return freq >= minLogHz ? minLogMel + Math.log(freq / minLogHz) / logstep : freq / fSp;
}

/** mel → Hz elementwise on a tensor (torchaudio `_mel_to_hz`). */
export function melToHz(mels: Tensor, melScale: MelScaleKind = 'htk'): Tensor {
  return tidy(() => {
    if (melScale === 'htk')
      return wrap(call(OP.powScalar, 10.0, mels.div(2595.0).handle))
        .sub(1.0)
        .mul(700.0);
    const fSp = 200.0 / 3;
    const minLogHz = 1000.0;
    const minLogMel = minLogHz / fSp;
    const logstep = Math.log(6.4) / 27.0;
    const linear = mels.mul(fSp);
    const log = mels.sub(minLogMel).mul(logstep).exp().mul(minLogHz);
    return log.where(mels.ge(minLogMel), linear);
  });
}

/**
 * Triangular mel filter bank (nFreqs, nMels), exactly torchaudio.functional.melscale_fbanks
 * (float32, the same op sequence): bins at linspace(0, ⌊sampleRate/2⌋, nFreqs) — note this assumes an
 * even n_fft; torchaudio does the same for odd ones — mel points linspace(mel(fMin), mel(fMax), nMels + 2),
 * and with norm 'slaney' each filter scaled by 2 / (f[i+2] − f[i]).
 * @example const fb = melscaleFbanks(706, 0, 22050, 64, 44100, 'slaney', 'slaney'); // RDAL
 */
export function melscaleFbanks(
  nFreqs: number,
  fMin: number,
  fMax: number,
  nMels: number,
  sampleRate: number,
  norm: 'slaney' | null = null,
  melScale: MelScaleKind = 'htk',
): Tensor {
  if (!Number.isInteger(nFreqs) || nFreqs < 2) throw new RangeError(`'nFreqs' must be an integer >= 2, got ${nFreqs}`);
  if (!Number.isInteger(nMels) || nMels < 1) throw new RangeError(`'nMels' must be an integer >= 1, got ${nMels}`);
  if (!(sampleRate > 0)) throw new RangeError(`'sampleRate' must be positive, got ${sampleRate}`);
  if (!(fMin >= 0 && fMax > fMin && fMax <= sampleRate / 2)) {
    throw new RangeError(
      `need 0 <= fMin < fMax <= sampleRate/2, got fMin ${fMin}, fMax ${fMax}, sampleRate ${sampleRate}`,
    );
  }
  if (norm !== null && norm !== 'slaney') throw new RangeError(`'norm' must be null or 'slaney', got ${String(norm)}`);
  if (melScale !== 'htk' && melScale !== 'slaney')
    throw new RangeError(`'melScale' must be 'htk' or 'slaney', got ${String(melScale)}`);
  return tidy(() => {
    const allFreqs = linspace(0, Math.floor(sampleRate / 2), nFreqs); // (nFreqs)
    const mPts = linspace(hzToMel(fMin, melScale), hzToMel(fMax, melScale), nMels + 2);
    const fPts = melToHz(mPts, melScale); // (nMels + 2)
    const fDiff = fPts.slice(0, 1).sub(fPts.slice(0, 0, -1)); // (nMels + 1)
    const slopes = fPts.unsqueeze(0).sub(allFreqs.unsqueeze(1)); // (nFreqs, nMels + 2)
    const down = slopes
      .slice(1, 0, -2)
      .mul(-1.0)
      .div(fDiff.slice(0, 0, -1)); // (nFreqs, nMels)
    const up = slopes.slice(1, 2).div(fDiff.slice(0, 1)); // (nFreqs, nMels)
    let fb = down.minimum(up).clamp(0);
    if (norm === 'slaney') {
      const width = fPts.slice(0, 2, nMels + 2).sub(fPts.slice(0, 0, nMels)); // (nMels)
      fb = fb.mul(fullLike(width, 2.0).div(width).unsqueeze(0));
    }
    return fb.contiguous();
  });
}

/**
 * Apply a mel filter bank: (..., freq, time) × (freq, mels) → (..., mels, time) (torchaudio MelScale).
 * @example const mel = melScale(power, fb);
 */
export function melScale(spectrogram: Tensor, fb: Tensor): Tensor {
  if (spectrogram.size(-2) !== fb.size(0)) {
    throw new RangeError(
      `'spectrogram' has ${spectrogram.size(-2)} frequency bins but the filter bank expects ${fb.size(0)}`,
    );
  }
  return tidy(() => spectrogram.transpose(-1, -2).matmul(fb).transpose(-1, -2).contiguous());
}

/**
 * torchaudio.functional.amplitude_to_DB: multiplier·log10(max(x, amin)) − multiplier·dbMultiplier, then with
 * topDb floor at (max − topDb), the max taken per item of the packed batch: over all of (channel, freq, time)
 * for inputs with ≥ 3 dims — so a (batch, freq, time) input shares one max across the batch, as in torchaudio;
 * give (batch, 1, freq, time) for per-clip floors.
 * @example const db = amplitudeToDB(melPower, 10, 1e-10, 0, 80);
 */
export function amplitudeToDB(
  x: Tensor,
  multiplier: number,
  amin: number,
  dbMultiplier: number,
  topDb: number | null = null,
): Tensor {
  if (x.ndim < 2) throw new RangeError(`'x' must be shaped (..., freq, time), got ${x.ndim} dims`);
  return tidy(() => {
    let db = wrap(call(OP.log10, x.clamp(amin).handle))
      .mul(multiplier)
      .sub(multiplier * dbMultiplier);
    if (topDb !== null) {
      const shape = db.shape;
      const packed = shape.length > 2 ? shape[shape.length - 3]! : 1;
      const flat = db.reshape([-1, packed, shape[shape.length - 2]!, shape[shape.length - 1]!]);
      const floor = flat.amax([-3, -2, -1], true).sub(topDb); // (B, 1, 1, 1)
      db = flat.maximum(floor).reshape(shape);
    }
    return db;
  });
}
