// The Tensor class, part 2 of 3 (see tensor-base.ts): elementwise ops, comparisons (bool results),
// reductions and linear algebra, each one boxed call into ATen's dispatcher.
import { call, OP } from '../binding/ops.js';
import { TensorBase, dims } from './tensor-base.js';

/** Elementwise, comparison, reduction and matrix methods; see Tensor (tensor.ts). */
export abstract class TensorMath<T extends TensorMath<T>> extends TensorBase<T> {
  // ---- elementwise ----
  add(o: T | number, alpha = 1): T {
    return this.bin(OP.addT, OP.addS, o, alpha);
  }
  sub(o: T | number, alpha = 1): T {
    return this.bin(OP.subT, OP.subS, o, alpha);
  }
  mul(o: T | number): T {
    return this.bin(OP.mulT, OP.mulS, o);
  }
  div(o: T | number): T {
    return this.bin(OP.divT, OP.divS, o);
  }
  /** `s - this` */
  rsub(s: number): T {
    return this.wrapHandle(call(OP.rsubS, this.handle, s));
  }
  pow(e: T | number): T {
    return this.bin(OP.powT, OP.powS, e);
  }
  neg(): T {
    return this.un(OP.neg);
  }
  abs(): T {
    return this.un(OP.abs);
  }
  exp(): T {
    return this.un(OP.exp);
  }
  log(): T {
    return this.un(OP.log);
  }
  log1p(): T {
    return this.un(OP.log1p);
  }
  sqrt(): T {
    return this.un(OP.sqrt);
  }
  rsqrt(): T {
    return this.un(OP.rsqrt);
  }
  sin(): T {
    return this.un(OP.sin);
  }
  cos(): T {
    return this.un(OP.cos);
  }
  sign(): T {
    return this.un(OP.sign);
  }
  floor(): T {
    return this.un(OP.floor);
  }
  ceil(): T {
    return this.un(OP.ceil);
  }
  round(): T {
    return this.un(OP.round);
  }
  square(): T {
    return this.un(OP.square);
  }
  reciprocal(): T {
    return this.un(OP.reciprocal);
  }
  atan2(o: T): T {
    return this.wrapHandle(call(OP.atan2, this.handle, o.handle));
  }
  clamp(min: number | null, max: number | null = null): T {
    if (min === null && max === null) throw new TypeError("clamp: at least one of 'min' and 'max' must be a number");
    return this.wrapHandle(call(OP.clamp, this.handle, min, max));
  }
  sigmoid(): T {
    return this.un(OP.sigmoid);
  }
  tanh(): T {
    return this.un(OP.tanh);
  }
  relu(): T {
    return this.un(OP.relu);
  }
  leakyRelu(negativeSlope = 0.01): T {
    return this.wrapHandle(call(OP.leakyRelu, this.handle, negativeSlope));
  }
  hardtanh(minVal = -1, maxVal = 1): T {
    return this.wrapHandle(call(OP.hardtanh, this.handle, minVal, maxVal));
  }
  softplus(beta = 1, threshold = 20): T {
    return this.wrapHandle(call(OP.softplus, this.handle, beta, threshold));
  }
  elu(alpha = 1): T {
    return this.wrapHandle(call(OP.elu, this.handle, alpha));
  }
  gelu(): T {
    return this.un(OP.gelu);
  }
  silu(): T {
    return this.un(OP.silu);
  }
  maximum(o: T): T {
    return this.wrapHandle(call(OP.maximum, this.handle, o.handle));
  }
  minimum(o: T): T {
    return this.wrapHandle(call(OP.minimum, this.handle, o.handle));
  }

  // ---- comparison (bool results) ----
  eq(o: T | number): T {
    return this.bin(OP.eqT, OP.eqS, o);
  }
  ne(o: T | number): T {
    return this.bin(OP.neT, OP.neS, o);
  }
  gt(o: T | number): T {
    return this.bin(OP.gtT, OP.gtS, o);
  }
  lt(o: T | number): T {
    return this.bin(OP.ltT, OP.ltS, o);
  }
  ge(o: T | number): T {
    return this.bin(OP.geT, OP.geS, o);
  }
  le(o: T | number): T {
    return this.bin(OP.leT, OP.leS, o);
  }
  logicalNot(): T {
    return this.un(OP.logicalNot);
  }
  logicalAnd(o: T): T {
    return this.wrapHandle(call(OP.logicalAnd, this.handle, o.handle));
  }
  logicalOr(o: T): T {
    return this.wrapHandle(call(OP.logicalOr, this.handle, o.handle));
  }
  isnan(): T {
    return this.un(OP.isnan);
  }
  isfinite(): T {
    return this.un(OP.isfinite);
  }
  /** `cond ? this : other` elementwise. */
  where(cond: T, other: T | number): T {
    return typeof other === 'number'
      ? this.wrapHandle(call(OP.whereScalar, cond.handle, this.handle, other))
      : this.wrapHandle(call(OP.where, cond.handle, this.handle, other.handle));
  }
  maskedFill(mask: T, value: number): T {
    return this.wrapHandle(call(OP.maskedFill, this.handle, mask.handle, value));
  }

  // ---- reductions ----
  /** Sum over `dim` (all elements when omitted). */
  sum(dim?: number | readonly number[], keepdim = false): T {
    return dim === undefined ? this.un(OP.sum) : this.wrapHandle(call(OP.sumDim, this.handle, dims(dim), keepdim));
  }
  mean(dim?: number | readonly number[], keepdim = false): T {
    return dim === undefined ? this.un(OP.mean) : this.wrapHandle(call(OP.meanDim, this.handle, dims(dim), keepdim));
  }
  /** Max of all elements, or `{ values, indices }` along `dim`. */
  max(): T;
  max(dim: number, keepdim?: boolean): { values: T; indices: T };
  max(dim?: number, keepdim = false): T | { values: T; indices: T } {
    if (dim === undefined) return this.un(OP.max);
    const [values, indices] = this.wrapAll(call(OP.maxDim, this.handle, dim, keepdim));
    return { values: values!, indices: indices! };
  }
  min(): T;
  min(dim: number, keepdim?: boolean): { values: T; indices: T };
  min(dim?: number, keepdim = false): T | { values: T; indices: T } {
    if (dim === undefined) return this.un(OP.min);
    const [values, indices] = this.wrapAll(call(OP.minDim, this.handle, dim, keepdim));
    return { values: values!, indices: indices! };
  }
  amax(dim: number | readonly number[], keepdim = false): T {
    return this.wrapHandle(call(OP.amax, this.handle, dims(dim), keepdim));
  }
  amin(dim: number | readonly number[], keepdim = false): T {
    return this.wrapHandle(call(OP.amin, this.handle, dims(dim), keepdim));
  }
  argmax(dim?: number, keepdim = false): T {
    return this.wrapHandle(call(OP.argmax, this.handle, dim ?? null, keepdim));
  }
  argmin(dim?: number, keepdim = false): T {
    return this.wrapHandle(call(OP.argmin, this.handle, dim ?? null, keepdim));
  }
  /** Variance (unbiased by default, as torch). */
  var(dim?: number | readonly number[], opts: { unbiased?: boolean; keepdim?: boolean } = {}): T {
    return this.wrapHandle(
      call(OP.varDim, this.handle, dim === undefined ? null : dims(dim), opts.unbiased ?? true, opts.keepdim ?? false),
    );
  }
  std(dim?: number | readonly number[], opts: { unbiased?: boolean; keepdim?: boolean } = {}): T {
    return this.wrapHandle(
      call(OP.stdDim, this.handle, dim === undefined ? null : dims(dim), opts.unbiased ?? true, opts.keepdim ?? false),
    );
  }
  logsumexp(dim: number | readonly number[], keepdim = false): T {
    return this.wrapHandle(call(OP.logsumexp, this.handle, dims(dim), keepdim));
  }
  prod(): T {
    return this.un(OP.prod);
  }
  cumsum(dim: number): T {
    return this.wrapHandle(call(OP.cumsum, this.handle, dim));
  }
  /** Vector p-norm over `dim` (all elements by default). */
  norm(p = 2, dim?: number | readonly number[], keepdim = false): T {
    return this.wrapHandle(call(OP.norm, this.handle, p, dim === undefined ? null : dims(dim), keepdim));
  }
  all(): T {
    return this.un(OP.all);
  }
  any(): T {
    return this.un(OP.any);
  }
  softmax(dim: number): T {
    return this.wrapHandle(call(OP.softmax, this.handle, dim));
  }
  logSoftmax(dim: number): T {
    return this.wrapHandle(call(OP.logSoftmax, this.handle, dim));
  }
  sort(dim = -1, descending = false): { values: T; indices: T } {
    const [values, indices] = this.wrapAll(call(OP.sort, this.handle, dim, descending));
    return { values: values!, indices: indices! };
  }
  topk(k: number, dim = -1, largest = true): { values: T; indices: T } {
    const [values, indices] = this.wrapAll(call(OP.topk, this.handle, k, dim, largest, true));
    return { values: values!, indices: indices! };
  }

  // ---- linear algebra ----
  matmul(o: T): T {
    return this.wrapHandle(call(OP.matmul, this.handle, o.handle));
  }
  mm(o: T): T {
    return this.wrapHandle(call(OP.mm, this.handle, o.handle));
  }
  bmm(o: T): T {
    return this.wrapHandle(call(OP.bmm, this.handle, o.handle));
  }
}
