// Tensor: one native libtorch tensor handle, with torch-named methods (camelCase). Every method is
// one boxed call into ATen's dispatcher, so autograd, dtype promotion and broadcasting are torch's.
import { checkDevice, native, resolveOps, type Handle } from '../binding/native.js';
import { arrayTypeOf, dtypeCode, dtypeFromCode, type DType, type TypedArray } from '../binding/dtype.js';
import { EarmarkError } from '../errors.js';
import { track } from './scope.js';

const OP = resolveOps({
  addT: 'aten::add.Tensor', addS: 'aten::add.Scalar', subT: 'aten::sub.Tensor', subS: 'aten::sub.Scalar',
  mulT: 'aten::mul.Tensor', mulS: 'aten::mul.Scalar', divT: 'aten::div.Tensor', divS: 'aten::div.Scalar',
  rsubS: 'aten::rsub.Scalar', powS: 'aten::pow.Tensor_Scalar', powT: 'aten::pow.Tensor_Tensor',
  neg: 'aten::neg', abs: 'aten::abs', exp: 'aten::exp', log: 'aten::log', log1p: 'aten::log1p',
  sqrt: 'aten::sqrt', rsqrt: 'aten::rsqrt', sin: 'aten::sin', cos: 'aten::cos', sign: 'aten::sign',
  floor: 'aten::floor', ceil: 'aten::ceil', round: 'aten::round', square: 'aten::square', reciprocal: 'aten::reciprocal',
  atan2: 'aten::atan2', clamp: 'aten::clamp', sigmoid: 'aten::sigmoid', tanh: 'aten::tanh', relu: 'aten::relu',
  leakyRelu: 'aten::leaky_relu', hardtanh: 'aten::hardtanh', softplus: 'aten::softplus', elu: 'aten::elu',
  gelu: 'aten::gelu', silu: 'aten::silu',
  sum: 'aten::sum', sumDim: 'aten::sum.dim_IntList', mean: 'aten::mean', meanDim: 'aten::mean.dim',
  max: 'aten::max', maxDim: 'aten::max.dim', min: 'aten::min', minDim: 'aten::min.dim', maximum: 'aten::maximum',
  minimum: 'aten::minimum', amax: 'aten::amax', amin: 'aten::amin', argmax: 'aten::argmax', argmin: 'aten::argmin',
  varDim: 'aten::var.dim', stdDim: 'aten::std.dim', logsumexp: 'aten::logsumexp', prod: 'aten::prod',
  cumsum: 'aten::cumsum', norm: 'aten::linalg_vector_norm', all: 'aten::all', any: 'aten::any',
  softmax: 'aten::softmax.int', logSoftmax: 'aten::log_softmax.int',
  matmul: 'aten::matmul', mm: 'aten::mm', bmm: 'aten::bmm',
  reshape: 'aten::reshape', view: 'aten::view', permute: 'aten::permute', transpose: 'aten::transpose.int',
  narrow: 'aten::narrow', slice: 'aten::slice.Tensor', select: 'aten::select.int', squeeze: 'aten::squeeze',
  squeezeDim: 'aten::squeeze.dim', unsqueeze: 'aten::unsqueeze', expand: 'aten::expand', flip: 'aten::flip',
  repeat: 'aten::repeat', contiguous: 'aten::contiguous', clone: 'aten::clone', detach: 'aten::detach',
  flatten: 'aten::flatten.using_ints', chunk: 'aten::chunk', split: 'aten::split.Tensor',
  pad: 'aten::pad', indexSelect: 'aten::index_select', gather: 'aten::gather', index: 'aten::index.Tensor',
  maskedFill: 'aten::masked_fill.Scalar', where: 'aten::where.self', whereScalar: 'aten::where.ScalarOther',
  sort: 'aten::sort', topk: 'aten::topk', oneHot: 'aten::one_hot', scatter: 'aten::scatter.src',
  toDtype: 'aten::to.dtype', toDevice: 'aten::to.device', pinMemory: 'aten::pin_memory', isPinned: 'aten::is_pinned',
  eqT: 'aten::eq.Tensor', eqS: 'aten::eq.Scalar', neT: 'aten::ne.Tensor', neS: 'aten::ne.Scalar',
  gtT: 'aten::gt.Tensor', gtS: 'aten::gt.Scalar', ltT: 'aten::lt.Tensor', ltS: 'aten::lt.Scalar',
  geT: 'aten::ge.Tensor', geS: 'aten::ge.Scalar', leT: 'aten::le.Tensor', leS: 'aten::le.Scalar',
  logicalNot: 'aten::logical_not', logicalAnd: 'aten::logical_and', logicalOr: 'aten::logical_or',
  isnan: 'aten::isnan', isfinite: 'aten::isfinite',
  stft: 'aten::stft.center', istft: 'aten::istft', viewAsReal: 'aten::view_as_real', viewAsComplex: 'aten::view_as_complex',
  angle: 'aten::angle', polar: 'aten::polar',
  // in place (optimisers, init, loading weights); results are views of self and are dropped
  add_: 'aten::add_.Tensor', addS_: 'aten::add_.Scalar', mul_: 'aten::mul_.Tensor', mulS_: 'aten::mul_.Scalar',
  div_: 'aten::div_.Tensor', addcmul_: 'aten::addcmul_', addcdiv_: 'aten::addcdiv_', copy_: 'aten::copy_',
  zero_: 'aten::zero_', fill_: 'aten::fill_.Scalar', clamp_: 'aten::clamp_', uniform_: 'aten::uniform_',
  normal_: 'aten::normal_', lerp_: 'aten::lerp_.Scalar', sqrt_: 'aten::sqrt_',
});

export type Shape = readonly number[];
export type ScalarOrTensor = Tensor | number;

/** PyTorch's loss/reduction codes, shared by losses. */
export const REDUCTION = { none: 0, mean: 1, sum: 2 } as const;

/**
 * A libtorch tensor. Create with the factories in `creation.ts`; free with dispose() or tidy().
 * @example const y = tidy(() => x.mul(2).add(1).relu());
 */
export class Tensor {
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
    try { return t.data() as Float32Array; } finally { t.dispose(); }
  }

  /** Float64Array copy (converting if needed). */
  toFloat64Array(): Float64Array {
    if (this.dtype === 'float64') return this.data() as Float64Array;
    const t = this.to('float64');
    try { return t.data() as Float64Array; } finally { t.dispose(); }
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
  get grad(): Tensor | null {
    const g = native.grad(this.handle);
    return g === null ? null : new Tensor(g);
  }

  /** Replace (or with null, drop) the accumulated gradient. */
  setGrad(g: Tensor | null): void {
    native.setGrad(this.handle, g === null ? null : g.handle);
  }

  /** Backpropagate from this tensor (a scalar unless `gradient` is given). */
  backward(gradient?: Tensor, opts: { retainGraph?: boolean } = {}): void {
    native.backward(this.handle, gradient?.handle ?? null, opts.retainGraph ?? false);
  }

  detach(): Tensor { return u(OP.detach, this); }

  // ---- elementwise ----
  add(o: ScalarOrTensor, alpha = 1): Tensor { return bin(OP.addT, OP.addS, this, o, alpha); }
  sub(o: ScalarOrTensor, alpha = 1): Tensor { return bin(OP.subT, OP.subS, this, o, alpha); }
  mul(o: ScalarOrTensor): Tensor { return bin(OP.mulT, OP.mulS, this, o); }
  div(o: ScalarOrTensor): Tensor { return bin(OP.divT, OP.divS, this, o); }
  /** `s - this` */
  rsub(s: number): Tensor { return wrap(native.call(OP.rsubS, this.handle, s)); }
  pow(e: ScalarOrTensor): Tensor { return bin(OP.powT, OP.powS, this, e); }
  neg(): Tensor { return u(OP.neg, this); }
  abs(): Tensor { return u(OP.abs, this); }
  exp(): Tensor { return u(OP.exp, this); }
  log(): Tensor { return u(OP.log, this); }
  log1p(): Tensor { return u(OP.log1p, this); }
  sqrt(): Tensor { return u(OP.sqrt, this); }
  rsqrt(): Tensor { return u(OP.rsqrt, this); }
  sin(): Tensor { return u(OP.sin, this); }
  cos(): Tensor { return u(OP.cos, this); }
  sign(): Tensor { return u(OP.sign, this); }
  floor(): Tensor { return u(OP.floor, this); }
  ceil(): Tensor { return u(OP.ceil, this); }
  round(): Tensor { return u(OP.round, this); }
  square(): Tensor { return u(OP.square, this); }
  reciprocal(): Tensor { return u(OP.reciprocal, this); }
  atan2(o: Tensor): Tensor { return wrap(native.call(OP.atan2, this.handle, o.handle)); }
  clamp(min: number | null, max: number | null = null): Tensor {
    if (min === null && max === null) throw new TypeError("clamp: at least one of 'min' and 'max' must be a number");
    return wrap(native.call(OP.clamp, this.handle, min, max));
  }
  sigmoid(): Tensor { return u(OP.sigmoid, this); }
  tanh(): Tensor { return u(OP.tanh, this); }
  relu(): Tensor { return u(OP.relu, this); }
  leakyRelu(negativeSlope = 0.01): Tensor { return wrap(native.call(OP.leakyRelu, this.handle, negativeSlope)); }
  hardtanh(minVal = -1, maxVal = 1): Tensor { return wrap(native.call(OP.hardtanh, this.handle, minVal, maxVal)); }
  softplus(beta = 1, threshold = 20): Tensor { return wrap(native.call(OP.softplus, this.handle, beta, threshold)); }
  elu(alpha = 1): Tensor { return wrap(native.call(OP.elu, this.handle, alpha)); }
  gelu(): Tensor { return u(OP.gelu, this); }
  silu(): Tensor { return u(OP.silu, this); }
  maximum(o: Tensor): Tensor { return wrap(native.call(OP.maximum, this.handle, o.handle)); }
  minimum(o: Tensor): Tensor { return wrap(native.call(OP.minimum, this.handle, o.handle)); }

  // ---- comparison (bool results) ----
  eq(o: ScalarOrTensor): Tensor { return bin(OP.eqT, OP.eqS, this, o); }
  ne(o: ScalarOrTensor): Tensor { return bin(OP.neT, OP.neS, this, o); }
  gt(o: ScalarOrTensor): Tensor { return bin(OP.gtT, OP.gtS, this, o); }
  lt(o: ScalarOrTensor): Tensor { return bin(OP.ltT, OP.ltS, this, o); }
  ge(o: ScalarOrTensor): Tensor { return bin(OP.geT, OP.geS, this, o); }
  le(o: ScalarOrTensor): Tensor { return bin(OP.leT, OP.leS, this, o); }
  logicalNot(): Tensor { return u(OP.logicalNot, this); }
  logicalAnd(o: Tensor): Tensor { return wrap(native.call(OP.logicalAnd, this.handle, o.handle)); }
  logicalOr(o: Tensor): Tensor { return wrap(native.call(OP.logicalOr, this.handle, o.handle)); }
  isnan(): Tensor { return u(OP.isnan, this); }
  isfinite(): Tensor { return u(OP.isfinite, this); }
  /** `cond ? this : other` elementwise. */
  where(cond: Tensor, other: ScalarOrTensor): Tensor {
    return typeof other === 'number'
      ? wrap(native.call(OP.whereScalar, cond.handle, this.handle, other))
      : wrap(native.call(OP.where, cond.handle, this.handle, other.handle));
  }
  maskedFill(mask: Tensor, value: number): Tensor { return wrap(native.call(OP.maskedFill, this.handle, mask.handle, value)); }

  // ---- reductions ----
  /** Sum over `dim` (all elements when omitted). */
  sum(dim?: number | readonly number[], keepdim = false): Tensor {
    return dim === undefined ? u(OP.sum, this) : wrap(native.call(OP.sumDim, this.handle, dims(dim), keepdim));
  }
  mean(dim?: number | readonly number[], keepdim = false): Tensor {
    return dim === undefined ? u(OP.mean, this) : wrap(native.call(OP.meanDim, this.handle, dims(dim), keepdim));
  }
  /** Max of all elements, or `{ values, indices }` along `dim`. */
  max(): Tensor;
  max(dim: number, keepdim?: boolean): { values: Tensor; indices: Tensor };
  max(dim?: number, keepdim = false): Tensor | { values: Tensor; indices: Tensor } {
    if (dim === undefined) return u(OP.max, this);
    const [values, indices] = wrapAll(native.call(OP.maxDim, this.handle, dim, keepdim));
    return { values: values!, indices: indices! };
  }
  min(): Tensor;
  min(dim: number, keepdim?: boolean): { values: Tensor; indices: Tensor };
  min(dim?: number, keepdim = false): Tensor | { values: Tensor; indices: Tensor } {
    if (dim === undefined) return u(OP.min, this);
    const [values, indices] = wrapAll(native.call(OP.minDim, this.handle, dim, keepdim));
    return { values: values!, indices: indices! };
  }
  amax(dim: number | readonly number[], keepdim = false): Tensor { return wrap(native.call(OP.amax, this.handle, dims(dim), keepdim)); }
  amin(dim: number | readonly number[], keepdim = false): Tensor { return wrap(native.call(OP.amin, this.handle, dims(dim), keepdim)); }
  argmax(dim?: number, keepdim = false): Tensor { return wrap(native.call(OP.argmax, this.handle, dim ?? null, keepdim)); }
  argmin(dim?: number, keepdim = false): Tensor { return wrap(native.call(OP.argmin, this.handle, dim ?? null, keepdim)); }
  /** Variance (unbiased by default, as torch). */
  var(dim?: number | readonly number[], opts: { unbiased?: boolean; keepdim?: boolean } = {}): Tensor {
    return wrap(native.call(OP.varDim, this.handle, dim === undefined ? null : dims(dim), opts.unbiased ?? true, opts.keepdim ?? false));
  }
  std(dim?: number | readonly number[], opts: { unbiased?: boolean; keepdim?: boolean } = {}): Tensor {
    return wrap(native.call(OP.stdDim, this.handle, dim === undefined ? null : dims(dim), opts.unbiased ?? true, opts.keepdim ?? false));
  }
  logsumexp(dim: number | readonly number[], keepdim = false): Tensor { return wrap(native.call(OP.logsumexp, this.handle, dims(dim), keepdim)); }
  prod(): Tensor { return u(OP.prod, this); }
  cumsum(dim: number): Tensor { return wrap(native.call(OP.cumsum, this.handle, dim)); }
  /** Vector p-norm over `dim` (all elements by default). */
  norm(p = 2, dim?: number | readonly number[], keepdim = false): Tensor {
    return wrap(native.call(OP.norm, this.handle, p, dim === undefined ? null : dims(dim), keepdim));
  }
  all(): Tensor { return u(OP.all, this); }
  any(): Tensor { return u(OP.any, this); }
  softmax(dim: number): Tensor { return wrap(native.call(OP.softmax, this.handle, dim)); }
  logSoftmax(dim: number): Tensor { return wrap(native.call(OP.logSoftmax, this.handle, dim)); }
  sort(dim = -1, descending = false): { values: Tensor; indices: Tensor } {
    const [values, indices] = wrapAll(native.call(OP.sort, this.handle, dim, descending));
    return { values: values!, indices: indices! };
  }
  topk(k: number, dim = -1, largest = true): { values: Tensor; indices: Tensor } {
    const [values, indices] = wrapAll(native.call(OP.topk, this.handle, k, dim, largest, true));
    return { values: values!, indices: indices! };
  }

  // ---- linear algebra ----
  matmul(o: Tensor): Tensor { return wrap(native.call(OP.matmul, this.handle, o.handle)); }
  mm(o: Tensor): Tensor { return wrap(native.call(OP.mm, this.handle, o.handle)); }
  bmm(o: Tensor): Tensor { return wrap(native.call(OP.bmm, this.handle, o.handle)); }

  // ---- shape ----
  reshape(shape: Shape): Tensor { return wrap(native.call(OP.reshape, this.handle, shape)); }
  view(shape: Shape): Tensor { return wrap(native.call(OP.view, this.handle, shape)); }
  permute(order: Shape): Tensor { return wrap(native.call(OP.permute, this.handle, order)); }
  transpose(dim0: number, dim1: number): Tensor { return wrap(native.call(OP.transpose, this.handle, dim0, dim1)); }
  /** `length` elements of `dim` from `start` (a view). */
  narrow(dim: number, start: number, length: number): Tensor { return wrap(native.call(OP.narrow, this.handle, dim, start, length)); }
  /** Python's `x[..., start:end:step]` along `dim` (a view); `end` may be omitted. */
  slice(dim: number, start: number | null = null, end: number | null = null, step = 1): Tensor {
    return wrap(native.call(OP.slice, this.handle, dim, start, end, step));
  }
  /** `x[..., index]` along `dim`, removing it (a view). */
  select(dim: number, index: number): Tensor { return wrap(native.call(OP.select, this.handle, dim, index)); }
  squeeze(dim?: number): Tensor { return dim === undefined ? u(OP.squeeze, this) : wrap(native.call(OP.squeezeDim, this.handle, dim)); }
  unsqueeze(dim: number): Tensor { return wrap(native.call(OP.unsqueeze, this.handle, dim)); }
  expand(shape: Shape): Tensor { return wrap(native.call(OP.expand, this.handle, shape, false)); }
  flip(dimsToFlip: number | readonly number[]): Tensor { return wrap(native.call(OP.flip, this.handle, dims(dimsToFlip))); }
  repeat(reps: Shape): Tensor { return wrap(native.call(OP.repeat, this.handle, reps)); }
  flatten(startDim = 0, endDim = -1): Tensor { return wrap(native.call(OP.flatten, this.handle, startDim, endDim)); }
  contiguous(): Tensor { return u(OP.contiguous, this); }
  clone(): Tensor { return u(OP.clone, this); }
  chunk(chunks: number, dim = 0): Tensor[] { return wrapAll(native.call(OP.chunk, this.handle, chunks, dim)); }
  split(size: number, dim = 0): Tensor[] { return wrapAll(native.call(OP.split, this.handle, size, dim)); }
  /**
   * Pad the last dimensions, torch.nn.functional.pad order: `[left, right, top, bottom, ...]`.
   * @param mode 'constant' | 'reflect' | 'replicate' | 'circular'
   */
  pad(widths: Shape, mode: 'constant' | 'reflect' | 'replicate' | 'circular' = 'constant', value = 0): Tensor {
    return wrap(native.call(OP.pad, this.handle, widths, mode, mode === 'constant' ? value : null));
  }
  indexSelect(dim: number, index: Tensor): Tensor { return wrap(native.call(OP.indexSelect, this.handle, dim, index.handle)); }
  gather(dim: number, index: Tensor): Tensor { return wrap(native.call(OP.gather, this.handle, dim, index.handle, false)); }
  scatter(dim: number, index: Tensor, src: Tensor): Tensor { return wrap(native.call(OP.scatter, this.handle, dim, index.handle, src.handle)); }
  /** Advanced indexing `x[i0, i1, ...]` with index tensors (null keeps a dimension whole). */
  index(indices: readonly (Tensor | null)[]): Tensor {
    return wrap(native.call(OP.index, this.handle, indices.map((t) => (t === null ? null : t.handle))));
  }
  oneHot(numClasses = -1): Tensor { return wrap(native.call(OP.oneHot, this.handle, numClasses)); }

  // ---- dtype and device ----
  /**
   * Convert to a dtype or move to a device ('cpu', 'cuda', 'cuda:1'); a no-op returns a new handle on the same
   * data unless `copy`. `nonBlocking` overlaps a copy from pinned host memory (pinMemory()) with compute.
   */
  to(target: DType | string, opts: { nonBlocking?: boolean; copy?: boolean } = {}): Tensor {
    const nonBlocking = opts.nonBlocking ?? false;
    const copy = opts.copy ?? false;
    if (isDType(target)) return wrap(native.call(OP.toDtype, this.handle, dtypeCode(target), nonBlocking, copy));
    checkDevice(target, 'target');
    return wrap(native.call(OP.toDevice, this.handle, target, dtypeCode(this.dtype), nonBlocking, copy));
  }
  /** A copy in page-locked host memory, so copies to CUDA can be non-blocking (needs a CUDA libtorch). */
  pinMemory(): Tensor {
    if (!native.cudaAvailable()) {
      throw new EarmarkError('EARMARK_DEVICE', 'pinMemory(): pinned host memory needs a CUDA libtorch and a GPU, and this ' +
        "libtorch has none; keep CPU batches as they are (src/tensor/device.ts's batchTo() pins only for CUDA)");
    }
    return u(OP.pinMemory, this);
  }
  /** True when this tensor lives in pinned (page-locked) host memory. */
  get isPinned(): boolean { return native.call(OP.isPinned, this.handle) as boolean; }
  /**
   * Take `src`'s native tensor as this one's, leaving `src` disposed: Module.to() moves parameters in place
   * this way, so layers and optimisers holding this Tensor see the move. Internal.
   */
  adopt_(src: Tensor): this {
    const h = src.handle;
    src.#h = null;
    if (this.#h !== null && this.#h !== h) native.dispose(this.#h);
    this.#h = h;
    this.#shape = undefined;
    this.#dtype = undefined;
    return this;
  }
  float(): Tensor { return this.to('float32'); }
  double(): Tensor { return this.to('float64'); }
  long(): Tensor { return this.to('int64'); }

  // ---- spectral ----
  /**
   * Short-time Fourier transform of (..., time) signals, returned as real pairs (..., freq, frames, 2).
   * Same defaults as torch.stft with return_complex=True followed by view_as_real.
   */
  stft(nFft: number, opts: { hopLength?: number; winLength?: number; window?: Tensor; center?: boolean;
    padMode?: 'reflect' | 'constant' | 'replicate' | 'circular'; normalized?: boolean; onesided?: boolean } = {}): Tensor {
    const c = wrap(native.call(OP.stft, this.handle, nFft, opts.hopLength ?? null, opts.winLength ?? null,
      opts.window?.handle ?? null, opts.center ?? true, opts.padMode ?? 'reflect', opts.normalized ?? false,
      opts.onesided ?? null, true));
    try { return wrap(native.call(OP.viewAsReal, c.handle)); } finally { c.dispose(); }
  }
  /** Inverse of stft(): (..., freq, frames, 2) real pairs → (..., time). */
  istft(nFft: number, opts: { hopLength?: number; winLength?: number; window?: Tensor; center?: boolean;
    normalized?: boolean; onesided?: boolean; length?: number } = {}): Tensor {
    const c = wrap(native.call(OP.viewAsComplex, this.contiguousHandle()));
    try {
      return wrap(native.call(OP.istft, c.handle, nFft, opts.hopLength ?? null, opts.winLength ?? null,
        opts.window?.handle ?? null, opts.center ?? true, opts.normalized ?? false, opts.onesided ?? null,
        opts.length ?? null, false));
    } finally { c.dispose(); }
  }

  private contiguousHandle(): Handle {
    // view_as_complex needs a contiguous last dim of 2; the temporary is owned by the current scope
    return this.contiguous().handle;
  }

  // ---- in place (no autograd history expected; used by optimisers, init and weight loading) ----
  /** this += alpha * o */
  add_(o: ScalarOrTensor, alpha = 1): this { return this.inplace(typeof o === 'number' ? native.call(OP.addS_, this.handle, o, alpha) : native.call(OP.add_, this.handle, o.handle, alpha)); }
  mul_(o: ScalarOrTensor): this { return this.inplace(typeof o === 'number' ? native.call(OP.mulS_, this.handle, o) : native.call(OP.mul_, this.handle, o.handle)); }
  div_(o: Tensor): this { return this.inplace(native.call(OP.div_, this.handle, o.handle)); }
  /** this += value * a * b */
  addcmul_(a: Tensor, b: Tensor, value = 1): this { return this.inplace(native.call(OP.addcmul_, this.handle, a.handle, b.handle, value)); }
  /** this += value * a / b */
  addcdiv_(a: Tensor, b: Tensor, value = 1): this { return this.inplace(native.call(OP.addcdiv_, this.handle, a.handle, b.handle, value)); }
  copy_(src: Tensor): this { return this.inplace(native.call(OP.copy_, this.handle, src.handle, false)); }
  zero_(): this { return this.inplace(native.call(OP.zero_, this.handle)); }
  fill_(v: number): this { return this.inplace(native.call(OP.fill_, this.handle, v)); }
  clamp_(min: number | null, max: number | null = null): this { return this.inplace(native.call(OP.clamp_, this.handle, min, max)); }
  uniform_(from = 0, to = 1): this { return this.inplace(native.call(OP.uniform_, this.handle, from, to)); }
  normal_(mean = 0, std = 1): this { return this.inplace(native.call(OP.normal_, this.handle, mean, std)); }
  lerp_(end: Tensor, weight: number): this { return this.inplace(native.call(OP.lerp_, this.handle, end.handle, weight)); }
  sqrt_(): this { return this.inplace(native.call(OP.sqrt_, this.handle)); }

  private inplace(result: unknown): this {
    native.dispose(result as Handle); // the op returns self as a new handle; drop it
    return this;
  }
}

// ---- helpers shared by the methods above ----

/** Wrap a native result that is one tensor handle. */
export function wrap(h: unknown): Tensor {
  return new Tensor(h as Handle);
}

/** Wrap a native result that is a list of handles. */
export function wrapAll(hs: unknown): Tensor[] {
  return (hs as Handle[]).map((h) => new Tensor(h));
}

function u(op: number, t: Tensor): Tensor {
  return wrap(native.call(op, t.handle));
}

function bin(opT: number, opS: number, t: Tensor, o: ScalarOrTensor, alpha?: number): Tensor {
  if (typeof o === 'number') return wrap(alpha === undefined ? native.call(opS, t.handle, o) : native.call(opS, t.handle, o, alpha));
  if (!(o instanceof Tensor)) throw new TypeError(`'other' must be a Tensor or a number, got ${typeof o}`);
  return wrap(alpha === undefined ? native.call(opT, t.handle, o.handle) : native.call(opT, t.handle, o.handle, alpha));
}

function dims(d: number | readonly number[]): readonly number[] {
  return typeof d === 'number' ? [d] : d;
}

function isDType(x: string): x is DType {
  return x === 'float32' || x === 'float64' || x === 'int64' || x === 'int32' || x === 'uint8' || x === 'bool' ||
    x === 'complex64' || x === 'bfloat16' || x === 'float16';
}
