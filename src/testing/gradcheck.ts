// Finite-difference gradient checks (float64), as torch.autograd.gradcheck: the analytic gradient
// of sum(f(x) * r) for a fixed random r is compared with central differences, one input element at a time.
import { noGrad, randnLike, tidy, type Tensor } from '../tensor/index.js';

export interface GradcheckOptions {
  /** Finite-difference step (default 1e-6). */
  eps?: number;
  /** Absolute tolerance (default 1e-5). */
  atol?: number;
  /** Relative tolerance (default 1e-3). */
  rtol?: number;
  /** Check at most this many elements per input, spread evenly (default 64; Infinity for all). */
  maxElements?: number;
}

/**
 * Throws an Error naming the input, element, analytic and numeric values when they disagree.
 * Inputs must be float64 leaves; those with requiresGrad are checked.
 * @example gradcheck((x) => x.tanh(), [randn([3, 4], { dtype: 'float64', requiresGrad: true })]);
 */
export function gradcheck(f: (...inputs: Tensor[]) => Tensor, inputs: Tensor[], opts: GradcheckOptions = {}): void {
  const eps = opts.eps ?? 1e-6;
  const atol = opts.atol ?? 1e-5;
  const rtol = opts.rtol ?? 1e-3;
  const maxElements = opts.maxElements ?? 64;
  for (const [i, x] of inputs.entries()) {
    if (x.dtype !== 'float64') throw new TypeError(`gradcheck: input ${i} must be float64, got ${x.dtype}`);
  }
  tidy(() => {
    const probe = noGrad(() => randnLike(f(...inputs)));
    const scalar = (): number =>
      noGrad(() =>
        tidy(() =>
          f(...inputs)
            .mul(probe)
            .sum()
            .item(),
        ),
      );
    for (const x of inputs) x.setGrad(null);
    f(...inputs)
      .mul(probe)
      .sum()
      .backward();
    for (const [i, x] of inputs.entries()) {
      if (!x.requiresGrad) continue;
      const g = x.grad;
      const analytic = g === null ? new Float64Array(x.numel) : (g.data() as Float64Array);
      const n = x.numel;
      const step = Math.max(1, Math.floor(n / Math.min(n, maxElements)));
      const flat = x.detach().view([-1]); // shares storage with x
      for (let j = 0; j < n; j += step) {
        const orig = noGrad(() => tidy(() => flat.narrow(0, j, 1).item()));
        const set = (v: number): void =>
          noGrad(() => {
            tidy(() => flat.narrow(0, j, 1).fill_(v));
          });
        set(orig + eps);
        const up = scalar();
        set(orig - eps);
        const down = scalar();
        set(orig);
        const numeric = (up - down) / (2 * eps);
        const a = analytic[j]!;
        if (!(Math.abs(a - numeric) <= atol + rtol * Math.abs(numeric))) {
          throw new Error(
            `gradcheck: input ${i} element ${j}: analytic ${a} vs numeric ${numeric} (shape [${x.shape.join(', ')}])`,
          );
        }
      }
      x.setGrad(null);
    }
  });
}
