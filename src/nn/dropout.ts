// Dropout layers honouring train/eval: Dropout (elements) and Dropout2d (whole channels).
import type { Tensor } from '../tensor/index.js';
import { checkProb, checkRank } from './args.js';
import { dropout, featureDropout } from './functional.js';
import { Module, type Layer } from './module.js';

/**
 * Zeroes elements with probability p and scales the rest by 1/(1−p) in training; identity in eval.
 * @example const drop = new Dropout(0.1); model.eval(); // now drop.forward(x) returns x's values
 */
export class Dropout extends Module implements Layer {
  readonly p: number;
  constructor(p = 0.5) {
    super();
    this.p = checkProb('Dropout', 'p', p);
  }

  forward(x: Tensor): Tensor {
    return dropout(x, this.p, this.training);
  }
}

/**
 * Zeroes whole channels of (N, C, H, W) with probability p in training, as torch.nn.Dropout2d. A 3-d input is
 * read as (N, C, L) (channel-wise 1-d dropout), as torch 1.13 does.
 * @example const drop = new Dropout2d(0.2);
 */
export class Dropout2d extends Module implements Layer {
  readonly p: number;
  constructor(p = 0.5) {
    super();
    this.p = checkProb('Dropout2d', 'p', p);
  }

  forward(x: Tensor): Tensor {
    checkRank('Dropout2d', x.shape, [3, 4], '(N, C, H, W) or (N, C, L)');
    return featureDropout(x, this.p, this.training);
  }
}
