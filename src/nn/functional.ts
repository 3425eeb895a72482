// Functional nn ops: each one boxed call into ATen (torch.nn.functional's names, camelCase); layers delegate here.
import { native, resolveOps } from '../binding/native.js';
import { wrap, wrapAll, type Tensor } from '../tensor/index.js';

const OP = resolveOps({
  linear: 'aten::linear', conv1d: 'aten::conv1d', conv1dPad: 'aten::conv1d.padding', conv2d: 'aten::conv2d',
  conv2dPad: 'aten::conv2d.padding', convTranspose1d: 'aten::conv_transpose1d', convTranspose2d: 'aten::conv_transpose2d.input',
  batchNorm: 'aten::batch_norm', instanceNorm: 'aten::instance_norm', layerNorm: 'aten::layer_norm', groupNorm: 'aten::group_norm',
  lstm: 'aten::lstm.input', gru: 'aten::gru.input', dropout: 'aten::dropout', featureDropout: 'aten::feature_dropout',
  maxPool1d: 'aten::max_pool1d', maxPool2d: 'aten::max_pool2d', avgPool2d: 'aten::avg_pool2d',
  adaptiveAvgPool2d: 'aten::adaptive_avg_pool2d', pixelShuffle: 'aten::pixel_shuffle', pixelUnshuffle: 'aten::pixel_unshuffle',
  glu: 'aten::glu', prelu: 'aten::prelu', embedding: 'aten::embedding',
});

/** An int argument given once for every spatial dimension, or per dimension. */
export type IntOrTuple = number | readonly number[];
/** Conv padding: ints, or 'same' / 'valid' as torch (stride 1 only for 'same'). */
export type ConvPadding = IntOrTuple | 'same' | 'valid';

/** Expand `v` to `n` ints, checking each is an integer >= `min`; errors name `name`. */
export function ntuple(v: IntOrTuple, n: number, name: string, min = 0): number[] {
  const out = typeof v === 'number' ? new Array<number>(n).fill(v) : [...v];
  if (out.length !== n || out.some((d) => !Number.isInteger(d) || d < min)) {
    throw new RangeError(`'${name}' must be an integer >= ${min} or ${n} of them, got ${JSON.stringify(v)}`);
  }
  return out;
}

export interface ConvOptions {
  stride?: IntOrTuple;
  padding?: ConvPadding;
  dilation?: IntOrTuple;
  groups?: number;
}

export interface ConvTransposeOptions {
  stride?: IntOrTuple;
  padding?: IntOrTuple;
  outputPadding?: IntOrTuple;
  dilation?: IntOrTuple;
  groups?: number;
}

/**
 * y = x Wᵀ + b. x: (*, in), weight: (out, in), bias: (out) → (*, out).
 * @example linear(x, w, b)
 */
export function linear(x: Tensor, weight: Tensor, bias: Tensor | null = null): Tensor {
  return wrap(native.call(OP.linear, x.handle, weight.handle, bias?.handle ?? null));
}

function conv(opInt: number, opPad: number, n: number, x: Tensor, w: Tensor, b: Tensor | null, o: ConvOptions): Tensor {
  const stride = ntuple(o.stride ?? 1, n, 'stride', 1);
  const dilation = ntuple(o.dilation ?? 1, n, 'dilation', 1);
  const p = o.padding ?? 0;
  if (p === 'same' || p === 'valid') {
    return wrap(native.call(opPad, x.handle, w.handle, b?.handle ?? null, stride, p, dilation, o.groups ?? 1));
  }
  return wrap(native.call(opInt, x.handle, w.handle, b?.handle ?? null, stride, ntuple(p, n, 'padding'), dilation, o.groups ?? 1));
}

/**
 * 1-d convolution. x: (N, Cin, L), weight: (Cout, Cin/groups, k) → (N, Cout, Lout).
 * @example conv1d(x, w, b, { stride: 2, padding: 1 })
 */
export function conv1d(x: Tensor, weight: Tensor, bias: Tensor | null = null, opts: ConvOptions = {}): Tensor {
  return conv(OP.conv1d, OP.conv1dPad, 1, x, weight, bias, opts);
}

/**
 * 2-d convolution. x: (N, Cin, H, W), weight: (Cout, Cin/groups, kH, kW) → (N, Cout, Hout, Wout).
 * @example conv2d(x, w, b, { padding: 'same' })
 */
export function conv2d(x: Tensor, weight: Tensor, bias: Tensor | null = null, opts: ConvOptions = {}): Tensor {
  return conv(OP.conv2d, OP.conv2dPad, 2, x, weight, bias, opts);
}

function convT(op: number, n: number, x: Tensor, w: Tensor, b: Tensor | null, o: ConvTransposeOptions): Tensor {
  return wrap(native.call(op, x.handle, w.handle, b?.handle ?? null, ntuple(o.stride ?? 1, n, 'stride', 1),
    ntuple(o.padding ?? 0, n, 'padding'), ntuple(o.outputPadding ?? 0, n, 'outputPadding'), o.groups ?? 1,
    ntuple(o.dilation ?? 1, n, 'dilation', 1)));
}

/** Transposed 1-d convolution. x: (N, Cin, L), weight: (Cin, Cout/groups, k) → (N, Cout, Lout). */
export function convTranspose1d(x: Tensor, weight: Tensor, bias: Tensor | null = null, opts: ConvTransposeOptions = {}): Tensor {
  return convT(OP.convTranspose1d, 1, x, weight, bias, opts);
}

/**
 * Transposed 2-d convolution. x: (N, Cin, H, W), weight: (Cin, Cout/groups, kH, kW) → (N, Cout, Hout, Wout),
 * Hout = (H−1)·stride − 2·padding + dilation·(kH−1) + outputPadding + 1.
 * @example convTranspose2d(x, w, b, { stride: 2, padding: 1, outputPadding: 1 })
 */
export function convTranspose2d(x: Tensor, weight: Tensor, bias: Tensor | null = null, opts: ConvTransposeOptions = {}): Tensor {
  return convT(OP.convTranspose2d, 2, x, weight, bias, opts);
}

export interface BatchNormOptions {
  weight?: Tensor | null;
  bias?: Tensor | null;
  /** Normalise with batch statistics and update the running ones (default false). */
  training?: boolean;
  momentum?: number;
  eps?: number;
}

/**
 * Batch norm over (N, C, *) per channel. In training the running stats (if given) are updated in place:
 * r ← (1 − momentum)·r + momentum·batch (unbiased variance for running_var), as torch.
 * @example batchNorm(x, runningMean, runningVar, { weight, bias, training: true })
 */
export function batchNorm(x: Tensor, runningMean: Tensor | null, runningVar: Tensor | null, opts: BatchNormOptions = {}): Tensor {
  return wrap(native.call(OP.batchNorm, x.handle, opts.weight?.handle ?? null, opts.bias?.handle ?? null,
    runningMean?.handle ?? null, runningVar?.handle ?? null, opts.training ?? false, opts.momentum ?? 0.1, opts.eps ?? 1e-5, false));
}

export interface InstanceNormOptions {
  weight?: Tensor | null;
  bias?: Tensor | null;
  /** Normalise with each instance's statistics (default true); false uses the running stats. */
  useInputStats?: boolean;
  momentum?: number;
  eps?: number;
}

/**
 * Instance norm: each (n, c) slice of x: (N, C, *) normalised over its own * dims.
 * @example instanceNorm(x, null, null, { weight, bias })
 */
export function instanceNorm(x: Tensor, runningMean: Tensor | null = null, runningVar: Tensor | null = null, opts: InstanceNormOptions = {}): Tensor {
  return wrap(native.call(OP.instanceNorm, x.handle, opts.weight?.handle ?? null, opts.bias?.handle ?? null,
    runningMean?.handle ?? null, runningVar?.handle ?? null, opts.useInputStats ?? true, opts.momentum ?? 0.1, opts.eps ?? 1e-5, false));
}

/**
 * Layer norm over the trailing dims `normalizedShape` of x: (*, ...normalizedShape).
 * @example layerNorm(x, [64], w, b)
 */
export function layerNorm(x: Tensor, normalizedShape: readonly number[], weight: Tensor | null = null, bias: Tensor | null = null, eps = 1e-5): Tensor {
  return wrap(native.call(OP.layerNorm, x.handle, normalizedShape, weight?.handle ?? null, bias?.handle ?? null, eps, false));
}

/** Group norm: x: (N, C, *) with C split into `numGroups` groups, each normalised. */
export function groupNorm(x: Tensor, numGroups: number, weight: Tensor | null = null, bias: Tensor | null = null, eps = 1e-5): Tensor {
  return wrap(native.call(OP.groupNorm, x.handle, numGroups, weight?.handle ?? null, bias?.handle ?? null, eps, false));
}

export interface RnnOptions {
  hasBiases: boolean;
  numLayers: number;
  /** Dropout on the outputs of every layer but the last, in training. */
  dropout: number;
  training: boolean;
  bidirectional: boolean;
  batchFirst: boolean;
}

/**
 * Multi-layer LSTM. x: (T, B, I) or (B, T, I) with batchFirst; h0, c0: (L·D, B, H);
 * params: per layer and direction [w_ih, w_hh, b_ih, b_hh] → output (…, D·H), h, c: (L·D, B, H).
 */
export function lstm(x: Tensor, h0: Tensor, c0: Tensor, params: readonly Tensor[], o: RnnOptions): { output: Tensor; h: Tensor; c: Tensor } {
  const [output, h, c] = wrapAll(native.call(OP.lstm, x.handle, [h0.handle, c0.handle], params.map((p) => p.handle),
    o.hasBiases, o.numLayers, o.dropout, o.training, o.bidirectional, o.batchFirst));
  return { output: output!, h: h!, c: c! };
}

/** Multi-layer GRU; shapes as lstm() without the cell state; params per layer and direction [w_ih, w_hh, b_ih, b_hh]. */
export function gru(x: Tensor, h0: Tensor, params: readonly Tensor[], o: RnnOptions): { output: Tensor; h: Tensor } {
  const [output, h] = wrapAll(native.call(OP.gru, x.handle, h0.handle, params.map((p) => p.handle),
    o.hasBiases, o.numLayers, o.dropout, o.training, o.bidirectional, o.batchFirst));
  return { output: output!, h: h! };
}

/**
 * Zero each element with probability p and scale survivors by 1/(1−p), only when `training`.
 * @example dropout(x, 0.5, model.training)
 */
export function dropout(x: Tensor, p = 0.5, training = true): Tensor {
  if (!(p >= 0 && p <= 1)) throw new RangeError(`dropout: 'p' must be in [0, 1], got ${p}`);
  return wrap(native.call(OP.dropout, x.handle, p, training));
}

/** Dropout of whole channels (torch's Dropout2d on (N, C, H, W)): each (n, c) map is kept or zeroed. */
export function featureDropout(x: Tensor, p = 0.5, training = true): Tensor {
  if (!(p >= 0 && p <= 1)) throw new RangeError(`featureDropout: 'p' must be in [0, 1], got ${p}`);
  return wrap(native.call(OP.featureDropout, x.handle, p, training));
}

export interface PoolOptions {
  /** Default: the kernel size. */
  stride?: IntOrTuple;
  padding?: IntOrTuple;
  dilation?: IntOrTuple;
  ceilMode?: boolean;
}

/** Max pooling. x: (N, C, L) → (N, C, Lout). */
export function maxPool1d(x: Tensor, kernelSize: IntOrTuple, o: PoolOptions = {}): Tensor {
  return wrap(native.call(OP.maxPool1d, x.handle, ntuple(kernelSize, 1, 'kernelSize', 1), ntuple(o.stride ?? kernelSize, 1, 'stride', 1),
    ntuple(o.padding ?? 0, 1, 'padding'), ntuple(o.dilation ?? 1, 1, 'dilation', 1), o.ceilMode ?? false));
}

/**
 * Max pooling. x: (N, C, H, W) → (N, C, Hout, Wout).
 * @example maxPool2d(x, 2) // halves H and W
 */
export function maxPool2d(x: Tensor, kernelSize: IntOrTuple, o: PoolOptions = {}): Tensor {
  return wrap(native.call(OP.maxPool2d, x.handle, ntuple(kernelSize, 2, 'kernelSize', 1), ntuple(o.stride ?? kernelSize, 2, 'stride', 1),
    ntuple(o.padding ?? 0, 2, 'padding'), ntuple(o.dilation ?? 1, 2, 'dilation', 1), o.ceilMode ?? false));
}

/** Average pooling (padding counted, as torch's default). x: (N, C, H, W) → (N, C, Hout, Wout). */
export function avgPool2d(x: Tensor, kernelSize: IntOrTuple, o: Omit<PoolOptions, 'dilation'> = {}): Tensor {
  return wrap(native.call(OP.avgPool2d, x.handle, ntuple(kernelSize, 2, 'kernelSize', 1), ntuple(o.stride ?? kernelSize, 2, 'stride', 1),
    ntuple(o.padding ?? 0, 2, 'padding'), o.ceilMode ?? false, true, null));
}

/** Average to a fixed output size. x: (N, C, H, W) → (N, C, oH, oW). */
export function adaptiveAvgPool2d(x: Tensor, outputSize: IntOrTuple): Tensor {
  return wrap(native.call(OP.adaptiveAvgPool2d, x.handle, ntuple(outputSize, 2, 'outputSize', 1)));
}

/**
 * Rearrange (N, C·r², H, W) → (N, C, H·r, W·r).
 * @example pixelShuffle(x, 2)
 */
export function pixelShuffle(x: Tensor, upscaleFactor: number): Tensor {
  return wrap(native.call(OP.pixelShuffle, x.handle, upscaleFactor));
}

/** Inverse of pixelShuffle: (N, C, H·r, W·r) → (N, C·r², H, W). */
export function pixelUnshuffle(x: Tensor, downscaleFactor: number): Tensor {
  return wrap(native.call(OP.pixelUnshuffle, x.handle, downscaleFactor));
}

/**
 * Gated linear unit: split `dim` in halves a, b → a·σ(b) (that dim halves).
 * @example glu(x, 1) // (N, 2C, T) → (N, C, T)
 */
export function glu(x: Tensor, dim = -1): Tensor {
  return wrap(native.call(OP.glu, x.handle, dim));
}

/** max(0, x) + weight·min(0, x), weight: (1) or (C) broadcast over dim 1. */
export function prelu(x: Tensor, weight: Tensor): Tensor {
  return wrap(native.call(OP.prelu, x.handle, weight.handle));
}

/** Rows of weight: (numEmbeddings, dim) picked by int64 indices (*) → (*, dim). */
export function embedding(indices: Tensor, weight: Tensor): Tensor {
  return wrap(native.call(OP.embedding, weight.handle, indices.handle, -1, false, false));
}

/**
 * Gradient reversal (Ganin & Lempitsky 2015): identity forward, −alpha·grad backward.
 * @example const adv = classifier.forward(gradReverse(features, 1.0));
 */
export function gradReverse(x: Tensor, alpha = 1): Tensor {
  if (!Number.isFinite(alpha)) throw new RangeError(`gradReverse: 'alpha' must be a finite number, got ${alpha}`);
  return wrap(native.gradReverse(x.handle, alpha));
}

// activations: the Tensor methods under torch.nn.functional's names
export const relu = (x: Tensor): Tensor => x.relu();
export const leakyRelu = (x: Tensor, negativeSlope = 0.01): Tensor => x.leakyRelu(negativeSlope);
export const hardtanh = (x: Tensor, minVal = -1, maxVal = 1): Tensor => x.hardtanh(minVal, maxVal);
export const tanh = (x: Tensor): Tensor => x.tanh();
export const sigmoid = (x: Tensor): Tensor => x.sigmoid();
export const softplus = (x: Tensor, beta = 1, threshold = 20): Tensor => x.softplus(beta, threshold);
export const elu = (x: Tensor, alpha = 1): Tensor => x.elu(alpha);
export const gelu = (x: Tensor): Tensor => x.gelu();
export const silu = (x: Tensor): Tensor => x.silu();
export const softmax = (x: Tensor, dim: number): Tensor => x.softmax(dim);
export const logSoftmax = (x: Tensor, dim: number): Tensor => x.logSoftmax(dim);
