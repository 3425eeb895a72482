// Stochastic gradient descent with momentum, dampening, weight decay and Nesterov momentum, exactly
// torch.optim.SGD 1.13 (`_single_tensor_sgd`): the first step's momentum buffer is a copy of the
// (decayed) gradient, later steps do buf = momentum*buf + (1-dampening)*grad.
import { keep, type Tensor } from '../tensor/index.js';
import {
  checkBoolean,
  checkNonNegative,
  Optimizer,
  type ParamGroup,
  type ParamsArg,
  type ParamState,
} from './optimizer.js';

export interface SGDOptions {
  /** Learning rate (required, as torch). */
  lr: number;
  /** Momentum factor (default 0: plain SGD). */
  momentum?: number;
  /** Dampening of the momentum's gradient term (default 0). */
  dampening?: number;
  /** L2 penalty added to the gradient (default 0). */
  weightDecay?: number;
  /** Nesterov momentum (default false; needs momentum > 0 and dampening 0). */
  nesterov?: boolean;
  /** Maximise the objective instead (default false). */
  maximize?: boolean;
}

export type SGDHyper = Required<SGDOptions>;

const SGD_DEFAULTS: SGDHyper = {
  lr: Number.NaN,
  momentum: 0,
  dampening: 0,
  weightDecay: 0,
  nesterov: false,
  maximize: false,
};

/**
 * torch.optim.SGD.
 * @example
 * const opt = new SGD(model.parameters(), { lr: 0.01, momentum: 0.9, nesterov: true, weightDecay: 1e-4 });
 * opt.zeroGrad(); tidy(() => loss(model.forward(x), y).backward()); opt.step();
 */
export class SGD extends Optimizer<SGDHyper> {
  constructor(params: ParamsArg<SGDHyper>, options: SGDOptions) {
    if (options === undefined || options === null || typeof options !== 'object' || options.lr === undefined) {
      throw new TypeError("SGD: 'lr' is required, e.g. new SGD(params, { lr: 0.01 })");
    }
    super(params, SGD_DEFAULTS, options);
  }

  protected checkHyper(h: SGDHyper, where: string): void {
    for (const k of ['lr', 'momentum', 'dampening', 'weightDecay'] as const) checkNonNegative(h, k, where);
    checkBoolean(h, 'nesterov', where);
    checkBoolean(h, 'maximize', where);
    if (h.nesterov && (h.momentum <= 0 || h.dampening !== 0)) {
      throw new RangeError(
        `'${where}.nesterov' needs 'momentum' > 0 and 'dampening' 0, got momentum ${h.momentum}, dampening ${h.dampening}`,
      );
    }
  }

  protected update(param: Tensor, grad: Tensor, state: ParamState, h: ParamGroup<SGDHyper>): void {
    let dP = h.maximize ? grad.neg() : grad;
    if (h.weightDecay !== 0) dP = dP.add(param, h.weightDecay);
    if (h.momentum !== 0) {
      let buf = state.buffers.get('momentum_buffer');
      if (buf === undefined) {
        buf = keep(dP.clone());
        state.buffers.set('momentum_buffer', buf);
      } else {
        buf.mul_(h.momentum).add_(dP, 1 - h.dampening);
      }
      dP = h.nesterov ? dP.add(buf, h.momentum) : buf;
    }
    param.add_(dP, -h.lr);
  }
}
