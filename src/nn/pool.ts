// Pooling layers: MaxPool1d, MaxPool2d, AvgPool2d, AdaptiveAvgPool2d (no parameters, no state-dict keys).
import type { Tensor } from '../tensor/index.js';
import { checkInts } from './args.js';
import { adaptiveAvgPool2d, avgPool2d, maxPool1d, maxPool2d } from './functional.js';
import { Module, type Layer } from './module.js';

export interface PoolOptions {
  /** Default: the kernel size. */
  stride?: number | readonly number[];
  padding?: number | readonly number[];
  dilation?: number | readonly number[];
  /** Round the output size up instead of down (default false). */
  ceilMode?: boolean;
}

/** Pool options with every size expanded to one int per spatial dim. */
export interface ResolvedPool {
  stride: number[];
  padding: number[];
  dilation: number[];
  ceilMode: boolean;
}

function checkPool(
  name: string,
  n: number,
  kernelSize: unknown,
  o: PoolOptions,
): { kernelSize: number[]; stride: number[]; padding: number[]; dilation: number[] } {
  const k = checkInts(name, 'kernelSize', kernelSize, n, 1);
  const padding = checkInts(name, 'padding', o.padding ?? 0, n, 0);
  padding.forEach((p, i) => {
    if (p > k[i]! / 2)
      throw new RangeError(
        `${name}: 'padding' [${padding.join(', ')}] must be at most half of 'kernelSize' [${k.join(', ')}]`,
      );
  });
  return {
    kernelSize: k,
    stride: checkInts(name, 'stride', o.stride ?? k, n, 1),
    padding,
    dilation: checkInts(name, 'dilation', o.dilation ?? 1, n, 1),
  };
}

/** Max over windows of (N, C, L) → (N, C, Lout). */
export class MaxPool1d extends Module implements Layer {
  readonly kernelSize: number[];
  readonly opts: ResolvedPool;
  constructor(kernelSize: number, opts: PoolOptions = {}) {
    super();
    const c = checkPool('MaxPool1d', 1, kernelSize, opts);
    this.kernelSize = c.kernelSize;
    this.opts = { stride: c.stride, padding: c.padding, dilation: c.dilation, ceilMode: opts.ceilMode ?? false };
  }

  forward(x: Tensor): Tensor {
    return maxPool1d(x, this.kernelSize, this.opts);
  }
}

/**
 * Max over windows of (N, C, H, W) → (N, C, Hout, Wout).
 * @example const pool = new MaxPool2d([1, 2]); // halves W only
 */
export class MaxPool2d extends Module implements Layer {
  readonly kernelSize: number[];
  readonly opts: ResolvedPool;
  constructor(kernelSize: number | readonly number[], opts: PoolOptions = {}) {
    super();
    const c = checkPool('MaxPool2d', 2, kernelSize, opts);
    this.kernelSize = c.kernelSize;
    this.opts = { stride: c.stride, padding: c.padding, dilation: c.dilation, ceilMode: opts.ceilMode ?? false };
  }

  forward(x: Tensor): Tensor {
    return maxPool2d(x, this.kernelSize, this.opts);
  }
}

/** Mean over windows of (N, C, H, W) (zero padding counted, as torch's default). */
export class AvgPool2d extends Module implements Layer {
  readonly kernelSize: number[];
  readonly opts: { stride: number[]; padding: number[]; ceilMode: boolean };
  constructor(kernelSize: number | readonly number[], opts: Omit<PoolOptions, 'dilation'> = {}) {
    super();
    const c = checkPool('AvgPool2d', 2, kernelSize, opts);
    this.kernelSize = c.kernelSize;
    this.opts = { stride: c.stride, padding: c.padding, ceilMode: opts.ceilMode ?? false };
  }

  forward(x: Tensor): Tensor {
    return avgPool2d(x, this.kernelSize, this.opts);
  }
}

/** Mean-pool (N, C, H, W) to a fixed (N, C, oH, oW). */
export class AdaptiveAvgPool2d extends Module implements Layer {
  readonly outputSize: number[];
  constructor(outputSize: number | readonly number[]) {
    super();
    this.outputSize = checkInts('AdaptiveAvgPool2d', 'outputSize', outputSize, 2, 1);
  }

  forward(x: Tensor): Tensor {
    return adaptiveAvgPool2d(x, this.outputSize);
  }
}
