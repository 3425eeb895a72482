// Feature transforms as small classes (torchaudio.transforms' style): each builds its window and mel
// filter bank once, keeps them out of every tidy() scope, and delegates to one function in
// functional.ts. Call dispose() when done with a transform.
import { Tensor, hammingWindow, hannWindow, keep, tidy, dispose } from '../tensor/index.js';
import {
  DS2_SPECTROGRAM,
  RDAL_LOGMEL,
  amplitudeToDB,
  ds2Invert,
  ds2Magnitude,
  ds2Spectrogram,
  griffinLim,
  melScale,
  melscaleFbanks,
  rdalLogMel,
  type Ds2Features,
  type GriffinLimParams,
  type MelScaleKind,
  type PadMode,
  type StftParams,
} from './functional.js';

/** DeepSpeech2 spectrogram settings; defaults are deepspeech.pytorch's (see DS2_SPECTROGRAM). */
export interface Ds2SpectrogramConfig {
  /** 320 (20 ms at 16 kHz). */
  nFft?: number;
  /** 160 (10 ms). */
  hopLength?: number;
  /** 'reflect' (librosa ≤ 0.8 / torch.stft); 'constant' mimics librosa ≥ 0.9. */
  padMode?: PadMode;
  /** Per-utterance mean/std normalisation (true). */
  normalize?: boolean;
}

/**
 * DeepSpeech2 spectrogram (16 kHz audio → (..., 161, frames) normalised log1p |STFT|), its exact
 * inverse given the phase, and Griffin-Lim when there is none.
 * @example
 * const ds2 = new Ds2Spectrogram();
 * const f = tidy(() => ds2.forward(x, { returnPhase: true }));
 * const y = tidy(() => ds2.inverse(f, x.size(-1)));
 */
export class Ds2Spectrogram {
  readonly params: StftParams & { normalize: boolean };
  /** Periodic Hamming window (nFft), kept. */
  readonly window: Tensor;

  constructor(config: Ds2SpectrogramConfig = {}) {
    this.params = {
      nFft: config.nFft ?? DS2_SPECTROGRAM.nFft,
      hopLength: config.hopLength ?? DS2_SPECTROGRAM.hopLength,
      center: true,
      padMode: config.padMode ?? DS2_SPECTROGRAM.padMode,
      normalize: config.normalize ?? true,
    };
    this.window = keep(hammingWindow(this.params.nFft, true));
  }

  /** (..., time) → { spectrogram (..., freq, frames), mean (...), std (...), phase? }. */
  forward(waveform: Tensor, opts: { returnPhase?: boolean } = {}): Ds2Features {
    return ds2Spectrogram(waveform, this.window, { ...this.params, returnPhase: opts.returnPhase ?? false });
  }

  /** |STFT| (..., freq, frames) from features (undoes the normalisation and log1p). */
  magnitude(f: Pick<Ds2Features, 'spectrogram' | 'mean' | 'std'>): Tensor {
    return ds2Magnitude(f.spectrogram, f.mean, f.std);
  }

  /** Waveform (..., length) from features and their phase (exact up to float rounding). */
  inverse(f: Ds2Features, length?: number): Tensor {
    if (f.phase === undefined)
      throw new TypeError("'features.phase' is missing: call forward(x, { returnPhase: true }) or use griffinLim()");
    return ds2Invert(f.spectrogram, f.mean, f.std, f.phase, this.window, this.params, length);
  }

  /** Waveform from features without phase, by Griffin-Lim. */
  griffinLim(
    f: Pick<Ds2Features, 'spectrogram' | 'mean' | 'std'>,
    opts: Omit<GriffinLimParams, keyof StftParams> = {},
  ): Tensor {
    return tidy(() => griffinLim(this.magnitude(f), this.window, { ...this.params, ...opts }));
  }

  dispose(): void {
    this.window.dispose();
  }
}

/**
 * Mel filter bank applied to a (..., freq, time) spectrogram (torchaudio.transforms.MelScale).
 * @example const mel = new MelScale({ nMels: 64, sampleRate: 44100, nStft: 706, norm: 'slaney', melScale: 'slaney' });
 */
export class MelScale {
  /** (nStft, nMels), kept. */
  readonly fb: Tensor;

  constructor(
    c: {
      nMels?: number;
      sampleRate?: number;
      fMin?: number;
      fMax?: number;
      nStft?: number;
      norm?: 'slaney' | null;
      melScale?: MelScaleKind;
    } = {},
  ) {
    const sampleRate = c.sampleRate ?? 16000;
    this.fb = keep(
      melscaleFbanks(
        c.nStft ?? 201,
        c.fMin ?? 0,
        c.fMax ?? sampleRate / 2,
        c.nMels ?? 128,
        sampleRate,
        c.norm ?? null,
        c.melScale ?? 'htk',
      ),
    );
  }

  forward(spectrogram: Tensor): Tensor {
    return melScale(spectrogram, this.fb);
  }

  dispose(): void {
    this.fb.dispose();
  }
}

/**
 * Power or amplitude to dB (torchaudio.transforms.AmplitudeToDB; ref 1, amin 1e-10).
 * @example const db = new AmplitudeToDB('power', 80).forward(melPower.unsqueeze(1)); // (B, 1, mels, time)
 */
export class AmplitudeToDB {
  readonly multiplier: number;
  constructor(
    readonly stype: 'power' | 'magnitude' = 'power',
    readonly topDb: number | null = null,
    readonly amin = 1e-10,
  ) {
    if (topDb !== null && !(topDb >= 0)) throw new RangeError(`'topDb' must be >= 0 or null, got ${topDb}`);
    this.multiplier = stype === 'power' ? 10 : 20;
  }

  forward(x: Tensor): Tensor {
    return amplitudeToDB(x, this.multiplier, this.amin, 0, this.topDb);
  }
}

/**
 * RDAL's log-mel front-end: 44.1 kHz audio (..., time) → (..., 64, frames) dB, floored 80 dB below each
 * clip's max (see rdalLogMel).
 * @example const lm = new RdalLogMel(); const x = tidy(() => lm.forward(clips)); // (B, 64, 100) for 44100-sample clips
 */
export class RdalLogMel {
  readonly params: StftParams & { topDb: number };
  /** Periodic Hamming window (1411), kept. */
  readonly window: Tensor;
  /** Slaney mel filter bank (706, 64), kept. */
  readonly fb: Tensor;

  constructor(config: { padMode?: PadMode; topDb?: number } = {}) {
    const r = RDAL_LOGMEL;
    this.params = {
      nFft: r.nFft,
      hopLength: r.hopLength,
      center: true,
      padMode: config.padMode ?? r.padMode,
      topDb: config.topDb ?? r.topDb,
    };
    this.window = keep(hammingWindow(r.nFft, true));
    this.fb = keep(
      melscaleFbanks(Math.floor(r.nFft / 2) + 1, r.fMin, r.fMax, r.nMels, r.sampleRate, 'slaney', 'slaney'),
    );
  }

  forward(waveform: Tensor): Tensor {
    return rdalLogMel(waveform, this.window, this.fb, this.params);
  }

  dispose(): void {
    dispose([this.window, this.fb]);
  }
}

/**
 * Griffin-Lim with a cached periodic window (torchaudio.transforms.GriffinLim; power-1 magnitudes;
 * Hann by default as torchaudio, 'hamming' for DS2 spectrograms).
 * @example const gl = new GriffinLim({ nFft: 320, hopLength: 160, window: 'hamming', nIter: 60 }); const y = tidy(() => gl.forward(mag));
 */
export class GriffinLim {
  readonly params: GriffinLimParams;
  readonly window: Tensor;

  constructor(c: Partial<Omit<GriffinLimParams, 'nFft'>> & { nFft: number; window?: 'hann' | 'hamming' }) {
    const { window = 'hann', ...rest } = c;
    this.params = { hopLength: Math.floor(c.nFft / 2), center: true, padMode: 'reflect', ...rest };
    const win = c.winLength ?? c.nFft;
    this.window = keep(window === 'hamming' ? hammingWindow(win, true) : hannWindow(win, true));
  }

  forward(magnitude: Tensor, length?: number): Tensor {
    return griffinLim(magnitude, this.window, length === undefined ? this.params : { ...this.params, length });
  }

  dispose(): void {
    this.window.dispose();
  }
}
