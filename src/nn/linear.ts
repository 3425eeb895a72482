// Linear: y = x Wᵀ + b with torch.nn.Linear's keys (weight, bias) and default init.
import type { Tensor } from '../tensor/index.js';
import { checkInt } from './args.js';
import { linear } from './functional.js';
import { defaultLinearInit, emptyParam, type TensorPlacement } from './init.js';
import { Module, type Layer } from './module.js';

export interface LinearOptions extends TensorPlacement {
  /** Learn an additive bias (default true). */
  bias?: boolean;
}

/**
 * Fully connected layer. x: (*, inFeatures) → (*, outFeatures).
 * @example const fc = new Linear(128, 10); const logits = fc.forward(x);
 */
export class Linear extends Module implements Layer {
  readonly inFeatures: number;
  readonly outFeatures: number;
  /** (outFeatures, inFeatures) */
  readonly weight: Tensor;
  /** (outFeatures) or null */
  readonly bias: Tensor | null;

  constructor(inFeatures: number, outFeatures: number, opts: LinearOptions = {}) {
    super();
    this.inFeatures = checkInt('Linear', 'inFeatures', inFeatures);
    this.outFeatures = checkInt('Linear', 'outFeatures', outFeatures);
    this.weight = this.param('weight', emptyParam([outFeatures, inFeatures], opts));
    this.bias = (opts.bias ?? true) ? this.param('bias', emptyParam([outFeatures], opts)) : null;
    defaultLinearInit(this.weight, this.bias);
  }

  forward(x: Tensor): Tensor {
    return linear(x, this.weight, this.bias);
  }
}
