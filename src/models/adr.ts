// ADR's networks (Noé et al., "Adversarial disentanglement of speaker representation for attribute-driven
// privacy preservation", Interspeech 2021, arXiv 2012.04454; LIAvignon/adversarial-disentangling-
// autoencoder-for-spk-representation; spec §9), the opt-out baseline of Wang et al. 2022:
//  - pre-discriminator Linear(512→1)+sigmoid: w = p(attribute|x), the decoder's input;
//  - encoder z = BN(ReLU(Linear(512→128))), decoder x̂ = norm(tanh(Linear([z, w] 129→512)));
//  - adversary Linear(128→128) → ReLU → Linear(128→1) → sigmoid on z.
// The training loop and the losses are in src/methods/adr.ts.
import { resolveConfig } from '../config/resolve.js';
import { BatchNorm1d, Linear, Module } from '../nn/index.js';
import { cat, type Tensor } from '../tensor/index.js';

export interface AdrConfig {
  /** x-vector size (512). */
  inputDim: number;
  /** Code size (128). */
  codeDim: number;
  /** Adversary hidden size (128; an earlier version: 64 with dropout). */
  adversaryHidden: number;
}

export const ADR_DEFAULTS: AdrConfig = { inputDim: 512, codeDim: 128, adversaryHidden: 128 };

// Networks (state-dict keys follow the reference's attribute names)

/** Linear(inputDim→1): logit of the attribute; p = σ(logit). */
export class PreDiscriminator extends Module {
  readonly fc: Linear;
  constructor(c: AdrConfig) {
    super();
    this.fc = this.module('fc', new Linear(c.inputDim, 1));
  }
  forward(x: Tensor): Tensor {
    return this.fc.forward(x).squeeze(1);
  } // (B) logits
}

export class AdrEncoder extends Module {
  readonly fc: Linear;
  readonly bn: BatchNorm1d;
  constructor(c: AdrConfig) {
    super();
    this.fc = this.module('fc', new Linear(c.inputDim, c.codeDim));
    this.bn = this.module('bn', new BatchNorm1d(c.codeDim));
  }
  forward(x: Tensor): Tensor {
    return this.bn.forward(this.fc.forward(x).relu());
  } // (B, codeDim)
}

export class AdrDecoder extends Module {
  readonly fc: Linear;
  constructor(c: AdrConfig) {
    super();
    this.fc = this.module('fc', new Linear(c.codeDim + 1, c.inputDim));
  }
  /** z (B, codeDim), w (B) → unit-norm x̂ (B, inputDim). */
  forward(z: Tensor, w: Tensor): Tensor {
    const h = this.fc.forward(cat([z, w.unsqueeze(1)], 1)).tanh(); // (B, inputDim)
    return h.div(h.norm(2, 1, true).clamp(1e-12));
  }
}

export class AdrAdversary extends Module {
  readonly fc1: Linear;
  readonly fc2: Linear;
  constructor(c: AdrConfig) {
    super();
    this.fc1 = this.module('fc1', new Linear(c.codeDim, c.adversaryHidden));
    this.fc2 = this.module('fc2', new Linear(c.adversaryHidden, 1));
  }
  forward(z: Tensor): Tensor {
    return this.fc2.forward(this.fc1.forward(z).relu()).squeeze(1);
  } // (B) logits
}

/** The four networks together (checkpoint keys pre.*, encoder.*, decoder.*, adversary.*). */
export class Adr extends Module {
  readonly config: AdrConfig;
  readonly pre: PreDiscriminator;
  readonly encoder: AdrEncoder;
  readonly decoder: AdrDecoder;
  readonly adversary: AdrAdversary;
  constructor(config: AdrConfig = ADR_DEFAULTS) {
    super();
    this.config = resolveConfig('AdrConfig', ADR_DEFAULTS, config);
    this.pre = this.module('pre', new PreDiscriminator(this.config));
    this.encoder = this.module('encoder', new AdrEncoder(this.config));
    this.decoder = this.module('decoder', new AdrDecoder(this.config));
    this.adversary = this.module('adversary', new AdrAdversary(this.config));
  }

  /** x (B, inputDim) with the decoder fed w (B) → x̂ (B, inputDim), unit norm. */
  forward(x: Tensor, w: Tensor): Tensor {
    return this.decoder.forward(this.encoder.forward(x), w);
  }
}
