// Activations as layers (for Sequential), torch.nn's names and defaults; only PReLU has a parameter.
import { tidy, type Tensor } from '../tensor/index.js';
import { checkInt, checkPositive } from './args.js';
import { glu, prelu } from './functional.js';
import { constant_, emptyParam, type TensorPlacement } from './init.js';
import { Module, type Layer } from './module.js';

/** max(0, x) */
export class ReLU extends Module implements Layer {
  forward(x: Tensor): Tensor {
    return x.relu();
  }
}

/** max(0, x) + negativeSlope·min(0, x) (default slope 0.01). */
export class LeakyReLU extends Module implements Layer {
  constructor(readonly negativeSlope = 0.01) {
    super();
    if (typeof negativeSlope !== 'number' || !Number.isFinite(negativeSlope))
      throw new TypeError(`LeakyReLU: 'negativeSlope' must be a finite number, got ${negativeSlope}`);
  }
  forward(x: Tensor): Tensor {
    return x.leakyRelu(this.negativeSlope);
  }
}

/**
 * clamp(x, minVal, maxVal) (default −1, 1).
 * @example new Hardtanh(0, 20) // DeepSpeech2's clipped ReLU
 */
export class Hardtanh extends Module implements Layer {
  constructor(
    readonly minVal = -1,
    readonly maxVal = 1,
  ) {
    super();
    if (!(minVal < maxVal))
      throw new RangeError(`Hardtanh: 'maxVal' (${maxVal}) must be greater than 'minVal' (${minVal})`);
  }
  forward(x: Tensor): Tensor {
    // libtorch 1.13 has no bfloat16 hardtanh backward on CPU: under CPU bf16 autocast, clamp in float32
    if (x.dtype === 'bfloat16' && x.device === 'cpu') return tidy(() => x.float().hardtanh(this.minVal, this.maxVal));
    return x.hardtanh(this.minVal, this.maxVal);
  }
}

export class Tanh extends Module implements Layer {
  forward(x: Tensor): Tensor {
    return x.tanh();
  }
}

export class Sigmoid extends Module implements Layer {
  forward(x: Tensor): Tensor {
    return x.sigmoid();
  }
}

/** log(1 + exp(beta·x)) / beta, linear above threshold. */
export class Softplus extends Module implements Layer {
  readonly beta: number;
  readonly threshold: number;
  constructor(beta = 1, threshold = 20) {
    super();
    this.beta = checkPositive('Softplus', 'beta', beta);
    this.threshold = checkPositive('Softplus', 'threshold', threshold);
  }
  forward(x: Tensor): Tensor {
    return x.softplus(this.beta, this.threshold);
  }
}

export class ELU extends Module implements Layer {
  constructor(readonly alpha = 1) {
    super();
  }
  forward(x: Tensor): Tensor {
    return x.elu(this.alpha);
  }
}

export class GELU extends Module implements Layer {
  forward(x: Tensor): Tensor {
    return x.gelu();
  }
}

export class SiLU extends Module implements Layer {
  forward(x: Tensor): Tensor {
    return x.silu();
  }
}

/**
 * Gated linear unit: halves a, b of `dim` → a·σ(b); that dim halves.
 * @example new GLU(1).forward(x) // (N, 2C, T) → (N, C, T)
 */
export class GLU extends Module implements Layer {
  constructor(readonly dim = -1) {
    super();
    if (!Number.isInteger(dim)) throw new TypeError(`GLU: 'dim' must be an integer, got ${dim}`);
  }
  forward(x: Tensor): Tensor {
    const n = x.size(this.dim);
    if (n % 2 !== 0)
      throw new RangeError(
        `GLU: dim ${this.dim} of input [${x.shape.join(', ')}] has odd size ${n}; it must split in halves`,
      );
    return glu(x, this.dim);
  }
}

/** Leaky ReLU with a learned slope `weight` of shape (numParameters) (init 0.25), applied per channel (dim 1). */
export class PReLU extends Module implements Layer {
  readonly weight: Tensor;
  constructor(numParameters = 1, init = 0.25, opts: TensorPlacement = {}) {
    super();
    checkInt('PReLU', 'numParameters', numParameters);
    this.weight = this.param('weight', constant_(emptyParam([numParameters], opts), init));
  }
  forward(x: Tensor): Tensor {
    return prelu(x, this.weight);
  }
}

export class Softmax extends Module implements Layer {
  constructor(readonly dim: number) {
    super();
    if (!Number.isInteger(dim)) throw new TypeError(`Softmax: 'dim' must be an integer, got ${dim}`);
  }
  forward(x: Tensor): Tensor {
    return x.softmax(this.dim);
  }
}

export class LogSoftmax extends Module implements Layer {
  constructor(readonly dim: number) {
    super();
    if (!Number.isInteger(dim)) throw new TypeError(`LogSoftmax: 'dim' must be an integer, got ${dim}`);
  }
  forward(x: Tensor): Tensor {
    return x.logSoftmax(this.dim);
  }
}
