// The TDNN x-vector extractor (Snyder et al., "X-vectors: robust DNN embeddings for speaker
// recognition", ICASSP 2018; Kaldi egs/sre16/v2 xconfig): five frame-level TDNN layers with contexts
// [t−2, t+2], {t−2, t, t+2}, {t−3, t, t+3}, {t}, {t} (dilated 1-D convolutions, each ReLU → BatchNorm as
// Kaldi's relu-batchnorm-layer), statistics pooling (mean and standard deviation over time), two
// segment layers, and a speaker softmax. The x-vector is segment6's affine output (before its ReLU), as
// Kaldi extracts it, length-normalised (x/‖x‖) here.
// Input, a choice made for earmark: the DS2 spectrogram every other model here consumes (161 bins of
// per-utterance-normalised log1p |STFT|, 10 ms frames), not Kaldi's 30-d MFCCs, so the same cached
// features, obfuscator outputs and McAdams features feed the verification attackers unchanged.
import { check, checkPosInt, resolveConfig } from '../config/resolve.js';
import { BatchNorm1d, Conv1d, Linear, Module, ModuleList } from '../nn/index.js';
import { cat, tidy, type Tensor } from '../tensor/index.js';

export interface XVectorConfig {
  /** Input feature rows (161 for the DS2 spectrogram). */
  nFeatures: number;
  /** Width of frame layers 1–4 (Snyder et al.: 512). */
  channels: number;
  /** Width of frame layer 5, the one that is pooled (Snyder et al.: 1500). */
  poolChannels: number;
  /** Embedding size: segment6 and segment7 widths (Snyder et al. and ADR: 512). */
  embedDim: number;
  /** Training speakers (softmax size). */
  numSpeakers: number;
}

export const XVECTOR_DEFAULTS: XVectorConfig = {
  nFeatures: 161,
  channels: 512,
  poolChannels: 1500,
  embedDim: 512,
  numSpeakers: 2,
};

/** `paper`: Snyder et al.'s sizes (4.2M parameters before the softmax). `cpu`: trains in a minute on two cores. */
export const XVECTOR_PRESETS: Record<'paper' | 'cpu', Partial<XVectorConfig>> = {
  paper: {},
  cpu: { channels: 64, poolChannels: 192, embedDim: 512 },
};

export function resolveXVectorConfig(partial: unknown = {}): XVectorConfig {
  const c = resolveConfig('XVectorConfig', XVECTOR_DEFAULTS, partial);
  for (const k of ['nFeatures', 'channels', 'poolChannels', 'embedDim', 'numSpeakers'] as const)
    checkPosInt('XVectorConfig', k, c[k]);
  check(c.numSpeakers >= 2, 'XVectorConfig', 'numSpeakers', 'at least 2', c.numSpeakers);
  return c;
}

/** Frame-layer (kernel, dilation) pairs: contexts ±2, ±2 (step 2), ±3 (step 3), 0, 0. */
const FRAME_LAYERS: readonly [number, number][] = [
  [5, 1],
  [3, 2],
  [3, 3],
  [1, 1],
  [1, 1],
];

/** Frames of context the frame layers consume (15: an utterance must have at least this many frames). */
export const XVECTOR_MIN_FRAMES = 1 + FRAME_LAYERS.reduce((n, [k, d]) => n + (k - 1) * d, 0);

/** One TDNN layer: dilated Conv1d → ReLU → BatchNorm1d. Keys: conv.*, bn.* */
class Tdnn extends Module {
  readonly conv: Conv1d;
  readonly bn: BatchNorm1d;
  constructor(inCh: number, outCh: number, kernel: number, dilation: number) {
    super();
    this.conv = this.module('conv', new Conv1d(inCh, outCh, kernel, { dilation }));
    this.bn = this.module('bn', new BatchNorm1d(outCh));
  }
  forward(x: Tensor): Tensor {
    return this.bn.forward(this.conv.forward(x).relu()); // (B, C, T − (k−1)·d)
  }
}

/** Mean and standard deviation over time: (B, C, T) → (B, 2C) = [mean, std]. */
export function statsPooling(x: Tensor): Tensor {
  return tidy(() => {
    const mean = x.mean(2); // (B, C)
    const std = x.var(2, { unbiased: false }).clamp(1e-5).sqrt(); // (B, C), floored as Kaldi's variance floor
    return cat([mean, std], 1);
  });
}

/**
 * x-vector network. forward: (B, nFeatures, T ≥ 15) → speaker logits (B, numSpeakers);
 * embed: → length-normalised x-vectors (B, embedDim).
 * @example
 * const xv = new XVector(resolveXVectorConfig({ ...XVECTOR_PRESETS.cpu, numSpeakers: 16 }));
 * const e = xv.eval().embed(spec); // (1, 512), ‖e‖ = 1
 */
export class XVector extends Module {
  readonly config: XVectorConfig;
  readonly frames: ModuleList<Tdnn>;
  readonly segment6: Linear;
  readonly bn6: BatchNorm1d;
  readonly segment7: Linear;
  readonly bn7: BatchNorm1d;
  readonly output: Linear;

  constructor(config: XVectorConfig) {
    super();
    this.config = config;
    const { nFeatures, channels, poolChannels, embedDim } = config;
    const widths = [channels, channels, channels, channels, poolChannels];
    this.frames = this.module(
      'frames',
      new ModuleList(FRAME_LAYERS.map(([k, d], i) => new Tdnn(i === 0 ? nFeatures : channels, widths[i]!, k, d))),
    );
    this.segment6 = this.module('segment6', new Linear(2 * poolChannels, embedDim));
    this.bn6 = this.module('bn6', new BatchNorm1d(embedDim));
    this.segment7 = this.module('segment7', new Linear(embedDim, embedDim));
    this.bn7 = this.module('bn7', new BatchNorm1d(embedDim));
    this.output = this.module('output', new Linear(embedDim, config.numSpeakers));
  }

  /** segment6's affine output, the raw x-vector: (B, F, T) → (B, embedDim). */
  embedRaw(x: Tensor): Tensor {
    if (x.ndim !== 3 || x.size(1) !== this.config.nFeatures) {
      throw new RangeError(`XVector: input must be (B, ${this.config.nFeatures}, T), got [${x.shape.join(', ')}]`);
    }
    if (x.size(2) < XVECTOR_MIN_FRAMES) {
      throw new RangeError(
        `XVector: input has ${x.size(2)} frames; the TDNN context needs at least ${XVECTOR_MIN_FRAMES} (tile short utterances first)`,
      );
    }
    let h = x;
    for (const layer of this.frames.items) h = layer.forward(h); // (B, C, T'), last C = poolChannels
    return this.segment6.forward(statsPooling(h)); // (B, embedDim)
  }

  /** Length-normalised x-vectors (B, embedDim). */
  embed(x: Tensor): Tensor {
    return tidy(() => {
      const e = this.embedRaw(x);
      return e.div(e.norm(2, 1, true).clamp(1e-12)); // (B, embedDim), unit L2 norm
    });
  }

  /** Speaker logits (B, numSpeakers), for training. */
  forward(x: Tensor): Tensor {
    const e6 = this.bn6.forward(this.embedRaw(x).relu()); // (B, E)
    const e7 = this.bn7.forward(this.segment7.forward(e6).relu()); // (B, E)
    return this.output.forward(e7);
  }
}
