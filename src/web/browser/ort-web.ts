// The only file that touches onnxruntime-web (runtime.ts's rule for the browser): a session over one float
// model with one input and one output on the wasm backend, its runtime files loaded from `wasmBase`
// (served by the sensor itself, never a CDN). One thread by default; more need a cross-origin-isolated
// page (SharedArrayBuffer), and onnxruntime falls back to one thread without it.
import * as ort from 'onnxruntime-web/wasm';
import type { FloatArray } from '../../edge/runtime.js';

export interface WebSessionOptions {
  /** URL of the folder holding ort-wasm-simd-threaded.{mjs,wasm}, ending in '/'. */
  wasmBase: string;
  /** Intra-op threads (default 1). */
  threads?: number;
}

/** WebAssembly SIMD (fixed width): a probe module with `(func (result v128) i32.const 0 i8x16.splat i8x16.popcnt)`. */
const SIMD_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253, 15, 253, 98, 11,
]);

export function hasWasmSimd(): boolean {
  return typeof WebAssembly === 'object' && WebAssembly.validate(SIMD_PROBE);
}

/**
 * An ONNX model under onnxruntime-web (wasm).
 * @example
 * const s = await WebSession.load(bytes, { wasmBase: new URL('ort/', location.href).href });
 * const y = await s.run({ data: spec, dims: [1, 161, 128] });
 */
export class WebSession {
  readonly #session: ort.InferenceSession;
  readonly #input: string;
  readonly #output: string;
  readonly threads: number;
  /** Printable backend, e.g. 'onnxruntime-web 1.30.0 wasm (SIMD), 1 thread'. */
  readonly backend: string;

  private constructor(session: ort.InferenceSession, threads: number) {
    this.#session = session;
    this.#input = session.inputNames[0]!;
    this.#output = session.outputNames[0]!;
    this.threads = threads;
    const plural = threads === 1 ? '' : 's';
    this.backend = `onnxruntime-web ${ort.env.versions.web ?? ''} wasm (SIMD), ${threads} thread${plural}`;
  }

  static async load(model: Uint8Array, opts: WebSessionOptions): Promise<WebSession> {
    const threads = opts.threads ?? 1;
    if (!Number.isInteger(threads) || threads < 1)
      throw new RangeError(`'threads' must be an integer >= 1, got ${threads}`);
    if (!hasWasmSimd()) {
      throw new Error(
        'this browser has no WebAssembly SIMD, which onnxruntime-web 1.19+ requires ' +
          '(Chrome 91+, Firefox 89+, Safari 16.4+)',
      );
    }
    // more than one thread needs SharedArrayBuffer, i.e. a cross-origin-isolated page
    const usable = threads > 1 && !globalThis.crossOriginIsolated ? 1 : threads;
    ort.env.wasm.numThreads = usable;
    ort.env.wasm.simd = true;
    ort.env.wasm.proxy = false; // we already are in a Worker
    ort.env.wasm.wasmPaths = opts.wasmBase;
    ort.env.logLevel = 'error';
    try {
      const session = await ort.InferenceSession.create(model, {
        executionProviders: ['wasm'],
        graphOptimizationLevel: 'extended',
        executionMode: 'sequential',
        logSeverityLevel: 3,
      });
      return new WebSession(session, usable);
    } catch (e) {
      throw new Error(`onnxruntime-web refused the model: ${(e as Error).message}`);
    }
  }

  /** Run on one float input; returns the first output (a copy the caller owns). */
  async run(x: FloatArray): Promise<FloatArray> {
    const out = await this.#session.run({ [this.#input]: new ort.Tensor('float32', x.data, x.dims) });
    const y = out[this.#output]!;
    const result = { data: (y.data as Float32Array).slice(), dims: [...y.dims] };
    for (const t of Object.values(out)) t.dispose();
    return result;
  }

  async close(): Promise<void> {
    await this.#session.release();
  }
}
