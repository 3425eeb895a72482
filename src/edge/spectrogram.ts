// The DS2 front-end in plain TypeScript for the device (no libtorch): a mixed-radix FFT (n = 320 =
// 2^6·5), the periodic Hamming window, centred reflect-padded STFT frames, log1p|·| and phase, the
// per-window normalisation, and the inverse: magnitude × original phase → iFFT → windowed
// overlap-add divided by the summed squared window (torch.istft's rule), incrementally for streams.
// Arrays are (freq, frames) row-major like src/audio/functional.ts's ds2Spectrogram.

import { Fft } from './fft.js';

export { Fft } from './fft.js';

/** Periodic Hamming window (torch.hamming_window(n, periodic=True)): 0.54 − 0.46·cos(2πj/n). */
export function hammingPeriodic(n: number): Float64Array {
  return Float64Array.from({ length: n }, (_, j) => 0.54 - 0.46 * Math.cos((2 * Math.PI * j) / n));
}

export interface StftConfig {
  nFft: number;
  hopLength: number;
}

export const DS2_STFT: StftConfig = { nFft: 320, hopLength: 160 };

/** One frame's log1p|X| (nFreq) and phase (nFreq). */
export interface FrameSpectrum {
  logMag: Float32Array;
  phase: Float32Array;
}

/** Frames of a waveform for the DS2 front-end; one instance caches the window and the FFT plan. */
export class Ds2Frontend {
  readonly nFft: number;
  readonly hop: number;
  readonly nFreq: number;
  readonly #fft: Fft;
  readonly #window: Float64Array;
  readonly #re: Float64Array;
  readonly #im: Float64Array;

  constructor(cfg: StftConfig = DS2_STFT) {
    if (cfg.nFft !== 2 * cfg.hopLength)
      throw new RangeError(
        `the edge front-end needs nFft = 2·hopLength (DS2: 320, 160), got ${cfg.nFft}, ${cfg.hopLength}`,
      );
    this.nFft = cfg.nFft;
    this.hop = cfg.hopLength;
    this.nFreq = cfg.nFft / 2 + 1;
    this.#fft = new Fft(cfg.nFft);
    this.#window = hammingPeriodic(cfg.nFft);
    this.#re = new Float64Array(cfg.nFft);
    this.#im = new Float64Array(cfg.nFft);
  }

  /** Frames for `length` samples, centred: 1 + ⌊length/hop⌋. */
  frameCount(length: number): number {
    return 1 + Math.floor(length / this.hop);
  }

  /**
   * log1p|STFT| and phase of frame `t` of a centred, reflect-padded signal: the frame covers samples
   * [t·hop − nFft/2, t·hop + nFft/2) with indices reflected at both ends of a signal of `total` samples
   * (> nFft/2); `x` holds the samples from index `offset` on (a stream's buffer).
   */
  frame(
    x: Float32Array,
    t: number,
    out: FrameSpectrum,
    col = 0,
    stride = 1,
    offset = 0,
    total = offset + x.length,
  ): void {
    const n = this.nFft;
    const half = n / 2;
    if (total <= half) throw new RangeError(`reflect padding needs more than ${half} samples, got ${total}`);
    const re = this.#re;
    const im = this.#im;
    im.fill(0);
    for (let j = 0; j < n; j++) {
      let i = t * this.hop - half + j; // absolute sample index; x[0] is sample `offset`
      if (i < 0) i = -i;
      else if (i >= total) i = 2 * (total - 1) - i;
      re[j] = x[i - offset]! * this.#window[j]!;
    }
    this.#fft.transform(re, im);
    for (let k = 0; k < this.nFreq; k++) {
      const o = col + k * stride;
      out.logMag[o] = Math.log1p(Math.sqrt(re[k]! * re[k]! + im[k]! * im[k]!));
      out.phase[o] = Math.atan2(im[k]!, re[k]!);
    }
  }

  /**
   * The un-normalised DS2 spectrogram of a whole waveform: log1p|STFT| and phase, (nFreq, frames) each.
   * @example const { logMag, phase, frames } = new Ds2Frontend().analyze(samples);
   */
  analyze(x: Float32Array): FrameSpectrum & { frames: number } {
    const frames = this.frameCount(x.length);
    const out = { logMag: new Float32Array(this.nFreq * frames), phase: new Float32Array(this.nFreq * frames) };
    for (let t = 0; t < frames; t++) this.frame(x, t, out, t, frames);
    return { ...out, frames };
  }

  /**
   * Inverse-FFT one frame of magnitude·e^(i·phase) (nFreq values each, read at col + k·stride) and return
   * the windowed time signal (nFft samples) for overlap-add.
   */
  synthesize(mag: ArrayLike<number>, phase: ArrayLike<number>, col = 0, stride = 1): Float64Array {
    const n = this.nFft;
    const re = this.#re;
    const im = this.#im;
    for (let k = 0; k < this.nFreq; k++) {
      const m = mag[col + k * stride]!;
      const p = phase[col + k * stride]!;
      re[k] = m * Math.cos(p);
      im[k] = m * Math.sin(p);
    }
    // Hermitian fill; irfft ignores the imaginary parts of the DC and Nyquist bins
    im[0] = 0;
    im[n / 2] = 0;
    for (let k = 1; k < n / 2; k++) {
      re[n - k] = re[k]!;
      im[n - k] = -im[k]!;
    }
    this.#fft.transform(re, im, true);
    const out = new Float64Array(n);
    for (let j = 0; j < n; j++) out[j] = (re[j]! / n) * this.#window[j]!;
    return out;
  }

  /** Squared window, for the overlap-add envelope. */
  windowSquared(j: number): number {
    return this.#window[j]! ** 2;
  }
}

/** (S − mean)/std over all values, with torch's unbiased std floored at 1e-10. Returns the stats. */
export function normalizeInPlace(s: Float32Array): { mean: number; std: number } {
  let sum = 0;
  for (const v of s) sum += v;
  const mean = sum / s.length;
  let sq = 0;
  for (const v of s) sq += (v - mean) ** 2;
  const std = Math.max(Math.sqrt(sq / Math.max(1, s.length - 1)), 1e-10);
  for (let i = 0; i < s.length; i++) s[i] = (s[i]! - mean) / std;
  return { mean, std };
}

/**
 * The whole-utterance DS2 spectrogram as src/audio/functional.ts's ds2Spectrogram computes it
 * (per-utterance normalisation), for the tests and for apps: (nFreq, frames) row-major.
 * @example const { spectrogram, mean, std } = ds2SpectrogramTs(samples);
 */
export function ds2SpectrogramTs(
  x: Float32Array,
  normalize = true,
): { spectrogram: Float32Array; phase: Float32Array; frames: number; mean: number; std: number } {
  const { logMag, phase, frames } = new Ds2Frontend().analyze(x);
  const stats = normalize ? normalizeInPlace(logMag) : { mean: 0, std: 1 };
  return { spectrogram: logMag, phase, frames, ...stats };
}

/**
 * Overlap-add synthesis that hands out finished samples as frames arrive (torch.istft, centred):
 * output sample i = Σ_t frame_t[i + nFft/2 − t·hop] / Σ_t w²[…], trimmed by nFft/2 at the start.
 * Samples before (t·hop − nFft/2) are final once frame t has been added.
 */
export class OverlapAdd {
  readonly #fe: Ds2Frontend;
  #acc: Float64Array;
  #env: Float64Array;
  /** Padded-signal index of #acc[0]. */
  #base = 0;
  /** Frames added so far. */
  frames = 0;
  /** Output samples handed out so far. */
  emitted = 0;

  constructor(fe: Ds2Frontend) {
    this.#fe = fe;
    this.#acc = new Float64Array(4 * fe.nFft);
    this.#env = new Float64Array(4 * fe.nFft);
  }

  /** Add the next frame (magnitude and phase, nFreq values at col + k·stride). */
  push(mag: ArrayLike<number>, phase: ArrayLike<number>, col = 0, stride = 1): void {
    const fe = this.#fe;
    const y = fe.synthesize(mag, phase, col, stride);
    const start = this.frames * fe.hop - this.#base; // padded index of the frame's first sample
    if (start + fe.nFft > this.#acc.length) {
      const grow = (a: Float64Array): Float64Array => {
        const b = new Float64Array(Math.max(2 * a.length, start + fe.nFft));
        b.set(a);
        return b;
      };
      this.#acc = grow(this.#acc);
      this.#env = grow(this.#env);
    }
    for (let j = 0; j < fe.nFft; j++) {
      this.#acc[start + j]! += y[j]!;
      this.#env[start + j]! += fe.windowSquared(j);
    }
    this.frames++;
  }

  /**
   * Finished output samples since the last call. With `final`, everything up to `totalLength` output
   * samples (the input's length), as torch.istft(length=…) returns.
   */
  take(final = false, totalLength = 0): Float32Array {
    const fe = this.#fe;
    const half = fe.nFft / 2;
    // padded samples < frames·hop are complete (no later frame reaches them); output index = padded − half
    let endOut = final ? totalLength : Math.max(0, this.frames * fe.hop - half);
    if (final) endOut = Math.max(endOut, this.emitted);
    const n = endOut - this.emitted;
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const p = this.emitted + i + half - this.#base;
      const a = p < this.#acc.length ? this.#acc[p]! : 0;
      const e = p < this.#env.length ? this.#env[p]! : 0;
      out[i] = e > 1e-11 ? a / e : 0;
    }
    this.emitted = endOut;
    // drop the consumed prefix
    const keepFrom = this.emitted + half - this.#base;
    if (keepFrom > 2 * fe.nFft) {
      this.#acc = this.#acc.slice(keepFrom);
      this.#env = this.#env.slice(keepFrom);
      this.#base += keepFrom;
    }
    return out;
  }
}
