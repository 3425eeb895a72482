// A small classifier on fixed-size vectors (x-vectors): ADR's target model and attackers judge x-vectors
// with it. Linear → ReLU → Linear, or one Linear (logistic regression) when hidden = 0.
import { Linear, Module } from '../nn/index.js';
import type { Tensor } from '../tensor/index.js';

/** Linear → ReLU → Linear (or one Linear when hidden = 0). */
export class VectorClassifier extends Module {
  readonly fc1: Linear;
  readonly fc2: Linear | null;
  constructor(dim: number, hidden: number, k: number) {
    super();
    this.fc1 = this.module('fc1', new Linear(dim, hidden > 0 ? hidden : k));
    this.fc2 = hidden > 0 ? this.module('fc2', new Linear(hidden, k)) : null;
  }
  /** x (B, dim) → logits (B, k). */
  forward(x: Tensor): Tensor {
    const h = this.fc1.forward(x);
    return this.fc2 ? this.fc2.forward(h.relu()) : h;
  }
}
