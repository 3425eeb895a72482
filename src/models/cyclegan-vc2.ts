// CycleGAN-VC2 generator (Kaneko et al. 2019, "2-1-2D CNN"), the obfuscator F_σ and deobfuscator F_μ of
// Wang et al. 2022 (§6 of the spec). Structure and state-dict keys follow jackaduma/CycleGAN-VC2
// `model_tf.py` (Generator), parameterised by width C and residual blocks R as in
// GANtastic3/MaskCycleGAN-VC (`residual_in_channels`). Input (B, H=161, T): H is zero-padded to a
// multiple of 4 (164) and T to a multiple of 4; the output is cropped back, so shape in = shape out.
// `norm: 'time-local'` (issue 14, short windows) swaps every InstanceNorm, whose statistics span the
// window's time axis, for an AxisNorm that never mixes time steps: the 2D ones normalise each channel over
// frequency per frame, the 1D ones over channels per step. Same keys, plus a `time_local_norm` marker.
import { resolveConfig, checkPosInt, check } from '../config/resolve.js';
import {
  AxisNorm,
  Conv1d,
  Conv2d,
  InstanceNorm1d,
  InstanceNorm2d,
  type Layer,
  Module,
  PixelShuffle,
  Sequential,
} from '../nn/index.js';
import { ones, type Tensor } from '../tensor/index.js';

export interface CycleGanVc2Config {
  /** Input frequency bins H (161 for the DS2 spectrogram). */
  nFreq: number;
  /** Width C: residual channels; the first conv has C/2 (jackaduma: 256; deobfuscator 128; obfuscator 32). */
  channels: number;
  /** Residual blocks R (jackaduma: 6; obfuscator: 3). */
  residualBlocks: number;
  /**
   * 'instance' (undefined: the paper's) or 'time-local' (no statistic across time steps, for short windows).
   * Undefined stays out of config fingerprints, so older checkpoints keep their identity.
   */
  norm?: GeneratorNorm | undefined;
}

export type GeneratorNorm = 'instance' | 'time-local';

export const CYCLEGAN_VC2_DEFAULTS: CycleGanVc2Config = {
  nFreq: 161,
  channels: 32,
  residualBlocks: 3,
  norm: undefined,
};

/**
 * Presets. `obfuscator`/`deobfuscator` follow the spec's recommendation (0.38M / 6.84M parameters);
 * the `cpu-*` presets keep the demo within minutes on two cores.
 */
export const CYCLEGAN_VC2_PRESETS: Record<string, Partial<CycleGanVc2Config>> = {
  obfuscator: { channels: 32, residualBlocks: 3 },
  deobfuscator: { channels: 128, residualBlocks: 6 },
  'cpu-obfuscator': { channels: 16, residualBlocks: 2 },
  'cpu-deobfuscator': { channels: 32, residualBlocks: 3 },
  'obfuscator-param-matched': { channels: 46, residualBlocks: 3 },
};

export function resolveCycleGanVc2Config(partial: unknown = {}): CycleGanVc2Config {
  const c = resolveConfig('CycleGanVc2Config', CYCLEGAN_VC2_DEFAULTS, partial);
  for (const k of ['nFreq', 'channels', 'residualBlocks'] as const) checkPosInt('CycleGanVc2Config', k, c[k]);
  check(c.channels % 2 === 0, 'CycleGanVc2Config', 'channels', 'even (the first conv has channels/2)', c.channels);
  check(
    c.norm === undefined || c.norm === 'instance' || c.norm === 'time-local',
    'CycleGanVc2Config',
    'norm',
    "'instance' or 'time-local'",
    c.norm,
  );
  return c;
}

/** The norm after a 2D conv (per channel over frequency and time, or over frequency per frame). */
function norm2d(c: number, norm: GeneratorNorm | undefined): Module & Layer {
  return norm === 'time-local' ? new AxisNorm(c, 2) : new InstanceNorm2d(c, { affine: true });
}

/** The norm after a 1D conv (per channel over time, or over channels per step). */
function norm1d(c: number, norm: GeneratorNorm | undefined): Module & Layer {
  return norm === 'time-local' ? new AxisNorm(c, 1) : new InstanceNorm1d(c, { affine: true });
}

/** `a · σ(gate)` with both branches Conv2d + InstanceNorm2d (jackaduma's downSample_Generator). */
class DownSample extends Module {
  readonly convLayer: Sequential;
  readonly convLayerGates: Sequential;
  constructor(cin: number, cout: number, norm: GeneratorNorm | undefined) {
    super();
    const branch = (): Sequential =>
      new Sequential(new Conv2d(cin, cout, 5, { stride: 2, padding: 2 }), norm2d(cout, norm));
    this.convLayer = this.module('convLayer', branch());
    this.convLayerGates = this.module('convLayer_gates', branch());
  }
  forward(x: Tensor): Tensor {
    return this.convLayer.forward(x).mul(this.convLayerGates.forward(x).sigmoid());
  }
}

/** Gated 1D residual block: x + IN(Conv1d(IN(Conv1d(x)) · σ(IN(Conv1d_gate(x))))). */
class ResidualLayer extends Module {
  readonly conv1dLayer: Sequential;
  readonly convLayerGates: Sequential;
  readonly conv1dOutLayer: Sequential;
  constructor(c: number, norm: GeneratorNorm | undefined) {
    super();
    const branch = (cin: number, cout: number): Sequential =>
      new Sequential(new Conv1d(cin, cout, 3, { padding: 1 }), norm1d(cout, norm));
    this.conv1dLayer = this.module('conv1d_layer', branch(c, 2 * c));
    this.convLayerGates = this.module('conv_layer_gates', branch(c, 2 * c));
    this.conv1dOutLayer = this.module('conv1d_out_layer', branch(2 * c, c));
  }
  forward(x: Tensor): Tensor {
    const h = this.conv1dLayer.forward(x).mul(this.convLayerGates.forward(x).sigmoid()); // (B, 2C, T/4)
    return x.add(this.conv1dOutLayer.forward(h));
  }
}

/** Conv2d → PixelShuffle(2) → IN → x·σ(x) (jackaduma's self-gated "GLU", i.e. SiLU). Keys upSampleN.{0,2}.* */
class UpSample extends Sequential {
  constructor(cin: number, cout: number, norm: GeneratorNorm | undefined) {
    super(new Conv2d(cin, cout, 5, { padding: 2 }), new PixelShuffle(2), norm2d(cout / 4, norm));
  }
  override forward(x: Tensor): Tensor {
    return super.forward(x).silu();
  }
}

/**
 * The CycleGAN-VC2 generator. forward: (B, H, T) → (B, H, T). `latent(x, stage)` returns the
 * intermediate F_γ used by the privacy loss L_p.
 * @example const obf = new CycleGanVc2Generator(resolveCycleGanVc2Config({ channels: 32, residualBlocks: 3 }));
 */
export class CycleGanVc2Generator extends Module {
  readonly config: CycleGanVc2Config;
  /** Padded height and the height after two stride-2 convs: 161 → 164 → 41. */
  readonly paddedFreq: number;
  readonly latentFreq: number;
  readonly conv1: Conv2d;
  readonly conv1Gates: Conv2d;
  readonly downSample1: DownSample;
  readonly downSample2: DownSample;
  readonly conv2dto1dLayer: Conv1d;
  readonly conv2dto1dLayerTfan: Module & Layer;
  readonly residualLayers: ResidualLayer[] = [];
  readonly conv1dto2dLayer: Conv1d;
  readonly conv1dto2dLayerTfan: Module & Layer;
  readonly upSample1: UpSample;
  readonly upSample2: UpSample;
  readonly lastConvLayer: Conv2d;

  constructor(config: CycleGanVc2Config) {
    super();
    this.config = config;
    const c = config.channels;
    this.paddedFreq = Math.ceil(config.nFreq / 4) * 4;
    this.latentFreq = this.paddedFreq / 4;
    const flat = c * this.latentFreq; // C·41, channel-major
    const n = config.norm;
    if (n === 'time-local') this.buffer('time_local_norm', ones([1])); // the variant, readable from the weights alone
    this.conv1 = this.module('conv1', new Conv2d(1, c / 2, [5, 15], { padding: [2, 7] }));
    this.conv1Gates = this.module('conv1_gates', new Conv2d(1, c / 2, [5, 15], { padding: [2, 7] }));
    this.downSample1 = this.module('downSample1', new DownSample(c / 2, c, n));
    this.downSample2 = this.module('downSample2', new DownSample(c, c, n));
    this.conv2dto1dLayer = this.module('conv2dto1dLayer', new Conv1d(flat, c, 1));
    this.conv2dto1dLayerTfan = this.module('conv2dto1dLayer_tfan', norm1d(c, n));
    for (let i = 1; i <= config.residualBlocks; i++)
      this.residualLayers.push(this.module(`residualLayer${i}`, new ResidualLayer(c, n)));
    this.conv1dto2dLayer = this.module('conv1dto2dLayer', new Conv1d(c, flat, 1));
    this.conv1dto2dLayerTfan = this.module('conv1dto2dLayer_tfan', norm1d(flat, n));
    this.upSample1 = this.module('upSample1', new UpSample(c, 4 * c, n));
    this.upSample2 = this.module('upSample2', new UpSample(c, 2 * c, n));
    this.lastConvLayer = this.module('lastConvLayer', new Conv2d(c / 2, 1, [5, 15], { padding: [2, 7] }));
  }

  /** Zero-pad (B, H, T) to (B, 1, H4, T4). */
  #pad(x: Tensor): Tensor {
    if (x.ndim !== 3 || x.size(1) !== this.config.nFreq) {
      throw new RangeError(
        `CycleGanVc2Generator: input must be (B, ${this.config.nFreq}, T), got [${x.shape.join(', ')}]`,
      );
    }
    const t = x.size(2);
    const padT = (4 - (t % 4)) % 4;
    return x.pad([0, padT, 0, this.paddedFreq - this.config.nFreq]).unsqueeze(1); // (B, 1, H4, T4)
  }

  /** conv1 → down1 → down2: (B, 1, H4, T4) → (B, C, H4/4, T4/4). */
  #encode2d(x: Tensor): Tensor {
    const h = this.conv1.forward(x).mul(this.conv1Gates.forward(x).sigmoid()); // (B, C/2, H4, T4)
    return this.downSample2.forward(this.downSample1.forward(h)); // (B, C, 41, T4/4)
  }

  /** 2D → 1D: (B, C, 41, T') → (B, C, T') */
  #to1d(h: Tensor): Tensor {
    const [b, c, f, t] = h.shape as [number, number, number, number];
    return this.conv2dto1dLayerTfan.forward(this.conv2dto1dLayer.forward(h.reshape([b, c * f, t]))); // (B, C, T')
  }

  forward(x: Tensor): Tensor {
    const [, nFreq, t] = x.shape as [number, number, number];
    let h = this.#to1d(this.#encode2d(this.#pad(x))); // (B, C, T/4)
    for (const r of this.residualLayers) h = r.forward(h);
    h = this.conv1dto2dLayerTfan.forward(this.conv1dto2dLayer.forward(h)); // (B, C·41, T/4)
    const [b, , tq] = h.shape as [number, number, number];
    h = h.reshape([b, this.config.channels, this.latentFreq, tq]); // (B, C, 41, T/4)
    h = this.upSample2.forward(this.upSample1.forward(h)); // (B, C/2, 164, T4)
    const y = this.lastConvLayer.forward(h).squeeze(1); // (B, 164, T4)
    return y.narrow(1, 0, nFreq).narrow(2, 0, t); // (B, 161, T)
  }

  /**
   * F_γ: the generator's first layers, used by the privacy loss. 'down2' → (B, C, 41, T/4);
   * 'conv2dto1d' (default, the spec's choice) → (B, C, T/4); 'residualK' → after residual block K.
   */
  latent(x: Tensor, stage: LatentStage = 'conv2dto1d'): Tensor {
    const h2 = this.#encode2d(this.#pad(x));
    if (stage === 'down2') return h2;
    let h = this.#to1d(h2);
    if (stage === 'conv2dto1d') return h;
    const k = Number(stage.slice('residual'.length));
    if (!Number.isInteger(k) || k < 1 || k > this.residualLayers.length) {
      throw new RangeError(
        `latent stage '${stage}' must be 'down2', 'conv2dto1d' or 'residual1'..'residual${this.residualLayers.length}'`,
      );
    }
    for (let i = 0; i < k; i++) h = this.residualLayers[i]!.forward(h);
    return h;
  }
}

export type LatentStage = 'down2' | 'conv2dto1d' | `residual${number}`;

/** The spec's closed form P(C, R, H') = 225C² + 18R·C² + 2H'·C² + (137.5 + 15R + 3H')·C + 1. */
export function cycleGanVc2ParamCount(c: number, r: number, latentFreq: number): number {
  return 225 * c * c + 18 * r * c * c + 2 * latentFreq * c * c + (137.5 + 15 * r + 3 * latentFreq) * c + 1;
}
