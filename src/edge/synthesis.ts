// Audio from the obfuscated magnitude alone: what every audio output of the edge path ships.
// The windowed obfuscator (obfuscate.ts) hands over, window after window, the frames it keeps plus the
// window's right context (its M look-ahead frames, not kept: the next window recomputes them). The phase
// retriever commits the kept frames using at most `lookahead` context frames, so no output waits for
// more than the windowed rule already waits for: the phase reconstruction adds no algorithmic latency.
// Offline and streaming feed the same windows in the same order, so they give the same audio.
//
// Output level (level.ts): each released chunk is scaled from its own peak, then soft-limited; both counted.
// The original STFT phase is only available as the explicitly unsafe method 'unsafe-original-phase':
// it carries the input's waveform structure whatever the obfuscated magnitude says.
import { OverlapAdd, Ds2Frontend, ds2SpectrogramTs } from './spectrogram.js';
import { encodePcm16 } from './pcm.js';
import { LevelControl } from './level.js';
import { RtisiLa, Rtpghi, WindowGriffinLim, type PhaseRetriever } from './phase.js';

export type PhaseMethod = 'rtisi-la' | 'rtpghi' | 'gla' | 'unsafe-original-phase';

export const PHASE_METHODS: readonly PhaseMethod[] = ['rtisi-la', 'rtpghi', 'gla', 'unsafe-original-phase'];

export interface SynthesisConfig {
  /** How the phase is made (default 'rtisi-la', chosen by measurement: docs/methods.md, deployment). */
  method: PhaseMethod;
  /** RTISI-LA: iterations per committed frame; GLA: iterations per window. */
  iterations: number;
  /** Context frames the retriever may read past a window's kept frames (RTISI-LA's L; RTPGHI uses 1). */
  lookahead: number;
}

export const SYNTHESIS_DEFAULTS: SynthesisConfig = { method: 'rtisi-la', iterations: 8, lookahead: 3 };

/** Defaults per method when only the method is given. */
export const SYNTHESIS_PRESETS: Record<PhaseMethod, SynthesisConfig> = {
  'rtisi-la': SYNTHESIS_DEFAULTS,
  rtpghi: { method: 'rtpghi', iterations: 0, lookahead: 1 },
  gla: { method: 'gla', iterations: 32, lookahead: 16 },
  'unsafe-original-phase': { method: 'unsafe-original-phase', iterations: 0, lookahead: 0 },
};

/** Method preset ← overrides, validated. */
export function resolveSynthesisConfig(o: Partial<SynthesisConfig> = {}): SynthesisConfig {
  const method = o.method ?? SYNTHESIS_DEFAULTS.method;
  if (!PHASE_METHODS.includes(method))
    throw new RangeError(`'method' must be one of ${PHASE_METHODS.join(', ')}, got '${String(method)}'`);
  const c = {
    ...SYNTHESIS_PRESETS[method],
    ...Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)),
  } as SynthesisConfig;
  if (!Number.isInteger(c.iterations) || c.iterations < 0)
    throw new RangeError(`'iterations' must be an integer >= 0, got ${c.iterations}`);
  if (!Number.isInteger(c.lookahead) || c.lookahead < 0)
    throw new RangeError(`'lookahead' must be an integer >= 0, got ${c.lookahead}`);
  return c;
}

/** The retriever a config asks for (null for the unsafe original phase). */
export function makeRetriever(c: SynthesisConfig, n = 320): PhaseRetriever | null {
  switch (c.method) {
    case 'rtisi-la':
      return new RtisiLa({ n, lookahead: c.lookahead, iterations: Math.max(1, c.iterations) });
    case 'rtpghi':
      return new Rtpghi({ n });
    case 'gla':
      return new WindowGriffinLim({ n, lookahead: c.lookahead, iterations: Math.max(1, c.iterations) });
    case 'unsafe-original-phase':
      return null;
  }
}

/** Audio made by a synthesizer push, how many of its samples the limiter touched, and the largest gain reduction. */
export interface SynthesizedAudio {
  audio: Float32Array;
  limitedSamples: number;
  /** The smallest gain applied so far, in dB (0: never scaled). */
  minGainDb: number;
}

/**
 * Window-by-window synthesis from obfuscated log1p|STFT| frames: phase retrieval, overlap-add (the
 * torch.istft rule) and the level control (level.ts). One instance per stream or file.
 * @example
 * const syn = new WindowSynthesizer();
 * for (const w of windows) write(syn.push(w.kept, w.context).audio);
 * write(syn.finish(totalSamples).audio);
 */
export class WindowSynthesizer {
  readonly config: SynthesisConfig;
  readonly #fe = new Ds2Frontend();
  readonly #ola: OverlapAdd;
  readonly #retriever: PhaseRetriever | null;
  readonly #level: LevelControl | null;

  /** `opts.limit: false` skips the level control (measurements only: 16-bit encoding then hard-clips). */
  constructor(config: Partial<SynthesisConfig> = {}, opts: { limit?: boolean } = {}) {
    this.config = resolveSynthesisConfig(config);
    this.#level = opts.limit === false ? null : new LevelControl();
    this.#ola = new OverlapAdd(this.#fe);
    this.#retriever = makeRetriever(this.config, this.#fe.nFft);
  }

  /** Context frames after each window's kept frames that the retriever reads. */
  get contextFrames(): number {
    return this.#retriever === null ? 0 : Math.min(this.config.lookahead, this.#retriever.lookahead);
  }

  /**
   * Add one window's kept frames (obfuscated log1p|STFT|, nFreq values each, in order) and its context
   * frames; returns the audio samples that are final now. `originalPhase` (one per kept frame) is read
   * only by the 'unsafe-original-phase' method, which needs it.
   */
  push(
    kept: ArrayLike<number>[],
    context: ArrayLike<number>[] = [],
    originalPhase?: ArrayLike<number>[],
  ): SynthesizedAudio {
    const mag = (f: ArrayLike<number>): Float64Array => Float64Array.from(f, (v) => Math.max(Math.expm1(v), 0));
    const mags = kept.map(mag);
    let phases: ArrayLike<number>[];
    if (this.#retriever === null) {
      if (originalPhase === undefined || originalPhase.length !== kept.length) {
        throw new RangeError(`the '${this.config.method}' method needs the original phase of every kept frame`);
      }
      phases = originalPhase;
    } else phases = this.#retriever.retrieve(mags, context.slice(0, this.contextFrames).map(mag));
    for (let i = 0; i < mags.length; i++) this.#ola.push(mags[i]!, phases[i]!);
    return this.#limitAudio(this.#ola.take());
  }

  /** The stream is over: the remaining samples up to the input's length. */
  finish(totalLength: number): SynthesizedAudio {
    return this.#limitAudio(this.#ola.take(true, totalLength));
  }

  /** Samples the limiter touched so far. */
  get limitedSamples(): number {
    return this.#level?.limitedSamples ?? 0;
  }

  /** The largest gain reduction so far, in dB (0 or negative). */
  get minGainDb(): number {
    return this.#level?.minGainDb ?? 0;
  }

  #limitAudio(audio: Float32Array): SynthesizedAudio {
    const limitedSamples = this.#level?.apply(audio) ?? 0;
    return { audio, limitedSamples, minGainDb: this.minGainDb };
  }
}

/**
 * Phase-free audio from a whole obfuscated log1p|STFT| (nFreq, frames) row-major, cut into the windowed
 * rule's pieces as a stream would be: `spans` lists each window's kept frames [keepFrom, keepTo) and the
 * context frames that window produced ((nFreq values each) after keepTo). See obfuscateOffline, which
 * calls this with its windows; without context frames (a spectrogram from elsewhere) pass `[]`.
 * @example const { audio } = synthesizeWindows(logMag, 161, frames, spans, samples.length);
 */
export function synthesizeWindows(
  logMag: Float32Array,
  nFreq: number,
  frames: number,
  spans: { keepFrom: number; keepTo: number; context: Float32Array[] }[],
  length: number,
  config: Partial<SynthesisConfig> = {},
  originalPhase?: Float32Array,
  opts: { limit?: boolean } = {},
): SynthesizedAudio {
  if (logMag.length !== nFreq * frames)
    throw new RangeError(`'logMag' holds ${logMag.length} values, not nFreq·frames = ${nFreq}·${frames}`);
  const syn = new WindowSynthesizer(config, opts);
  const column = (src: Float32Array, t: number): Float32Array => {
    const c = new Float32Array(nFreq);
    for (let f = 0; f < nFreq; f++) c[f] = src[f * frames + t]!;
    return c;
  };
  const parts: Float32Array[] = [];
  for (const s of spans) {
    const ts = Array.from({ length: s.keepTo - s.keepFrom }, (_, i) => s.keepFrom + i);
    const phase = originalPhase ? ts.map((t) => column(originalPhase, t)) : undefined;
    parts.push(
      syn.push(
        ts.map((t) => column(logMag, t)),
        s.context,
        phase,
      ).audio,
    );
  }
  parts.push(syn.finish(length).audio);
  const audio = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    audio.set(p, at);
    at += p.length;
  }
  return { audio, limitedSamples: syn.limitedSamples, minGainDb: syn.minGainDb };
}

/**
 * Phase-free audio from an obfuscated log1p|STFT| (nFreq, frames) made elsewhere (e.g. a whole-utterance
 * libtorch forward): cut by the windowed rule, each window's context being the following frames
 * themselves. The deployed stream's audio is obfuscateOffline's (its contexts are the windows' own
 * look-ahead outputs); this is the closest synthesis when only the stitched spectrogram exists.
 * @example const { audio } = synthesizeLogMagnitude(obfuscated, 161, frames, samples.length);
 */
export function synthesizeLogMagnitude(
  logMag: Float32Array,
  nFreq: number,
  frames: number,
  length: number,
  config: Partial<SynthesisConfig> = {},
  window: { windowFrames: number; lookaheadFrames: number } = { windowFrames: 128, lookaheadFrames: 16 },
): SynthesizedAudio {
  const { windowFrames: W, lookaheadFrames: M } = window;
  if (!(Number.isInteger(W) && Number.isInteger(M) && M >= 0 && W - 2 * M >= 1))
    throw new RangeError(`'window' must have integers W > 2M >= 0, got W=${W}, M=${M}`);
  const S = W - 2 * M;
  const ctx = Math.min(M, new WindowSynthesizer(config).contextFrames);
  const spans: { keepFrom: number; keepTo: number; context: Float32Array[] }[] = [];
  for (let k = 0; ; k++) {
    const last = k * S + W >= frames;
    const keepFrom = k === 0 ? 0 : k * S + M;
    const keepTo = last ? frames : k * S + M + S;
    const column = (t: number): Float32Array => Float32Array.from({ length: nFreq }, (_, f) => logMag[f * frames + t]!);
    const context = last ? [] : Array.from({ length: ctx }, (_, i) => column(keepTo + i));
    spans.push({ keepFrom, keepTo, context });
    if (last) break;
  }
  return synthesizeWindows(logMag, nFreq, frames, spans, length, config);
}

/** DS2 features of received audio, and its un-normalised log1p|STFT|, both (nFreq, frames) row-major. */
export interface ReanalyzedAudio {
  spectrogram: Float32Array;
  logMag: Float32Array;
  frames: number;
  mean: number;
  std: number;
}

/**
 * Re-analyse audio as an app that receives it would: 16-bit PCM (s16le bytes, or float samples that
 * are first quantised exactly as the sensor encodes them), then the DS2 front-end with its
 * per-utterance normalisation: the features an app feeds its models, (nFreq, frames) row-major, plus
 * the un-normalised log1p|STFT| for spectral comparisons.
 * @example const { spectrogram, frames } = reanalyzePcm(pcmBytes);
 */
export function reanalyzePcm(pcm: Uint8Array | Float32Array): ReanalyzedAudio {
  const bytes = pcm instanceof Float32Array ? encodePcm16(pcm) : pcm;
  if (bytes.length % 2 !== 0)
    throw new RangeError(`'pcm' holds ${bytes.length} bytes, an odd count: s16le samples are 2 bytes`);
  // (decoded directly: PcmDecoder's container sniffing could take a sample for a '{' or 'RIFF')
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const samples = Float32Array.from({ length: bytes.length / 2 }, (_, i) => dv.getInt16(2 * i, true) / 32768);
  const raw = ds2SpectrogramTs(samples, false);
  const norm = ds2SpectrogramTs(samples, true);
  return {
    spectrogram: norm.spectrogram,
    logMag: raw.spectrogram,
    frames: norm.frames,
    mean: norm.mean,
    std: norm.std,
  };
}

/**
 * Spectral convergence ‖|STFT(y)| − S‖_F / ‖S‖_F of audio `y` against target magnitudes given as
 * log1p|STFT| (nFreq, frames) row-major; 0 means y's spectrogram is exactly the target.
 * @example const sc = spectralConvergence(obfuscated.logMag, obfuscated.audio);
 */
export function spectralConvergence(targetLogMag: Float32Array, y: Float32Array): number {
  const got = new Ds2Frontend().analyze(y).logMag;
  if (got.length !== targetLogMag.length)
    throw new RangeError(`the audio has ${got.length / 161} frames, the target ${targetLogMag.length / 161}`);
  let num = 0;
  let den = 0;
  for (let i = 0; i < got.length; i++) {
    const s = Math.expm1(targetLogMag[i]!);
    num += (Math.expm1(got[i]!) - s) ** 2;
    den += s * s;
  }
  return Math.sqrt(num / Math.max(den, 1e-30));
}
