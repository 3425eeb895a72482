// Tensor factories, joins, windows and process-wide switches (grad mode, seed, threads).
import { checkDevice, native } from '../binding/native.js';
import { call, OP } from '../binding/ops.js';
import { dtypeCode, dtypeOfArray, type DType, type TypedArray } from '../binding/dtype.js';
import { Tensor, wrap, type Shape } from './tensor.js';

export interface TensorOptions {
  /** Element type (default 'float32'). */
  dtype?: DType;
  /** 'cpu' (default), 'cuda', 'cuda:N' where libtorch has CUDA. */
  device?: string;
  /** Track gradients for this leaf (default false). */
  requiresGrad?: boolean;
}

function finish(t: Tensor, o: TensorOptions): Tensor {
  if (o.requiresGrad) t.requiresGrad_(true);
  return t;
}

function checkShape(shape: Shape, name = 'shape'): void {
  if (!Array.isArray(shape)) throw new TypeError(`'${name}' must be an array of integers, got ${typeof shape}`);
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0)
      throw new RangeError(`'${name}' entries must be integers >= 0, got [${shape.join(', ')}]`);
  }
}

/**
 * A tensor from JS data: a typed array (its dtype unless `opts.dtype` converts), or nested/flat numbers.
 * @example tensor([1, 2, 3, 4], [2, 2]); tensor(new Float64Array(6), [2, 3])
 */
export function tensor(
  data: TypedArray | readonly number[] | readonly (readonly number[])[],
  shape?: Shape,
  opts: TensorOptions = {},
): Tensor {
  let flat: TypedArray;
  let inferred: number[];
  if (ArrayBuffer.isView(data)) {
    flat = data as TypedArray;
    inferred = [flat.length];
  } else if (Array.isArray(data)) {
    const nested = Array.isArray(data[0]);
    const rows = data as readonly (readonly number[])[];
    const values = nested ? rows.flat() : (data as readonly number[]);
    inferred = nested ? [rows.length, rows[0]!.length] : [values.length];
    const dt = opts.dtype ?? 'float32';
    flat =
      dt === 'int64'
        ? BigInt64Array.from(values, (v) => BigInt(v))
        : dt === 'float64'
          ? Float64Array.from(values)
          : dt === 'int32'
            ? Int32Array.from(values)
            : dt === 'uint8' || dt === 'bool'
              ? Uint8Array.from(values)
              : Float32Array.from(values);
  } else {
    throw new TypeError(`'data' must be a typed array or an array of numbers, got ${typeof data}`);
  }
  const s = shape ?? inferred;
  checkShape(s);
  checkDevice(opts.device);
  const natural: DType = ArrayBuffer.isView(data) ? dtypeOfArray(flat) : (opts.dtype ?? 'float32');
  const asDtype: DType = natural === 'uint8' && opts.dtype === 'bool' ? 'bool' : natural;
  const numel = s.reduce((a, b) => a * b, 1);
  if (numel !== flat.length)
    throw new RangeError(`'shape' [${s.join(', ')}] holds ${numel} elements but 'data' has ${flat.length}`);
  let t = wrap(native.fromBuffer(flat, s, dtypeCode(asDtype), opts.device));
  if (opts.dtype !== undefined && opts.dtype !== asDtype) {
    const c = t.to(opts.dtype);
    t.dispose();
    t = c;
  }
  return finish(t, opts);
}

type Factory = typeof OP.zeros; // (size, dtype, layout, device), as ones, empty, randn, rand

function factory(op: Factory, shape: Shape, o: TensorOptions): Tensor {
  checkShape(shape);
  checkDevice(o.device);
  return finish(wrap(call(op, shape, dtypeCode(o.dtype ?? 'float32'), null, o.device ?? null)), o);
}

export const zeros = (shape: Shape, o: TensorOptions = {}): Tensor => factory(OP.zeros, shape, o);
export const ones = (shape: Shape, o: TensorOptions = {}): Tensor => factory(OP.ones, shape, o);
export function full(shape: Shape, value: number, o: TensorOptions = {}): Tensor {
  checkShape(shape);
  checkDevice(o.device);
  return finish(wrap(call(OP.full, shape, value, dtypeCode(o.dtype ?? 'float32'), null, o.device ?? null)), o);
}
export const empty = (shape: Shape, o: TensorOptions = {}): Tensor => factory(OP.empty, shape, o);
/** Standard normal samples from the seeded default generator (see manualSeed). */
export const randn = (shape: Shape, o: TensorOptions = {}): Tensor => factory(OP.randn, shape, o);
/** Uniform [0, 1) samples. */
export const rand = (shape: Shape, o: TensorOptions = {}): Tensor => factory(OP.rand, shape, o);

/** Integers uniform in [low, high) (int64 by default). */
export function randint(low: number, high: number, shape: Shape, o: TensorOptions = {}): Tensor {
  checkDevice(o.device);
  checkShape(shape);
  return wrap(call(OP.randint, low, high, shape, dtypeCode(o.dtype ?? 'int64'), null, o.device ?? null));
}

/** A random permutation of 0..n-1 (int64). */
export function randperm(n: number, o: TensorOptions = {}): Tensor {
  checkDevice(o.device);
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`'n' must be an integer >= 0, got ${n}`);
  return wrap(call(OP.randperm, n, dtypeCode(o.dtype ?? 'int64'), null, o.device ?? null));
}

/**
 * Values from `start` to `end` (exclusive) by `step`; int64 when all arguments are integers, as torch.
 * @example arange(0, 5) // [0, 1, 2, 3, 4]
 */
export function arange(start: number, end?: number, step = 1, o: TensorOptions = {}): Tensor {
  checkDevice(o.device);
  if (end === undefined) [start, end] = [0, start];
  if (step === 0) throw new RangeError("'step' must be non-zero");
  const ints = Number.isInteger(start) && Number.isInteger(end) && Number.isInteger(step);
  const dt = o.dtype ?? (ints ? 'int64' : 'float32');
  return finish(wrap(call(OP.arange, start, end, step, dtypeCode(dt), null, o.device ?? null)), o);
}

export function linspace(start: number, end: number, steps: number, o: TensorOptions = {}): Tensor {
  checkDevice(o.device);
  return finish(wrap(call(OP.linspace, start, end, steps, dtypeCode(o.dtype ?? 'float32'), null, o.device ?? null)), o);
}

export function eye(n: number, o: TensorOptions = {}): Tensor {
  checkDevice(o.device);
  return finish(wrap(call(OP.eye, n, dtypeCode(o.dtype ?? 'float32'), null, o.device ?? null)), o);
}

export const zerosLike = (t: Tensor): Tensor => wrap(call(OP.zerosLike, t.handle));
export const onesLike = (t: Tensor): Tensor => wrap(call(OP.onesLike, t.handle));
export const randnLike = (t: Tensor): Tensor => wrap(call(OP.randnLike, t.handle));
export const randLike = (t: Tensor): Tensor => wrap(call(OP.randLike, t.handle));
export const fullLike = (t: Tensor, v: number): Tensor => wrap(call(OP.fullLike, t.handle, v));

/** Concatenate along an existing dimension. */
export function cat(ts: readonly Tensor[], dim = 0): Tensor {
  if (!Array.isArray(ts) || ts.length === 0) throw new RangeError("'tensors' must be a non-empty array of tensors");
  return wrap(
    call(
      OP.cat,
      ts.map((t) => t.handle),
      dim,
    ),
  );
}

/** Join along a new dimension. */
export function stack(ts: readonly Tensor[], dim = 0): Tensor {
  if (!Array.isArray(ts) || ts.length === 0) throw new RangeError("'tensors' must be a non-empty array of tensors");
  return wrap(
    call(
      OP.stack,
      ts.map((t) => t.handle),
      dim,
    ),
  );
}

/** Bernoulli(p) samples shaped like `t`. */
export const bernoulli = (t: Tensor, p: number): Tensor => wrap(call(OP.bernoulli, t.handle, p));

/** Draw `n` indices per row from (unnormalised) probabilities. */
export const multinomial = (probs: Tensor, n: number, replacement = false): Tensor =>
  wrap(call(OP.multinomial, probs.handle, n, replacement));

/** Hann window, periodic by default as torch.hann_window. */
export function hannWindow(length: number, periodic = true, o: TensorOptions = {}): Tensor {
  checkDevice(o.device);
  return wrap(call(OP.hann, length, periodic, dtypeCode(o.dtype ?? 'float32'), null, o.device ?? null));
}

/** Hamming window (alpha 0.54, beta 0.46), periodic by default as torch.hamming_window. */
export function hammingWindow(length: number, periodic = true, o: TensorOptions = {}): Tensor {
  checkDevice(o.device);
  return wrap(call(OP.hamming, length, periodic, dtypeCode(o.dtype ?? 'float32'), null, o.device ?? null));
}

/**
 * Run `fn` with autograd recording off (torch.no_grad()).
 * @example const y = noGrad(() => model.forward(x));
 */
export function noGrad<T>(fn: () => T): T {
  const prev = native.setGradEnabled(false);
  try {
    return fn();
  } finally {
    native.setGradEnabled(prev);
  }
}

export const isGradEnabled = (): boolean => native.isGradEnabled();

/** Seed libtorch's default generators (CPU and, where present, CUDA). */
export function manualSeed(seed: number): void {
  if (!Number.isInteger(seed) || seed < 0) throw new RangeError(`'seed' must be an integer >= 0, got ${seed}`);
  native.manualSeed(seed);
}

/** Threads libtorch uses for intra-op parallelism (default 2, or env EARMARK_THREADS). */
export function setNumThreads(n: number): void {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`'n' must be an integer >= 1, got ${n}`);
  native.setNumThreads(n);
}
export const getNumThreads = (): number => native.numThreads();
export const cudaAvailable = (): boolean => native.cudaAvailable();
export const libtorchVersion = (): string => native.version();
