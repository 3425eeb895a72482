// Functional nn ops: each one boxed call into ATen (torch.nn.functional's names, camelCase); layers delegate here.
import { native } from '../binding/native.js';
import { call, OP } from '../binding/ops.js';
import { wrap, wrapAll, type Tensor } from '../tensor/index.js';

export * from './functional-conv.js';

/**
 * y = x Wᵀ + b. x: (*, in), weight: (out, in), bias: (out) → (*, out).
 * @example linear(x, w, b)
 */
export function linear(x: Tensor, weight: Tensor, bias: Tensor | null = null): Tensor {
  return wrap(call(OP.linear, x.handle, weight.handle, bias?.handle ?? null));
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
export function batchNorm(
  x: Tensor,
  runningMean: Tensor | null,
  runningVar: Tensor | null,
  opts: BatchNormOptions = {},
): Tensor {
  return wrap(
    call(
      OP.batchNorm,
      x.handle,
      opts.weight?.handle ?? null,
      opts.bias?.handle ?? null,
      runningMean?.handle ?? null,
      runningVar?.handle ?? null,
      opts.training ?? false,
      opts.momentum ?? 0.1,
      opts.eps ?? 1e-5,
      false,
    ),
  );
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
export function instanceNorm(
  x: Tensor,
  runningMean: Tensor | null = null,
  runningVar: Tensor | null = null,
  opts: InstanceNormOptions = {},
): Tensor {
  return wrap(
    call(
      OP.instanceNorm,
      x.handle,
      opts.weight?.handle ?? null,
      opts.bias?.handle ?? null,
      runningMean?.handle ?? null,
      runningVar?.handle ?? null,
      opts.useInputStats ?? true,
      opts.momentum ?? 0.1,
      opts.eps ?? 1e-5,
      false,
    ),
  );
}

/**
 * Layer norm over the trailing dims `normalizedShape` of x: (*, ...normalizedShape).
 * @example layerNorm(x, [64], w, b)
 */
export function layerNorm(
  x: Tensor,
  normalizedShape: readonly number[],
  weight: Tensor | null = null,
  bias: Tensor | null = null,
  eps = 1e-5,
): Tensor {
  return wrap(call(OP.layerNorm, x.handle, normalizedShape, weight?.handle ?? null, bias?.handle ?? null, eps, false));
}

/** Group norm: x: (N, C, *) with C split into `numGroups` groups, each normalised. */
export function groupNorm(
  x: Tensor,
  numGroups: number,
  weight: Tensor | null = null,
  bias: Tensor | null = null,
  eps = 1e-5,
): Tensor {
  return wrap(call(OP.groupNorm, x.handle, numGroups, weight?.handle ?? null, bias?.handle ?? null, eps, false));
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
export function lstm(
  x: Tensor,
  h0: Tensor,
  c0: Tensor,
  params: readonly Tensor[],
  o: RnnOptions,
): { output: Tensor; h: Tensor; c: Tensor } {
  const [output, h, c] = wrapAll(
    call(
      OP.lstm,
      x.handle,
      [h0.handle, c0.handle],
      params.map((p) => p.handle),
      o.hasBiases,
      o.numLayers,
      o.dropout,
      o.training,
      o.bidirectional,
      o.batchFirst,
    ),
  );
  return { output: output!, h: h!, c: c! };
}

/** Multi-layer GRU; shapes as lstm() without the cell state; params per layer and direction [w_ih, w_hh, b_ih, b_hh]. */
export function gru(x: Tensor, h0: Tensor, params: readonly Tensor[], o: RnnOptions): { output: Tensor; h: Tensor } {
  const [output, h] = wrapAll(
    call(
      OP.gru,
      x.handle,
      h0.handle,
      params.map((p) => p.handle),
      o.hasBiases,
      o.numLayers,
      o.dropout,
      o.training,
      o.bidirectional,
      o.batchFirst,
    ),
  );
  return { output: output!, h: h! };
}

/**
 * Zero each element with probability p and scale survivors by 1/(1−p), only when `training`.
 * @example dropout(x, 0.5, model.training)
 */
export function dropout(x: Tensor, p = 0.5, training = true): Tensor {
  if (!(p >= 0 && p <= 1)) throw new RangeError(`dropout: 'p' must be in [0, 1], got ${p}`);
  return wrap(call(OP.dropout, x.handle, p, training));
}

/** Dropout of whole channels (torch's Dropout2d on (N, C, H, W)): each (n, c) map is kept or zeroed. */
export function featureDropout(x: Tensor, p = 0.5, training = true): Tensor {
  if (!(p >= 0 && p <= 1)) throw new RangeError(`featureDropout: 'p' must be in [0, 1], got ${p}`);
  return wrap(call(OP.featureDropout, x.handle, p, training));
}

/**
 * Rearrange (N, C·r², H, W) → (N, C, H·r, W·r).
 * @example pixelShuffle(x, 2)
 */
export function pixelShuffle(x: Tensor, upscaleFactor: number): Tensor {
  return wrap(call(OP.pixelShuffle, x.handle, upscaleFactor));
}

/** Inverse of pixelShuffle: (N, C, H·r, W·r) → (N, C·r², H, W). */
export function pixelUnshuffle(x: Tensor, downscaleFactor: number): Tensor {
  return wrap(call(OP.pixelUnshuffle, x.handle, downscaleFactor));
}

/**
 * Gated linear unit: split `dim` in halves a, b → a·σ(b) (that dim halves).
 * @example glu(x, 1) // (N, 2C, T) → (N, C, T)
 */
export function glu(x: Tensor, dim = -1): Tensor {
  return wrap(call(OP.glu, x.handle, dim));
}

/** max(0, x) + weight·min(0, x), weight: (1) or (C) broadcast over dim 1. */
export function prelu(x: Tensor, weight: Tensor): Tensor {
  return wrap(call(OP.prelu, x.handle, weight.handle));
}

/** Rows of weight: (numEmbeddings, dim) picked by int64 indices (*) → (*, dim). */
export function embedding(indices: Tensor, weight: Tensor): Tensor {
  return wrap(call(OP.embedding, weight.handle, indices.handle, -1, false, false));
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
