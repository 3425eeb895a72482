// Gradient clipping, as torch.nn.utils.clip_grad_norm_ / clip_grad_value_ (1.13): gradients are
// changed in place; parameters without a gradient are skipped.
import { call, OP } from '../binding/ops.js';
import { noGrad, stack, tidy, wrap, type Tensor } from '../tensor/index.js';

function gradsOf(params: Tensor | readonly Tensor[]): Tensor[] {
  const list = Array.isArray(params) ? params : [params];
  const grads: Tensor[] = [];
  for (const [i, p] of (list as readonly unknown[]).entries()) {
    if (typeof p !== 'object' || p === null || !('grad' in p))
      throw new TypeError(`'parameters[${i}]' must be a Tensor`);
    const g = (p as Tensor).grad;
    if (g !== null) grads.push(g);
  }
  return grads;
}

/**
 * Scale all gradients together so their joint `normType`-norm is at most `maxNorm`; returns the norm
 * before clipping (torch returns it as a 0-d tensor; here it is a number).
 * @param normType 2 (default), any p > 0, or Infinity for the max-abs norm.
 * @example const norm = clipGradNorm_(model.parameters(), 1.0); // after backward(), before step()
 */
export function clipGradNorm_(
  parameters: Tensor | readonly Tensor[],
  maxNorm: number,
  normType = 2,
  opts: { errorIfNonfinite?: boolean } = {},
): number {
  if (typeof maxNorm !== 'number' || !(maxNorm >= 0))
    throw new RangeError(`'maxNorm' must be a number >= 0, got ${maxNorm}`);
  if (typeof normType !== 'number' || !(normType > 0))
    throw new RangeError(`'normType' must be > 0 or Infinity, got ${normType}`);
  return tidy(() =>
    noGrad(() => {
      const grads = gradsOf(parameters);
      if (grads.length === 0) return 0;
      let total: Tensor;
      if (normType === Infinity) {
        const norms = grads.map((g) => g.abs().max());
        total = norms.length === 1 ? norms[0]! : stack(norms).max();
      } else {
        const pNorm = (t: Tensor): Tensor =>
          wrap(call(OP.legacyNorm, t.handle, normType, [...Array(t.ndim).keys()], false));
        total = pNorm(stack(grads.map(pNorm)));
      }
      const value = total.item();
      if (opts.errorIfNonfinite && !Number.isFinite(value)) {
        throw new RangeError(
          `clipGradNorm_: the total norm of order ${normType} is ${value}; fix the non-finite gradients ` +
            'or pass { errorIfNonfinite: false } to scale by it anyway',
        );
      }
      // torch: clip_coef = max_norm / (total_norm + 1e-6), i.e. reciprocal() * max_norm, clamped at 1
      const coef = total.add(1e-6).reciprocal().mul(maxNorm).clamp(null, 1);
      for (const g of grads) g.mul_(coef);
      return value;
    }),
  );
}

/**
 * Clamp every gradient element to [-clipValue, clipValue] in place.
 * @example clipGradValue_(model.parameters(), 0.5);
 */
export function clipGradValue_(parameters: Tensor | readonly Tensor[], clipValue: number): void {
  if (typeof clipValue !== 'number' || !(clipValue >= 0))
    throw new RangeError(`'clipValue' must be a number >= 0, got ${clipValue}`);
  tidy(() =>
    noGrad(() => {
      for (const g of gradsOf(parameters)) g.clamp_(-clipValue, clipValue);
    }),
  );
}
