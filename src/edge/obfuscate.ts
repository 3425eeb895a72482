// The deployed obfuscation: windowed, so that a stream and a file give the same output.
//
// Why windows: the generator's InstanceNorm layers (and DS2's per-utterance normalisation) use
// statistics over the whole time axis, so a whole-utterance forward can never be reproduced by a
// causal stream. The deployed obfuscator therefore sees windows of W frames (default 128 = the
// training crop length), each normalised on its own:
//   window k covers frames [k·S, k·S + W), S = W − 2M (M = look-ahead frames, default 16);
//   its input is log1p|STFT| normalised per window ((S − mean)/std, unbiased std) — the per-window
//   normalisation; its output is de-normalised with FIXED statistics (outputMean/outputStd, the training
//   set's level in the model's metadata), never the input window's own (a level envelope leaks, issue 11);
//   stitching: window k keeps frames [k·S + M, k·S + M + S) — the first window keeps from frame 0, the
//   last (the first whose end reaches the utterance's N frames) keeps up to N and may be shorter than W.
// Offline and streaming apply exactly this rule, so they agree everywhere; only float rounding differs
// (the offline path batches windows when it makes no audio; with `batch: 1`, its default with audio, they
// agree bit for bit).
// Audio out is synthesised from the obfuscated magnitude ALONE (synthesis.ts): a phase retriever commits
// each window's kept frames reading at most M of that window's context frames, so the audio is final
// as soon as the frames are, and the stream's audio equals the file's. The original STFT phase (which
// carries the input whatever the magnitude says) is only used by the 'unsafe-original-phase' method.
// The algorithmic latency of the stream is ((W − M)·hop + nFft) samples plus one chunk: a kept frame
// needs its window's frames to the end, and one more frame to know the window is not the last.
import { Ds2Frontend, normalizeInPlace, type FrameSpectrum } from './spectrogram.js';
import { WindowSynthesizer, synthesizeWindows, type SynthesisConfig } from './synthesis.js';
import type { FloatArray } from './runtime.js';

/** Anything that maps (B, nFreq, T) → (B, nFreq, T): an OnnxSession's run, or a test double. */
export type ForwardFn = (x: FloatArray) => Promise<FloatArray>;

export interface WindowConfig {
  /** W: frames per window (default 128). */
  windowFrames: number;
  /** M: context frames on each side (default 16); needs W > 2M. */
  lookaheadFrames: number;
  /** The fixed level outputs are de-normalised with (y·outputStd + outputMean; OUTPUT_LEVEL_DEFAULTS if absent). */
  outputMean?: number;
  outputStd?: number;
  /** Full windows run together in batches of this many offline (default 8; 1 when making audio). */
  batch?: number;
}

export const WINDOW_DEFAULTS: WindowConfig = { windowFrames: 128, lookaheadFrames: 16 };

/** The level of models exported without one: log1p|STFT| of speech peaking near −8 dBFS (built-in corpus). */
export const OUTPUT_LEVEL_DEFAULTS = { mean: 0.1, std: 0.27 } as const;

/** The fixed (mean, std) a window config de-normalises with. */
export function outputLevel(w: WindowConfig): { mean: number; std: number } {
  return { mean: w.outputMean ?? OUTPUT_LEVEL_DEFAULTS.mean, std: w.outputStd ?? OUTPUT_LEVEL_DEFAULTS.std };
}

export function checkWindow(w: WindowConfig): void {
  const { windowFrames: W, lookaheadFrames: M } = w;
  if (!Number.isInteger(W) || W < 4) throw new RangeError(`'windowFrames' must be an integer >= 4, got ${W}`);
  if (!Number.isInteger(M) || M < 0 || W - 2 * M < 1)
    throw new RangeError(`'lookaheadFrames' must be an integer with 0 <= M < W/2 = ${W / 2}, got ${M}`);
  const { mean, std } = outputLevel(w);
  if (!Number.isFinite(mean) || !(std > 0 && Number.isFinite(std)))
    throw new RangeError(`'outputMean'/'outputStd' must be finite with outputStd > 0, got ${mean}/${std}`);
}

/** Worst-case algorithmic latency in samples for a chunk size (see the file header). */
export function algorithmicLatency(w: WindowConfig, chunkSamples: number, hop = 160, nFft = 320): number {
  return (w.windowFrames - w.lookaheadFrames) * hop + nFft + chunkSamples;
}

/** One window of the stitching plan: frames [start, end) in, [keepFrom, keepTo) kept. */
export interface WindowSpan {
  start: number;
  end: number;
  keepFrom: number;
  keepTo: number;
}

/**
 * The stitching plan for N frames.
 * @example windowPlan(300, { windowFrames: 128, lookaheadFrames: 16 }) // [0,128) keep [0,112); [96,224) keep [112,208); [192,300) keep [208,300)
 */
export function windowPlan(n: number, w: WindowConfig): WindowSpan[] {
  checkWindow(w);
  const { windowFrames: W, lookaheadFrames: M } = w;
  const S = W - 2 * M;
  const out: WindowSpan[] = [];
  for (let k = 0; ; k++) {
    const start = k * S;
    const last = start + W >= n;
    out.push({ start, end: last ? n : start + W, keepFrom: k === 0 ? 0 : start + M, keepTo: last ? n : start + M + S });
    if (last) return out;
  }
}

/** Copy frames [from, to) of a (nFreq, frames) block into a new (nFreq, to − from) block. */
function sliceFrames(src: Float32Array, nFreq: number, frames: number, from: number, to: number): Float32Array {
  const len = to - from;
  const out = new Float32Array(nFreq * len);
  for (let f = 0; f < nFreq; f++) out.set(src.subarray(f * frames + from, f * frames + to), f * len);
  return out;
}

/** Result of an offline obfuscation. */
export interface ObfuscatedUtterance {
  /** Obfuscated log1p|STFT|, (nFreq, frames) row-major (de-normalised). */
  logMag: Float32Array;
  frames: number;
  nFreq: number;
  /** Audio synthesised from `logMag` alone (same length as the input), when requested. */
  audio?: Float32Array;
  /** Samples of `audio` the soft limiter touched (level.ts). */
  limitedSamples?: number;
  /** The largest gain reduction the level control applied, in dB (0: none). */
  gainDb?: number;
}

/**
 * The windowed rule on a spectrogram already computed: `spec` (nFreq, frames) row-major in any affine
 * units (log1p|STFT|, or DS2's per-utterance normalised features: per-window normalisation removes
 * the difference); returns the obfuscated log1p|STFT| (de-normalised with the fixed output level), what
 * the sensor serves. Normalise it per utterance (as an app does) before a DS2 model.
 * @example const y = await obfuscateSpectrogram((x) => session.run(x), spec, 161, frames);
 */
export async function obfuscateSpectrogram(
  forward: ForwardFn,
  spec: Float32Array,
  nFreq: number,
  n: number,
  w: WindowConfig = WINDOW_DEFAULTS,
): Promise<Float32Array> {
  return (await obfuscateWindowed(forward, spec, nFreq, n, w, 0)).logMag;
}

/**
 * obfuscateSpectrogram, plus each window's first `contextFrames` output frames after the ones it keeps
 * (frame-major, nFreq values each; none for the last window): what a phase retriever may look ahead to.
 */
export async function obfuscateWindowed(
  forward: ForwardFn,
  spec: Float32Array,
  nFreq: number,
  n: number,
  w: WindowConfig,
  contextFrames: number,
): Promise<{ logMag: Float32Array; plan: WindowSpan[]; contexts: Float32Array[][] }> {
  if (spec.length !== nFreq * n)
    throw new RangeError(`'spec' holds ${spec.length} values, not nFreq·frames = ${nFreq}·${n}`);
  const out = new Float32Array(nFreq * n);
  const plan = windowPlan(n, w);
  const contexts: Float32Array[][] = plan.map(() => []);
  // group windows of equal length into batches
  const groups = new Map<number, number[]>();
  plan.forEach((s, i) => groups.set(s.end - s.start, [...(groups.get(s.end - s.start) ?? []), i]));
  const batch = w.batch ?? 8;
  checkWindow(w);
  const { mean, std } = outputLevel(w);
  for (const [len, spans] of groups) {
    for (let i = 0; i < spans.length; i += batch) {
      const part = spans.slice(i, i + batch);
      const x = new Float32Array(part.length * nFreq * len);
      part.forEach((k, b) => {
        const block = sliceFrames(spec, nFreq, n, plan[k]!.start, plan[k]!.end);
        normalizeInPlace(block); // the input's statistics stay here: they never reach the output
        x.set(block, b * nFreq * len);
      });
      const y = await forward({ data: x, dims: [part.length, nFreq, len] });
      part.forEach((k, b) => {
        const s = plan[k]!;
        const at = (f: number, t: number): number => y.data[b * nFreq * len + f * len + (t - s.start)]! * std + mean;
        for (let f = 0; f < nFreq; f++) for (let t = s.keepFrom; t < s.keepTo; t++) out[f * n + t] = at(f, t);
        for (let t = s.keepTo; t < Math.min(s.end, s.keepTo + contextFrames); t++)
          contexts[k]!.push(Float32Array.from({ length: nFreq }, (_, f) => at(f, t)));
      });
    }
  }
  return { logMag: out, plan, contexts };
}

/**
 * Obfuscate a whole waveform (16 kHz mono) with the windowed rule; the audio is synthesised from the
 * obfuscated magnitude alone (`synthesis`: SYNTHESIS_DEFAULTS unless given), exactly as a stream does.
 * @example const { audio } = await obfuscateOffline((x) => session.run(x), samples, WINDOW_DEFAULTS, true);
 */
export async function obfuscateOffline(
  forward: ForwardFn,
  samples: Float32Array,
  w: WindowConfig = WINDOW_DEFAULTS,
  audio = true,
  synthesis: Partial<SynthesisConfig> = {},
): Promise<ObfuscatedUtterance> {
  checkWindow(w);
  const fe = new Ds2Frontend();
  const nFreq = fe.nFreq;
  if (samples.length <= fe.nFft / 2)
    throw new RangeError(
      `'samples' has ${samples.length} samples; the DS2 front-end needs more than ${fe.nFft / 2} (10 ms)`,
    );
  const { logMag, phase, frames: n } = fe.analyze(samples);
  const context = audio ? new WindowSynthesizer(synthesis).contextFrames : 0;
  // with audio, windows run one at a time like a stream's: phase retrieval can turn a last-bit difference
  // (a batched kernel) into a sign flip after a quiet passage, so only identical arithmetic gives equal audio
  const r = await obfuscateWindowed(forward, logMag, nFreq, n, audio ? { ...w, batch: w.batch ?? 1 } : w, context);
  const result: ObfuscatedUtterance = { logMag: r.logMag, frames: n, nFreq };
  if (audio) {
    const spans = r.plan.map((s, k) => ({ keepFrom: s.keepFrom, keepTo: s.keepTo, context: r.contexts[k]! }));
    const unsafe = synthesis.method === 'unsafe-original-phase';
    const a = synthesizeWindows(r.logMag, nFreq, n, spans, samples.length, synthesis, unsafe ? phase : undefined);
    result.audio = a.audio;
    result.limitedSamples = a.limitedSamples;
    result.gainDb = a.minGainDb;
  }
  return result;
}

/** What a stream hands out after each push: obfuscated frames (log1p|STFT|, frame-major) and/or audio. */
export interface StreamOutput {
  /** Obfuscated frames, each nFreq values, frame after frame ((frames, nFreq) row-major). */
  frames: Float32Array;
  frameCount: number;
  /** Finished audio samples (when the stream makes audio), synthesised from the obfuscated magnitude alone. */
  audio: Float32Array;
  /** Samples of `audio` the soft limiter touched (0 when nothing came near full scale). */
  limitedSamples: number;
}

export interface StreamingOptions {
  /** Make audio (default true); false hands out frames only. */
  audio?: boolean;
  /** How the audio is synthesised (default SYNTHESIS_DEFAULTS). */
  synthesis?: Partial<SynthesisConfig>;
}

/**
 * The streaming obfuscator: push 16 kHz mono samples as they arrive, get obfuscated frames and audio
 * back as soon as the windowed rule fixes them; `end()` flushes the edges. Equals obfuscateOffline.
 * @example
 * const s = new StreamingObfuscator((x) => session.run(x));
 * for await (const chunk of pcm) write((await s.push(chunk)).audio);
 * write((await s.end()).audio);
 */
export class StreamingObfuscator {
  readonly config: WindowConfig;
  readonly #forward: ForwardFn;
  readonly #fe = new Ds2Frontend();
  readonly #audio: boolean;
  readonly #syn: WindowSynthesizer;
  /** The original phase is kept only for the unsafe method. */
  readonly #keepPhase: boolean;
  /** Samples from absolute index #sampleBase on. */
  #samples = new Float32Array(0);
  #sampleBase = 0;
  #received = 0;
  /** Spectrum frames from absolute frame #frameBase on, frame-major (nFreq each). */
  #logMag: number[][] = [];
  #phase: number[][] = [];
  #frameBase = 0;
  /** Next window index and next frame to emit. */
  #k = 0;
  #emitted = 0;
  #ended = false;

  constructor(forward: ForwardFn, w: WindowConfig = WINDOW_DEFAULTS, opts: StreamingOptions = {}) {
    checkWindow(w);
    this.config = w;
    this.#forward = forward;
    this.#audio = opts.audio ?? true;
    this.#syn = new WindowSynthesizer(opts.synthesis);
    this.#keepPhase = this.#audio && this.#syn.config.method === 'unsafe-original-phase';
  }

  /** How the audio is synthesised. */
  get synthesis(): SynthesisConfig {
    return this.#syn.config;
  }

  /** The largest gain reduction the level control applied so far, in dB (0: none). */
  get gainDb(): number {
    return this.#syn.minGainDb;
  }

  /** Samples received so far. */
  get received(): number {
    return this.#received;
  }

  async push(chunk: Float32Array): Promise<StreamOutput> {
    if (this.#ended) throw new RangeError('push() after end(): start a new StreamingObfuscator');
    for (const v of chunk)
      if (!Number.isFinite(v))
        throw new RangeError('the stream holds a NaN or infinite sample; is it really PCM audio?');
    const merged = new Float32Array(this.#samples.length + chunk.length);
    merged.set(this.#samples);
    merged.set(chunk, this.#samples.length);
    this.#samples = merged;
    this.#received += chunk.length;
    // frames whose samples are all here (no right-edge reflection): t·hop + nFft/2 <= received
    const fe = this.#fe;
    // (frame 0's left reflection reads sample nFft/2, so nothing is ready before nFft/2 + 1 samples)
    const ready = this.#received <= fe.nFft / 2 ? 0 : Math.floor((this.#received - fe.nFft / 2) / fe.hop) + 1;
    this.#analyze(ready, Infinity);
    return this.#run(false);
  }

  /** The stream is over: compute the last frames (reflect padding at the end) and flush everything. */
  async end(): Promise<StreamOutput> {
    if (this.#ended) throw new RangeError('end() called twice');
    this.#ended = true;
    const fe = this.#fe;
    if (this.#received <= fe.nFft / 2) {
      throw new RangeError(
        `the stream ended after ${this.#received} samples; the DS2 front-end needs more than ${fe.nFft / 2} (10 ms of 16 kHz audio)`,
      );
    }
    this.#analyze(fe.frameCount(this.#received), this.#received);
    return this.#run(true);
  }

  #analyze(upTo: number, total: number): void {
    const fe = this.#fe;
    const have = this.#frameBase + this.#logMag.length;
    const spec: FrameSpectrum = { logMag: new Float32Array(fe.nFreq), phase: new Float32Array(fe.nFreq) };
    for (let t = have; t < upTo; t++) {
      fe.frame(this.#samples, t, spec, 0, 1, this.#sampleBase, total === Infinity ? Number.MAX_SAFE_INTEGER : total);
      this.#logMag.push(Array.from(spec.logMag));
      if (this.#keepPhase) this.#phase.push(Array.from(spec.phase));
    }
    // keep samples from the first frame still to be computed (its left edge) on
    const keepFrom = Math.max(0, upTo * fe.hop - fe.nFft / 2 - fe.hop);
    if (keepFrom > this.#sampleBase + 4 * fe.nFft) {
      this.#samples = this.#samples.slice(keepFrom - this.#sampleBase);
      this.#sampleBase = keepFrom;
    }
  }

  async #run(final: boolean): Promise<StreamOutput> {
    const { windowFrames: W, lookaheadFrames: M } = this.config;
    const S = W - 2 * M;
    const nFreq = this.#fe.nFreq;
    const have = this.#frameBase + this.#logMag.length;
    const frames: number[] = [];
    const audio: Float32Array[] = [];
    let count = 0;
    let limited = 0;
    for (;;) {
      const start = this.#k * S;
      // a full window is processed once one more frame exists (so it is certainly not the last)
      const last = final && start + W >= have;
      if (!last && !(have > start + W)) break;
      const end = last ? have : start + W;
      const len = end - start;
      const block = new Float32Array(nFreq * len);
      for (let t = 0; t < len; t++) {
        const col = this.#logMag[start + t - this.#frameBase]!;
        for (let f = 0; f < nFreq; f++) block[f * len + t] = col[f]!;
      }
      normalizeInPlace(block); // the input's statistics stay here: they never reach the output
      const { mean, std } = outputLevel(this.config);
      const y = await this.#forward({ data: block, dims: [1, nFreq, len] });
      const keepFrom = this.#k === 0 ? 0 : start + M;
      const keepTo = last ? have : start + M + S;
      const column = (t: number): Float32Array =>
        Float32Array.from({ length: nFreq }, (_, f) => y.data[f * len + (t - start)]! * std + mean);
      const kept: Float32Array[] = [];
      for (let t = keepFrom; t < keepTo; t++) {
        const frame = column(t);
        for (const v of frame) frames.push(v);
        kept.push(frame);
        count++;
      }
      if (this.#audio) {
        const context: Float32Array[] = [];
        for (let t = keepTo; t < Math.min(end, keepTo + this.#syn.contextFrames); t++) context.push(column(t));
        const phase = this.#keepPhase ? kept.map((_, i) => this.#phase[keepFrom + i - this.#frameBase]!) : undefined;
        const a = this.#syn.push(kept, context, phase);
        audio.push(a.audio);
        limited += a.limitedSamples;
      }
      this.#emitted = keepTo;
      this.#k++;
      // drop frames no later window needs
      const nextStart = this.#k * S;
      const drop = Math.min(nextStart, this.#emitted) - this.#frameBase;
      if (drop > 0) {
        this.#logMag.splice(0, drop);
        if (this.#keepPhase) this.#phase.splice(0, drop);
        this.#frameBase += drop;
      }
      if (last) break;
    }
    if (this.#audio && final) {
      const a = this.#syn.finish(this.#received);
      audio.push(a.audio);
      limited += a.limitedSamples;
    }
    const out = new Float32Array(audio.reduce((n, a) => n + a.length, 0));
    let at = 0;
    for (const a of audio) {
      out.set(a, at);
      at += a.length;
    }
    return { frames: Float32Array.from(frames), frameCount: count, audio: out, limitedSamples: limited };
  }
}
