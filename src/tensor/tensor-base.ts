// The Tensor class, part 1 of 3: the handle, shape and dtype, data out, autograd, dtype/device moves and
// in-place updates. tensor-math.ts adds elementwise ops, comparisons, reductions and linear algebra;
// tensor.ts adds shapes, indexing and spectra and is the class everyone uses. The parts are generic in
// the concrete class T so that every method returns a Tensor without importing tensor.ts.
import { checkDevice, native, type Handle } from '../binding/native.js';
import { arrayTypeOf, dtypeCode, dtypeFromCode, type DType, type TypedArray } from '../binding/dtype.js';
import { call, OP, type OpId } from '../binding/ops.js';
import { EarmarkError } from '../errors.js';
import { track } from './scope.js';

type H = Handle;

/** The methods every tensor has; see Tensor (tensor.ts). */
export abstract class TensorBase<T extends TensorBase<T>> {
  #h: Handle | null;
  #shape: number[] | undefined;
  #dtype: DType | undefined;

  /** Wrap a native handle (internal: use the factories). */
  constructor(h: Handle) {
    this.#h = h;
    track(this);
  }

  /** The native handle; throws if disposed. */
  get handle(): Handle {
    if (this.#h === null) throw new Error('Tensor is disposed; keep() it or use it before its tidy() scope ends');
    return this.#h;
  }

  get isDisposed(): boolean {
    return this.#h === null;
  }

  /** Free the native tensor now. Idempotent. */
  dispose(): void {
    if (this.#h !== null) {
      native.dispose(this.#h);
      this.#h = null;
    }
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  #info(): void {
    const [shape, code] = native.info(this.handle);
    this.#shape = shape;
    this.#dtype = dtypeFromCode(code);
  }

  get shape(): number[] {
    if (this.#shape === undefined) this.#info();
    return this.#shape!.slice();
  }

  get dtype(): DType {
    if (this.#dtype === undefined) this.#info();
    return this.#dtype!;
  }

  get device(): string {
    return native.info(this.handle)[2];
  }

  get ndim(): number {
    if (this.#shape === undefined) this.#info();
    return this.#shape!.length;
  }

  get numel(): number {
    if (this.#shape === undefined) this.#info();
    return this.#shape!.reduce((a, b) => a * b, 1);
  }

  /** Size of dimension `dim` (negative counts from the end). */
  size(dim: number): number {
    const s = this.shape;
    const d = dim < 0 ? dim + s.length : dim;
    if (d < 0 || d >= s.length) throw new RangeError(`'dim' ${dim} is out of range for a ${s.length}-d tensor`);
    return s[d]!;
  }

  toString(): string {
    return this.isDisposed ? 'Tensor(disposed)' : `Tensor(${JSON.stringify(this.shape)}, ${this.dtype})`;
  }

  // ---- data out ----

  /** The elements as a new typed array (copied, contiguous, on CPU). */
  data(): TypedArray {
    const C = arrayTypeOf(this.dtype);
    return new C(native.toBuffer(this.handle));
  }

  /** Float32Array copy (converting if needed). */
  toFloat32Array(): Float32Array {
    if (this.dtype === 'float32') return this.data() as Float32Array;
    const t = this.to('float32');
    try {
      return t.data() as Float32Array;
    } finally {
      t.dispose();
    }
  }

  /** Float64Array copy (converting if needed). */
  toFloat64Array(): Float64Array {
    if (this.dtype === 'float64') return this.data() as Float64Array;
    const t = this.to('float64');
    try {
      return t.data() as Float64Array;
    } finally {
      t.dispose();
    }
  }

  /** Plain JS numbers (int64 converted with Number()). */
  toArray(): number[] {
    const d = this.data();
    return d instanceof BigInt64Array ? Array.from(d, Number) : Array.from(d as ArrayLike<number>);
  }

  /** The single element as a number (a host sync point on accelerators). */
  item(): number {
    const v = native.item(this.handle);
    return typeof v === 'boolean' ? Number(v) : v;
  }

  // ---- autograd ----

  get requiresGrad(): boolean {
    return native.info(this.handle)[3];
  }

  /** Set requires_grad in place; returns this. */
  requiresGrad_(on = true): this {
    native.setRequiresGrad(this.handle, on);
    return this;
  }

  /** Accumulated gradient as a new handle on the same storage, or null. */
  get grad(): T | null {
    const g = native.grad(this.handle);
    return g === null ? null : this.wrapHandle(g);
  }

  /** Replace (or with null, drop) the accumulated gradient. */
  setGrad(g: T | null): void {
    native.setGrad(this.handle, g === null ? null : g.handle);
  }

  /** Backpropagate from this tensor (a scalar unless `gradient` is given). */
  backward(gradient?: T, opts: { retainGraph?: boolean } = {}): void {
    native.backward(this.handle, gradient?.handle ?? null, opts.retainGraph ?? false);
  }

  detach(): T {
    return this.un(OP.detach);
  }

  // ---- dtype and device ----
  /**
   * Convert to a dtype or move to a device ('cpu', 'cuda', 'cuda:1'); a no-op returns a new handle on the same
   * data unless `copy`. `nonBlocking` overlaps a copy from pinned host memory (pinMemory()) with compute.
   */
  to(target: DType | string, opts: { nonBlocking?: boolean; copy?: boolean } = {}): T {
    const nonBlocking = opts.nonBlocking ?? false;
    const copy = opts.copy ?? false;
    if (isDType(target)) return this.wrapHandle(call(OP.toDtype, this.handle, dtypeCode(target), nonBlocking, copy));
    checkDevice(target, 'target');
    return this.wrapHandle(call(OP.toDevice, this.handle, target, dtypeCode(this.dtype), nonBlocking, copy));
  }
  /** A copy in page-locked host memory, so copies to CUDA can be non-blocking (needs a CUDA libtorch). */
  pinMemory(): T {
    if (!native.cudaAvailable()) {
      throw new EarmarkError(
        'EARMARK_DEVICE',
        'pinMemory(): pinned host memory needs a CUDA libtorch and a GPU, and this ' +
          "libtorch has none; keep CPU batches as they are (src/tensor/device.ts's batchTo() pins only for CUDA)",
      );
    }
    return this.un(OP.pinMemory);
  }
  /** True when this tensor lives in pinned (page-locked) host memory. */
  get isPinned(): boolean {
    return call(OP.isPinned, this.handle) as boolean;
  }
  /**
   * Take `src`'s native tensor as this one's, leaving `src` disposed: Module.to() moves parameters in place
   * this way, so layers and optimisers holding this Tensor see the move. Internal.
   */
  adopt_(src: T): this {
    const h = src.handle;
    (src as TensorBase<T>).#h = null;
    if (this.#h !== null && this.#h !== h) native.dispose(this.#h);
    this.#h = h;
    this.#shape = undefined;
    this.#dtype = undefined;
    return this;
  }
  float(): T {
    return this.to('float32');
  }
  double(): T {
    return this.to('float64');
  }
  long(): T {
    return this.to('int64');
  }

  // ---- in place (no autograd history expected; used by optimisers, init and weight loading) ----
  /** this += alpha * o */
  add_(o: T | number, alpha = 1): this {
    return this.inplace(
      typeof o === 'number' ? call(OP.addS_, this.handle, o, alpha) : call(OP.add_, this.handle, o.handle, alpha),
    );
  }
  mul_(o: T | number): this {
    return this.inplace(typeof o === 'number' ? call(OP.mulS_, this.handle, o) : call(OP.mul_, this.handle, o.handle));
  }
  div_(o: T): this {
    return this.inplace(call(OP.div_, this.handle, o.handle));
  }
  /** this += value * a * b */
  addcmul_(a: T, b: T, value = 1): this {
    return this.inplace(call(OP.addcmul_, this.handle, a.handle, b.handle, value));
  }
  /** this += value * a / b */
  addcdiv_(a: T, b: T, value = 1): this {
    return this.inplace(call(OP.addcdiv_, this.handle, a.handle, b.handle, value));
  }
  copy_(src: T): this {
    return this.inplace(call(OP.copy_, this.handle, src.handle, false));
  }
  zero_(): this {
    return this.inplace(call(OP.zero_, this.handle));
  }
  fill_(v: number): this {
    return this.inplace(call(OP.fill_, this.handle, v));
  }
  clamp_(min: number | null, max: number | null = null): this {
    return this.inplace(call(OP.clamp_, this.handle, min, max));
  }
  uniform_(from = 0, to = 1): this {
    return this.inplace(call(OP.uniform_, this.handle, from, to));
  }
  normal_(mean = 0, std = 1): this {
    return this.inplace(call(OP.normal_, this.handle, mean, std));
  }
  lerp_(end: T, weight: number): this {
    return this.inplace(call(OP.lerp_, this.handle, end.handle, weight));
  }
  sqrt_(): this {
    return this.inplace(call(OP.sqrt_, this.handle));
  }

  private inplace(result: Handle): this {
    native.dispose(result); // the op returns self as a new handle; drop it
    return this;
  }

  // ---- helpers for the methods of every part ----

  /** Wrap a result handle as the concrete class. */
  protected abstract wrapHandle(h: Handle): T;

  /** Wrap a result that is a list of handles. */
  protected wrapAll(hs: readonly Handle[]): T[] {
    return hs.map((h) => this.wrapHandle(h));
  }

  /** An op of this tensor alone. */
  protected un(op: OpId<[self: H], H>): T {
    return this.wrapHandle(call(op, this.handle));
  }

  /** An op with a Tensor and a Scalar overload, chosen by `o`; `alpha` only where the op takes it. */
  protected bin(
    opT: OpId<[self: H, other: H, alpha?: number], H>,
    opS: OpId<[self: H, other: number, alpha?: number], H>,
    o: T | number,
    alpha?: number,
  ): T {
    if (typeof o === 'number')
      return this.wrapHandle(alpha === undefined ? call(opS, this.handle, o) : call(opS, this.handle, o, alpha));
    if (!(o instanceof TensorBase)) throw new TypeError(`'other' must be a Tensor or a number, got ${typeof o}`);
    return this.wrapHandle(
      alpha === undefined ? call(opT, this.handle, o.handle) : call(opT, this.handle, o.handle, alpha),
    );
  }
}

/** One dim or a list of them, as the list ATen takes. */
export function dims(d: number | readonly number[]): readonly number[] {
  return typeof d === 'number' ? [d] : d;
}

function isDType(x: string): x is DType {
  return (
    x === 'float32' ||
    x === 'float64' ||
    x === 'int64' ||
    x === 'int32' ||
    x === 'uint8' ||
    x === 'bool' ||
    x === 'complex64' ||
    x === 'bfloat16' ||
    x === 'float16'
  );
}
