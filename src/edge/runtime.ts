// The only file that touches onnxruntime-node (transformers.js's rule: all ORT access in one place).
// A session over one float model with one input and one output, its metadata read from the file
// itself (ORT's JS API does not expose metadata_props), and thread / optimisation settings.
import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { EarmarkError } from '../errors.js';
import { decodeModel } from './onnx.js';

export type GraphOptimizationLevel = 'disabled' | 'basic' | 'extended' | 'all';

export interface SessionOptions {
  /** Intra-op threads (default 1: the device budget the benchmark targets). */
  threads?: number;
  /** ORT graph optimisation level (default 'extended': 'all' adds NCHWc layout transforms, which measured slower for this model, whose InstanceNorms break every NCHWc run). */
  optimizationLevel?: GraphOptimizationLevel;
}

/** A float tensor on the JS side: row-major data and its dims. */
export interface FloatArray {
  data: Float32Array;
  dims: number[];
}

/**
 * An ONNX model under onnxruntime: `run` takes one float tensor and returns the first output.
 * @example
 * const obf = await OnnxSession.load('obfuscator.onnx', { threads: 1 });
 * const y = await obf.run({ data: spec, dims: [1, 161, frames] });
 */
export class OnnxSession {
  readonly #session: ort.InferenceSession;
  readonly metadata: Readonly<Record<string, string>>;
  readonly inputName: string;
  readonly outputName: string;
  readonly source: string;
  #closed = false;

  private constructor(session: ort.InferenceSession, metadata: Record<string, string>, source: string) {
    this.#session = session;
    this.metadata = metadata;
    this.source = source;
    this.inputName = session.inputNames[0]!;
    this.outputName = session.outputNames[0]!;
  }

  /** Load from a file path or the model's bytes. */
  static async load(model: string | Uint8Array, opts: SessionOptions = {}): Promise<OnnxSession> {
    const threads = opts.threads ?? 1;
    if (!Number.isInteger(threads) || threads < 1)
      throw new RangeError(`'threads' must be an integer >= 1, got ${threads}`);
    const source = typeof model === 'string' ? model : '<bytes>';
    let bytes: Uint8Array;
    try {
      bytes = typeof model === 'string' ? readFileSync(model) : model;
    } catch (e) {
      throw new EarmarkError(
        'EARMARK_IO',
        `cannot read ONNX model ${source}: ${(e as Error).message}; export one with \`exportObfuscator\``,
      );
    }
    let metadata: Record<string, string>;
    try {
      metadata = decodeModel(bytes).metadata;
    } catch (e) {
      throw new EarmarkError('EARMARK_IO', `${source} is not an ONNX model (${(e as Error).message})`);
    }
    try {
      const session = await ort.InferenceSession.create(bytes, {
        intraOpNumThreads: threads,
        interOpNumThreads: 1,
        executionMode: 'sequential',
        graphOptimizationLevel: opts.optimizationLevel ?? 'extended',
        logSeverityLevel: 3,
      });
      return new OnnxSession(session, metadata, source);
    } catch (e) {
      throw new EarmarkError('EARMARK_IO', `onnxruntime refused ${source}: ${(e as Error).message}`);
    }
  }

  /** Run on one float input; returns the first output. */
  async run(x: FloatArray): Promise<FloatArray> {
    if (this.#closed) throw new EarmarkError('EARMARK_BAD_ARGUMENT', `the session for ${this.source} is closed`);
    const feeds = { [this.inputName]: new ort.Tensor('float32', x.data, x.dims) };
    const out = await this.#session.run(feeds);
    const y = out[this.outputName]!;
    const result = { data: y.data as Float32Array, dims: [...y.dims] };
    for (const t of Object.values(out)) t.dispose();
    return result;
  }

  /** Run and return every output (e.g. calibration taps), by name. */
  async runAll(x: FloatArray): Promise<Record<string, FloatArray>> {
    const out = await this.#session.run({ [this.inputName]: new ort.Tensor('float32', x.data, x.dims) });
    const r: Record<string, FloatArray> = {};
    for (const [k, t] of Object.entries(out)) r[k] = { data: t.data as Float32Array, dims: [...t.dims] };
    return r;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#session.release();
  }
}
