// Adam (Kingma & Ba, 2015) and AdamW (Loshchilov & Hutter, 2019), exactly torch.optim 1.13's
// `_single_tensor_adam` / `_single_tensor_adamw`, including amsgrad:
//   m ← β1·m + (1-β1)·g,  v ← β2·v + (1-β2)·g²,  p ← p − lr/(1-β1^t) · m / (√v̂/√(1-β2^t) + ε)
// with v̂ = v, or max over steps of v under amsgrad. Adam adds weightDecay·p to g; AdamW instead
// multiplies p by (1 − lr·weightDecay) before the moments.
import { keep, zerosLike, type Tensor } from '../tensor/index.js';
import {
  checkBoolean,
  checkNonNegative,
  Optimizer,
  type ParamGroup,
  type ParamsArg,
  type ParamState,
} from './optimizer.js';

export interface AdamOptions {
  /** Learning rate (default 1e-3). */
  lr?: number;
  /** Decay rates of the first and second moment averages (default [0.9, 0.999]). */
  betas?: readonly [number, number];
  /** Added to the denominator for stability (default 1e-8). */
  eps?: number;
  /** Adam: L2 penalty added to the gradient (default 0). AdamW: decoupled decay (default 1e-2). */
  weightDecay?: number;
  /** Use the running maximum of the second moment (default false). */
  amsgrad?: boolean;
  /** Maximise the objective instead (default false). */
  maximize?: boolean;
}

export type AdamHyper = Required<AdamOptions>;

const ADAM_DEFAULTS: AdamHyper = {
  lr: 1e-3,
  betas: [0.9, 0.999],
  eps: 1e-8,
  weightDecay: 0,
  amsgrad: false,
  maximize: false,
};

/**
 * torch.optim.Adam.
 * @example const opt = new Adam(model.parameters(), { lr: 2e-4, betas: [0.5, 0.999] });
 */
export class Adam extends Optimizer<AdamHyper> {
  /** AdamW's decoupled weight decay instead of Adam's L2 term. */
  protected readonly decoupled: boolean = false;

  constructor(params: ParamsArg<AdamHyper>, options?: AdamOptions) {
    super(params, ADAM_DEFAULTS, options);
  }

  protected checkHyper(h: AdamHyper, where: string): void {
    for (const k of ['lr', 'eps', 'weightDecay'] as const) checkNonNegative(h, k, where);
    checkBoolean(h, 'amsgrad', where);
    checkBoolean(h, 'maximize', where);
    const b = h.betas;
    if (!Array.isArray(b) || b.length !== 2)
      throw new TypeError(`'${where}.betas' must be [beta1, beta2], got ${JSON.stringify(b)}`);
    b.forEach((v, i) => {
      if (typeof v !== 'number' || !(v >= 0 && v < 1))
        throw new RangeError(`'${where}.betas[${i}]' must be in [0, 1), got ${v}`);
    });
  }

  protected update(param: Tensor, grad: Tensor, state: ParamState, h: ParamGroup<AdamHyper>): void {
    const [beta1, beta2] = h.betas;
    const buffer = (name: string): Tensor => {
      let t = state.buffers.get(name);
      if (t === undefined) state.buffers.set(name, (t = keep(zerosLike(param))));
      return t;
    };
    const expAvg = buffer('exp_avg');
    const expAvgSq = buffer('exp_avg_sq');
    const maxExpAvgSq = h.amsgrad ? buffer('max_exp_avg_sq') : null;

    let g = h.maximize ? grad.neg() : grad;
    if (this.decoupled) param.mul_(1 - h.lr * h.weightDecay);
    else if (h.weightDecay !== 0) g = g.add(param, h.weightDecay);

    expAvg.mul_(beta1).add_(g, 1 - beta1);
    expAvgSq.mul_(beta2).addcmul_(g, g, 1 - beta2);

    const step = state.step;
    const biasCorrection1 = 1 - beta1 ** step;
    const biasCorrection2 = 1 - beta2 ** step;
    const stepSize = h.lr / biasCorrection1;
    let second = expAvgSq;
    if (maxExpAvgSq !== null) second = maxExpAvgSq.copy_(maxExpAvgSq.maximum(expAvgSq));
    const denom = second.sqrt().div(Math.sqrt(biasCorrection2)).add_(h.eps);
    param.addcdiv_(expAvg, denom, -stepSize);
  }
}

/**
 * torch.optim.AdamW: Adam with decoupled weight decay (default weightDecay 1e-2).
 * @example const opt = new AdamW(model.parameters(), { lr: 1e-3, weightDecay: 0.05 });
 */
export class AdamW extends Adam {
  protected override readonly decoupled: boolean = true;

  constructor(params: ParamsArg<AdamHyper>, options?: AdamOptions) {
    super(params, { ...options, weightDecay: options?.weightDecay ?? 1e-2 });
  }
}
