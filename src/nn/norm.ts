// Norm layers with torch's keys, defaults and running stats: BatchNorm1d/2d, InstanceNorm1d/2d, LayerNorm, GroupNorm.
import { zeros, type Tensor } from '../tensor/index.js';
import { checkInt, checkInts, checkPositive, checkProb, checkRank } from './args.js';
import { batchNorm, groupNorm, instanceNorm, layerNorm } from './functional.js';
import { emptyParam, ones_, zeros_, type TensorPlacement } from './init.js';
import { Module, type Layer } from './module.js';

export interface NormOptions extends TensorPlacement {
  /** Added to the variance (default 1e-5). */
  eps?: number;
  /** Running-stat update rate (default 0.1); null for a cumulative average (BatchNorm only). */
  momentum?: number | null;
  /** Learn a per-channel scale `weight` and shift `bias`. */
  affine?: boolean;
  /** Keep running_mean / running_var / num_batches_tracked buffers. */
  trackRunningStats?: boolean;
}

/** Shared by BatchNorm and InstanceNorm (torch's _NormBase): parameters, buffers, their keys and init. */
abstract class NormBase extends Module implements Layer {
  readonly numFeatures: number;
  readonly eps: number;
  readonly momentum: number | null;
  /** (C) scale, or null without affine */
  readonly weight: Tensor | null;
  /** (C) shift, or null without affine */
  readonly bias: Tensor | null;
  /** (C), or null without trackRunningStats */
  readonly runningMean: Tensor | null;
  readonly runningVar: Tensor | null;
  /** int64 scalar counting training forwards, or null without trackRunningStats */
  readonly numBatchesTracked: Tensor | null;

  constructor(
    protected readonly layerName: string,
    numFeatures: number,
    o: NormOptions,
    defaults: { affine: boolean; track: boolean; nullMomentum: boolean },
  ) {
    super();
    this.numFeatures = checkInt(layerName, 'numFeatures', numFeatures);
    this.eps = checkPositive(layerName, 'eps', o.eps ?? 1e-5);
    if (o.momentum === null && !defaults.nullMomentum)
      throw new RangeError(`${layerName}: 'momentum' must be a number, got null`);
    this.momentum = o.momentum === null ? null : checkProb(layerName, 'momentum', o.momentum ?? 0.1);
    const affine = o.affine ?? defaults.affine;
    const track = o.trackRunningStats ?? defaults.track;
    this.weight = affine ? this.param('weight', ones_(emptyParam([numFeatures], o))) : null;
    this.bias = affine ? this.param('bias', zeros_(emptyParam([numFeatures], o))) : null;
    this.runningMean = track ? this.buffer('running_mean', zeros_(emptyParam([numFeatures], o))) : null;
    this.runningVar = track ? this.buffer('running_var', ones_(emptyParam([numFeatures], o))) : null;
    this.numBatchesTracked = track
      ? this.buffer(
          'num_batches_tracked',
          zeros([], o.device === undefined ? { dtype: 'int64' } : { dtype: 'int64', device: o.device }),
        )
      : null;
  }

  /** Reset the running statistics to mean 0, variance 1, no batches seen. */
  resetRunningStats(): void {
    if (this.runningMean) zeros_(this.runningMean);
    if (this.runningVar) ones_(this.runningVar);
    if (this.numBatchesTracked) zeros_(this.numBatchesTracked);
  }

  protected checkChannels(x: Tensor, dim: number): void {
    if (x.size(dim) !== this.numFeatures) {
      throw new RangeError(
        `${this.layerName}: input [${x.shape.join(', ')}] has ${x.size(dim)} channels in dim ${dim}, expected 'numFeatures' ${this.numFeatures}`,
      );
    }
  }

  abstract forward(x: Tensor): Tensor;
}

/** BatchNorm1d/2d: batch statistics in training (updating the running ones), running statistics in eval. */
abstract class BatchNorm extends NormBase {
  constructor(name: string, numFeatures: number, o: NormOptions) {
    super(name, numFeatures, o, { affine: true, track: true, nullMomentum: true });
  }

  protected normalize(x: Tensor): Tensor {
    this.checkChannels(x, 1);
    let factor = this.momentum ?? 0;
    if (this.training && x.numel / this.numFeatures <= 1) {
      throw new RangeError(
        `${this.layerName}: expected more than 1 value per channel when training, got input [${x.shape.join(', ')}]`,
      );
    }
    if (this.training && this.numBatchesTracked !== null) {
      this.numBatchesTracked.add_(1);
      if (this.momentum === null) factor = 1 / this.numBatchesTracked.item();
    }
    // eval without running stats falls back to batch statistics, as torch
    const useBatchStats = this.training || this.runningMean === null;
    return batchNorm(x, this.runningMean, this.runningVar, {
      weight: this.weight,
      bias: this.bias,
      training: useBatchStats,
      momentum: factor,
      eps: this.eps,
    });
  }
}

/**
 * Batch norm over (N, C) or (N, C, L), per channel C.
 * @example const bn = new BatchNorm1d(256); bn.eval(); // use running statistics
 */
export class BatchNorm1d extends BatchNorm {
  constructor(numFeatures: number, opts: NormOptions = {}) {
    super('BatchNorm1d', numFeatures, opts);
  }

  forward(x: Tensor): Tensor {
    checkRank('BatchNorm1d', x.shape, [2, 3], '(N, C) or (N, C, L)');
    return this.normalize(x);
  }
}

/**
 * Batch norm over (N, C, H, W), per channel C.
 * @example const bn = new BatchNorm2d(32, { momentum: 0.01 });
 */
export class BatchNorm2d extends BatchNorm {
  constructor(numFeatures: number, opts: NormOptions = {}) {
    super('BatchNorm2d', numFeatures, opts);
  }

  forward(x: Tensor): Tensor {
    checkRank('BatchNorm2d', x.shape, [4], '(N, C, H, W)');
    return this.normalize(x);
  }
}

/** InstanceNorm1d/2d: per-instance statistics; affine and trackRunningStats default false as torch. */
abstract class InstanceNorm extends NormBase {
  constructor(
    name: string,
    numFeatures: number,
    o: NormOptions,
    private readonly spatialDims: number,
  ) {
    super(name, numFeatures, o, { affine: false, track: false, nullMomentum: false });
  }

  protected normalize(x: Tensor): Tensor {
    const unbatched = x.ndim === this.spatialDims + 1;
    const xb = unbatched ? x.unsqueeze(0) : x;
    this.checkChannels(xb, 1);
    const y = instanceNorm(xb, this.runningMean, this.runningVar, {
      weight: this.weight,
      bias: this.bias,
      useInputStats: this.training || this.runningMean === null,
      momentum: this.momentum ?? 0.1,
      eps: this.eps,
    });
    return unbatched ? y.squeeze(0) : y;
  }
}

/** Instance norm over (N, C, L) or (C, L): each (n, c) row normalised over L. */
export class InstanceNorm1d extends InstanceNorm {
  constructor(numFeatures: number, opts: NormOptions = {}) {
    super('InstanceNorm1d', numFeatures, opts, 1);
  }

  forward(x: Tensor): Tensor {
    checkRank('InstanceNorm1d', x.shape, [2, 3], '(N, C, L) or (C, L)');
    return this.normalize(x);
  }
}

/**
 * Instance norm over (N, C, H, W) or (C, H, W): each (n, c) map normalised over H, W.
 * @example const norm = new InstanceNorm2d(128, { affine: true }); // CycleGAN-VC2's blocks
 */
export class InstanceNorm2d extends InstanceNorm {
  constructor(numFeatures: number, opts: NormOptions = {}) {
    super('InstanceNorm2d', numFeatures, opts, 2);
  }

  forward(x: Tensor): Tensor {
    checkRank('InstanceNorm2d', x.shape, [3, 4], '(N, C, H, W) or (C, H, W)');
    return this.normalize(x);
  }
}

export interface LayerNormOptions extends TensorPlacement {
  eps?: number;
  /** Learn `weight` and `bias` shaped like normalizedShape (default true). */
  elementwiseAffine?: boolean;
}

/**
 * Layer norm over the trailing dims: x: (*, ...normalizedShape) → same shape.
 * @example const ln = new LayerNorm(256); ln.forward(x) // x: (B, T, 256)
 */
export class LayerNorm extends Module implements Layer {
  readonly normalizedShape: number[];
  readonly eps: number;
  readonly weight: Tensor | null;
  readonly bias: Tensor | null;

  constructor(normalizedShape: number | readonly number[], opts: LayerNormOptions = {}) {
    super();
    const n = typeof normalizedShape === 'number' ? 1 : Array.isArray(normalizedShape) ? normalizedShape.length : 0;
    if (n === 0)
      throw new RangeError(
        `LayerNorm: 'normalizedShape' must be an integer >= 1 or a non-empty array of them, got ${JSON.stringify(normalizedShape)}`,
      );
    this.normalizedShape = checkInts('LayerNorm', 'normalizedShape', normalizedShape, n, 1);
    this.eps = checkPositive('LayerNorm', 'eps', opts.eps ?? 1e-5);
    const affine = opts.elementwiseAffine ?? true;
    this.weight = affine ? this.param('weight', ones_(emptyParam(this.normalizedShape, opts))) : null;
    this.bias = affine ? this.param('bias', zeros_(emptyParam(this.normalizedShape, opts))) : null;
  }

  forward(x: Tensor): Tensor {
    return layerNorm(x, this.normalizedShape, this.weight, this.bias, this.eps);
  }
}

/** Group norm: (N, C, *) with C split into numGroups groups normalised together; keys weight, bias. */
export class GroupNorm extends Module implements Layer {
  readonly numGroups: number;
  readonly numChannels: number;
  readonly eps: number;
  readonly weight: Tensor | null;
  readonly bias: Tensor | null;

  constructor(numGroups: number, numChannels: number, opts: { eps?: number; affine?: boolean } & TensorPlacement = {}) {
    super();
    this.numGroups = checkInt('GroupNorm', 'numGroups', numGroups);
    this.numChannels = checkInt('GroupNorm', 'numChannels', numChannels);
    if (numChannels % numGroups !== 0)
      throw new RangeError(`GroupNorm: 'numChannels' (${numChannels}) must be divisible by 'numGroups' (${numGroups})`);
    this.eps = checkPositive('GroupNorm', 'eps', opts.eps ?? 1e-5);
    const affine = opts.affine ?? true;
    this.weight = affine ? this.param('weight', ones_(emptyParam([numChannels], opts))) : null;
    this.bias = affine ? this.param('bias', zeros_(emptyParam([numChannels], opts))) : null;
  }

  forward(x: Tensor): Tensor {
    return groupNorm(x, this.numGroups, this.weight, this.bias, this.eps);
  }
}

/**
 * Normalisation over ONE axis at every position of the others, with a per-channel (dim 1) scale and shift:
 * axis 1 of (N, C, L) is a layer norm over channels at each step; axis 2 of (N, C, H, W) normalises each
 * channel over H at each W. Unlike InstanceNorm no statistic spans the time axis, so an output frame does not
 * depend on distant frames of its window (CycleGanVc2Config.norm 'time-local'). Keys weight, bias (C).
 * @example const n = new AxisNorm(64, 1); n.forward(x) // x: (B, 64, T), each (b, :, t) normalised
 */
export class AxisNorm extends Module implements Layer {
  readonly numChannels: number;
  readonly axis: number;
  readonly eps: number;
  readonly weight: Tensor;
  readonly bias: Tensor;

  constructor(numChannels: number, axis: number, opts: { eps?: number } & TensorPlacement = {}) {
    super();
    this.numChannels = checkInt('AxisNorm', 'numChannels', numChannels);
    this.axis = checkInt('AxisNorm', 'axis', axis);
    this.eps = checkPositive('AxisNorm', 'eps', opts.eps ?? 1e-5);
    this.weight = this.param('weight', ones_(emptyParam([numChannels], opts)));
    this.bias = this.param('bias', zeros_(emptyParam([numChannels], opts)));
  }

  forward(x: Tensor): Tensor {
    if (x.ndim < 3 || this.axis >= x.ndim || x.size(1) !== this.numChannels)
      throw new RangeError(
        `AxisNorm: input [${x.shape.join(', ')}] must be (N, ${this.numChannels}, ...) with an axis ${this.axis}`,
      );
    const d = x.sub(x.mean(this.axis, true));
    const y = d.mul(d.mul(d).mean(this.axis, true).add(this.eps).rsqrt()); // biased variance, as InstanceNorm
    const perChannel = [1, this.numChannels, ...new Array<number>(x.ndim - 2).fill(1)];
    return y.mul(this.weight.reshape(perChannel)).add(this.bias.reshape(perChannel));
  }
}
