// Losses as torch.nn.functional, one ATen call each: crossEntropy (hard or soft targets), nll, BCE, MSE, L1.
import { call, OP } from '../binding/ops.js';
import { REDUCTION, wrap, type Tensor } from '../tensor/index.js';

export type Reduction = 'mean' | 'sum' | 'none';

function reductionCode(fn: string, r: Reduction | undefined): number {
  const code = REDUCTION[r ?? 'mean'];
  if (code === undefined)
    throw new RangeError(`${fn}: 'reduction' must be 'mean', 'sum' or 'none', got '${String(r)}'`);
  return code;
}

function sameShape(fn: string, input: Tensor, target: Tensor): void {
  const a = input.shape;
  const b = target.shape;
  if (a.length !== b.length || a.some((d, i) => d !== b[i])) {
    throw new RangeError(
      `${fn}: 'target' has shape [${b.join(', ')}] but 'input' has [${a.join(', ')}]; they must match (no silent broadcasting)`,
    );
  }
}

export interface CrossEntropyOptions {
  /** (C) per-class weights. */
  weight?: Tensor | null;
  /** Hard targets equal to this class are skipped (default −100). */
  ignoreIndex?: number;
  reduction?: Reduction;
  /** Mix the target with the uniform distribution: (1 − ε)·target + ε/C (default 0). */
  labelSmoothing?: number;
}

/**
 * Cross-entropy of logits input: (N, C) or (N, C, d…) or (C) against either class indices (int64, (N) or (N, d…))
 * or class probabilities (float, same shape as input), as torch.nn.functional.cross_entropy.
 * Hard: −w[y]·log softmax(x)[y], mean divided by Σ w[y]; soft: −Σ_c w[c]·p_c·log softmax(x)_c, mean over N·d….
 * @example crossEntropy(logits, labels, { labelSmoothing: 0.1 })
 */
export function crossEntropy(input: Tensor, target: Tensor, opts: CrossEntropyOptions = {}): Tensor {
  const ls = opts.labelSmoothing ?? 0;
  if (!(ls >= 0 && ls <= 1)) throw new RangeError(`crossEntropy: 'labelSmoothing' must be in [0, 1], got ${ls}`);
  const soft = target.dtype === 'float32' || target.dtype === 'float64';
  if (soft) sameShape('crossEntropy', input, target);
  else if (target.dtype !== 'int64') {
    throw new TypeError(
      `crossEntropy: 'target' must hold int64 class indices or float probabilities, got ${target.dtype}; convert with target.long()`,
    );
  }
  return wrap(
    call(
      OP.crossEntropy,
      input.handle,
      target.handle,
      opts.weight?.handle ?? null,
      reductionCode('crossEntropy', opts.reduction),
      opts.ignoreIndex ?? -100,
      ls,
    ),
  );
}

/** Negative log likelihood of log-probabilities input: (N, C, d…) at int64 targets (N, d…). */
export function nllLoss(input: Tensor, target: Tensor, opts: Omit<CrossEntropyOptions, 'labelSmoothing'> = {}): Tensor {
  if (target.dtype !== 'int64')
    throw new TypeError(`nllLoss: 'target' must hold int64 class indices, got ${target.dtype}`);
  return wrap(
    call(
      OP.nll,
      input.handle,
      target.handle,
      opts.weight?.handle ?? null,
      reductionCode('nllLoss', opts.reduction),
      opts.ignoreIndex ?? -100,
    ),
  );
}

export interface BceOptions {
  /** Rescales each element's loss (broadcast to input). */
  weight?: Tensor | null;
  /** (C) weight of positive examples, broadcast along the last dim. */
  posWeight?: Tensor | null;
  reduction?: Reduction;
}

/**
 * Binary cross-entropy of logits x with targets y in [0, 1], numerically stable:
 * ℓ = −w·[p·y·log σ(x) + (1 − y)·log(1 − σ(x))], p = posWeight.
 * @example bceWithLogits(logits, labels.float())
 */
export function bceWithLogits(input: Tensor, target: Tensor, opts: BceOptions = {}): Tensor {
  sameShape('bceWithLogits', input, target);
  return wrap(
    call(
      OP.bceWithLogits,
      input.handle,
      target.handle,
      opts.weight?.handle ?? null,
      opts.posWeight?.handle ?? null,
      reductionCode('bceWithLogits', opts.reduction),
    ),
  );
}

/**
 * Mean squared error (x − y)², input and target of the same shape.
 * @example mseLoss(pred, target, { reduction: 'sum' })
 */
export function mseLoss(input: Tensor, target: Tensor, opts: { reduction?: Reduction } = {}): Tensor {
  sameShape('mseLoss', input, target);
  return wrap(call(OP.mse, input.handle, target.handle, reductionCode('mseLoss', opts.reduction)));
}

/**
 * Mean absolute error |x − y|, input and target of the same shape.
 * @example l1Loss(reconstruction, spectrogram)
 */
export function l1Loss(input: Tensor, target: Tensor, opts: { reduction?: Reduction } = {}): Tensor {
  sameShape('l1Loss', input, target);
  return wrap(call(OP.l1, input.handle, target.handle, reductionCode('l1Loss', opts.reduction)));
}

/** Huber-like loss: 0.5·d²/beta where |d| < beta, else |d| − 0.5·beta (default beta 1). */
export function smoothL1Loss(
  input: Tensor,
  target: Tensor,
  opts: { reduction?: Reduction; beta?: number } = {},
): Tensor {
  sameShape('smoothL1Loss', input, target);
  const beta = opts.beta ?? 1;
  if (!(beta >= 0)) throw new RangeError(`smoothL1Loss: 'beta' must be >= 0, got ${beta}`);
  return wrap(call(OP.smoothL1, input.handle, target.handle, reductionCode('smoothL1Loss', opts.reduction), beta));
}
