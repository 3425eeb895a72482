// The networks of RDAL: Gharib, Tran, Luong, Drossos, Virtanen, "Adversarial Representation Learning for
// Robust Privacy Preservation in Audio", IEEE OJSP 5 (2024) 294–302, arXiv 2305.00011. Reference code:
// lndip/RDAL (src/feature_extractor.py, sound_event_classifier.py, speech_discriminator.py,
// verifying_sd.py, mask_unet.py); spec: specs/seed003-rdal.md §2. State-dict keys are the reference's
// (block_1.0.weight, …, fc.weight), so weights compare one to one.
//
//   F  SedEncoder      log-mel (B, 1, 64, T) → 4 conv blocks → global max → Linear → z (B, 64)
//   C  EventHead       z → 12 event logits
//   D  SpeechMlp       GRL(α) → 48 → 32 → 16 → 1 speech logit (the adversary); without the GRL it is
//                      the supervised attacker D^τ and the gender attacker (same keys: D^τ loads into D)
//   M  MaskUNet        RDAL+M's speech mask, here on the mel magnitude (see the class comment)
import {
  BatchNorm2d,
  Conv2d,
  ConvTranspose2d,
  Dropout,
  Dropout2d,
  LeakyReLU,
  Linear,
  MaxPool2d,
  Module,
  ReLU,
  Sequential,
  functional as F,
  type Layer,
} from '../nn/index.js';
import { cat, type Tensor } from '../tensor/index.js';

export interface SedCnnConfig {
  /** Output channels of the four conv blocks (paper: 64, 128, 256, 512). */
  channels: [number, number, number, number];
  /** Conv kernel (3, unpadded, as the reference). */
  kernelSize: number;
  /** Latent size (64). */
  latent: number;
  /** Dropout2d after every block (0.25). */
  dropout: number;
  /** Event classes (12). */
  numClasses: number;
}

export const SED_CNN_PAPER: SedCnnConfig = {
  channels: [64, 128, 256, 512],
  kernelSize: 3,
  latent: 64,
  dropout: 0.25,
  numClasses: 12,
};

/** Conv(3×3, no padding) → ReLU → BatchNorm2d → [MaxPool2d(2)] → Dropout2d: ReLU before BN, as the reference. */
function convBlock(cin: number, cout: number, k: number, pool: boolean, p: number): Sequential {
  const layers: (Module & Layer)[] = [new Conv2d(cin, cout, k), new ReLU(), new BatchNorm2d(cout)];
  if (pool) layers.push(new MaxPool2d(2));
  layers.push(new Dropout2d(p));
  return new Sequential(...layers);
}

/**
 * F: the CNN encoder. The reference pools with a fixed (4, 8) kernel that is global only for 94–102
 * frames; here the last pool is a true global max over (freq, time), so any clip length works.
 * @example const f = new SedEncoder(SED_CNN_PAPER); const z = f.forward(x); // (B, 1, 64, 100) → (B, 64)
 */
export class SedEncoder extends Module implements Layer {
  readonly block1: Sequential;
  readonly block2: Sequential;
  readonly block3: Sequential;
  readonly block4: Sequential;
  readonly fc: Linear;

  constructor(readonly config: SedCnnConfig) {
    super();
    const [c1, c2, c3, c4] = config.channels;
    const k = config.kernelSize;
    this.block1 = this.module('block_1', convBlock(1, c1, k, true, config.dropout));
    this.block2 = this.module('block_2', convBlock(c1, c2, k, true, config.dropout));
    this.block3 = this.module('block_3', convBlock(c2, c3, k, true, config.dropout));
    this.block4 = this.module('block_4', convBlock(c3, c4, k, false, config.dropout));
    this.fc = this.module('fc', new Linear(c4, config.latent));
  }

  forward(x: Tensor): Tensor {
    let y = this.block1.forward(x); // (B, c1, 31, 49) for 64×100
    y = this.block2.forward(y); // (B, c2, 14, 23)
    y = this.block3.forward(y); // (B, c3, 6, 10)
    y = this.block4.forward(y); // (B, c4, 4, 8)
    y = y.amax([2, 3]); // (B, c4): global max pool
    return this.fc.forward(y); // (B, latent), no activation
  }
}

/** C: the sound-event classifier, one linear layer on the latent. */
export class EventHead extends Module implements Layer {
  readonly fc: Linear;
  constructor(latent: number, numClasses: number) {
    super();
    this.fc = this.module('fc', new Linear(latent, numClasses));
  }
  forward(z: Tensor): Tensor {
    return this.fc.forward(z); // (B, numClasses) logits
  }
}

/**
 * D / D^τ / gender attacker: Linear(n→¾n) → LeakyReLU → Dropout(0.25) → Linear(→½n) → LeakyReLU →
 * Linear(→¼n) → LeakyReLU → Linear(→1). With `grl` the input first passes a gradient-reversal layer:
 * identity forward, −alpha·grad backward (alpha is set per epoch by the training loop).
 * @example const d = new SpeechMlp(64, { grl: true }); d.alpha = 0.5; const logit = d.forward(z); // (B, 1)
 */
export class SpeechMlp extends Module implements Layer {
  /** GRL coefficient α (used only when `grl`). */
  alpha = 0;
  readonly grl: boolean;
  readonly block1: Sequential;
  readonly block2: Sequential;
  readonly block3: Sequential;
  readonly block4: Sequential;

  constructor(latent: number, opts: { grl?: boolean; dropout?: number } = {}) {
    super();
    this.grl = opts.grl ?? false;
    const h1 = Math.trunc(latent * 0.75);
    const h2 = Math.trunc(latent * 0.5);
    const h3 = Math.trunc(latent * 0.25);
    this.block1 = this.module(
      'block_1',
      new Sequential(new Linear(latent, h1), new LeakyReLU(0.01), new Dropout(opts.dropout ?? 0.25)),
    );
    this.block2 = this.module('block_2', new Sequential(new Linear(h1, h2), new LeakyReLU(0.01)));
    this.block3 = this.module('block_3', new Sequential(new Linear(h2, h3), new LeakyReLU(0.01)));
    this.block4 = this.module('block_4', new Sequential(new Linear(h3, 1)));
  }

  forward(z: Tensor): Tensor {
    let y = this.grl ? F.gradReverse(z, this.alpha) : z; // (B, latent)
    y = this.block1.forward(y);
    y = this.block2.forward(y);
    y = this.block3.forward(y);
    return this.block4.forward(y); // (B, 1) logit
  }
}

export interface MaskUNetConfig {
  /** Encoder channels, one stride-2 5×5 conv each (reference: 16…512 on the 706-bin STFT; here smaller on 64 mels). */
  channels: number[];
  /** Dropout2d on the first three decoder layers (0.5). */
  dropout: number;
}

export const MASK_UNET_SMALL: MaskUNetConfig = { channels: [8, 16, 32], dropout: 0.5 };

/**
 * M (RDAL+M): a Jansson-style U-Net that predicts a [0, 1] mask. The reference masks the linear STFT
 * magnitude (1, 706, 101) with a 6-level, 9.8 M-parameter net; to stay CPU-sized this one masks the
 * *mel magnitude* (1, 64, T) = sqrt(mel power) with a few levels, and the masked power
 * (mask·|M|)² goes through the usual dB step. Encoder: Conv 5×5 stride 2 pad 2 → BN → LeakyReLU(0.2);
 * decoder: ConvTranspose 5×5 stride 2 pad 2 sized to the skip → BN → ReLU (→ Dropout2d on the first
 * three) → concat skip; last layer → 1 channel → sigmoid.
 * @example const m = new MaskUNet(MASK_UNET_SMALL); const mask = m.forward(mag); // (B, 1, 64, T) → same
 */
export class MaskUNet extends Module implements Layer {
  readonly down: { conv: Conv2d; bn: BatchNorm2d }[] = [];
  readonly up: { conv: ConvTranspose2d; bn: BatchNorm2d | null }[] = [];
  readonly drop: Dropout2d;

  constructor(readonly config: MaskUNetConfig) {
    super();
    const ch = config.channels;
    ch.forEach((c, i) => {
      const conv = this.module(`conv${i + 1}`, new Conv2d(i === 0 ? 1 : ch[i - 1]!, c, 5, { stride: 2, padding: 2 }));
      this.down.push({ conv, bn: this.module(`conv${i + 1}_bn`, new BatchNorm2d(c)) });
    });
    // decoder level j goes from depth L−j to L−j−1; its input is the previous decoder output concatenated with the skip
    for (let j = 0; j < ch.length; j++) {
      const level = ch.length - 1 - j; // encoder level whose size we restore
      const cin = j === 0 ? ch[level]! : 2 * ch[level]!;
      const last = level === 0;
      const cout = last ? 1 : ch[level - 1]!;
      const conv = this.module(`deconv${j + 1}`, new ConvTranspose2d(cin, cout, 5, { stride: 2, padding: 2 }));
      this.up.push({ conv, bn: last ? null : this.module(`deconv${j + 1}_bn`, new BatchNorm2d(cout)) });
    }
    this.drop = this.module('dropout', new Dropout2d(config.dropout));
  }

  forward(mag: Tensor): Tensor {
    const sizes: number[][] = [mag.shape.slice(2)]; // spatial size at every depth, input first
    const skips: Tensor[] = [];
    let y = mag; // (B, 1, H, W)
    for (const { conv, bn } of this.down) {
      y = bn.forward(conv.forward(y)).leakyRelu(0.2); // (B, c, ⌈H/2⌉, ⌈W/2⌉)
      skips.push(y);
      sizes.push(y.shape.slice(2));
    }
    for (const [j, { conv, bn }] of this.up.entries()) {
      const level = this.down.length - 1 - j;
      const target = sizes[level]!; // restore the size of the encoder input at this level
      const op = [0, 1].map((d) => target[d]! - (2 * y.size(2 + d) - 1)); // (in−1)·2 − 4 + 5 + op = target
      y = F.convTranspose2d(y, conv.weight, conv.bias, { stride: 2, padding: 2, outputPadding: op });
      if (bn === null) break;
      y = bn.forward(y).relu();
      if (j < 3) y = this.drop.forward(y);
      y = cat([y, skips[level - 1]!], 1); // (B, 2c, h, w)
    }
    return y.sigmoid(); // (B, 1, H, W) mask
  }
}
