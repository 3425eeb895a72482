// Learning-rate schedules over an optimiser's parameter groups, as torch.optim.lr_scheduler 1.13:
// StepLR (multiply by gamma every stepSize epochs) and ReduceLROnPlateau (multiply by factor when a
// metric stops improving). Each has a JSON state dict for checkpoints.
import { EarmarkError } from '../errors.js';

/** Any optimiser: schedules only read and write each parameter group's `lr`. */
type AnyOptimizer = { readonly paramGroups: { lr: number }[] };
type JsonState = Record<string, number | string | number[]>;

/** What checkpoints need from any schedule. */
export interface LRScheduler {
  /** The learning rate of each group after the last step(). */
  getLastLr(): number[];
  stateDict(): JsonState;
  loadStateDict(state: JsonState): void;
}

function groupsOf(optimizer: AnyOptimizer): { lr: number }[] {
  const groups = (optimizer as { paramGroups?: unknown })?.paramGroups;
  if (!Array.isArray(groups) || groups.length === 0)
    throw new TypeError("'optimizer' must be an Optimizer (with paramGroups)");
  return groups as { lr: number }[];
}

function nonNegInt(name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0)
    throw new RangeError(`'${name}' must be an integer >= 0, got ${String(v)}`);
  return v;
}

function checkState(cls: string, state: JsonState, keys: readonly string[]): void {
  for (const k of keys) {
    if (state?.[k] === undefined) {
      throw new EarmarkError(
        'EARMARK_STATE_DICT',
        `${cls}.loadStateDict: the state has no '${k}'. Pass what ${cls}.stateDict() returned`,
      );
    }
  }
}

/**
 * Decay each group's lr by `gamma` every `stepSize` calls of step() (torch.optim.lr_scheduler.StepLR).
 * @example const sched = new StepLR(opt, { stepSize: 30, gamma: 0.1 }); // per epoch: train…; sched.step();
 */
export class StepLR implements LRScheduler {
  readonly stepSize: number;
  readonly gamma: number;
  /** Completed epochs (torch's last_epoch; 0 after construction). */
  lastEpoch = 0;
  readonly #groups: { lr: number }[];

  constructor(optimizer: AnyOptimizer, opts: { stepSize: number; gamma?: number }) {
    this.#groups = groupsOf(optimizer);
    const stepSize = opts?.stepSize;
    if (typeof stepSize !== 'number' || !Number.isInteger(stepSize) || stepSize < 1) {
      throw new RangeError(`'stepSize' must be an integer >= 1, got ${String(stepSize)}`);
    }
    const gamma = opts.gamma ?? 0.1;
    if (typeof gamma !== 'number' || !(gamma > 0))
      throw new RangeError(`'gamma' must be a number > 0, got ${String(gamma)}`);
    this.stepSize = stepSize;
    this.gamma = gamma;
  }

  /** End of an epoch: multiply every group's lr by gamma when a multiple of stepSize is reached. */
  step(): void {
    this.lastEpoch += 1;
    // torch's chainable form: lr * gamma from the current lr (not base_lr * gamma^k)
    if (this.lastEpoch % this.stepSize === 0) for (const g of this.#groups) g.lr = g.lr * this.gamma;
  }

  getLastLr(): number[] {
    return this.#groups.map((g) => g.lr);
  }

  stateDict(): JsonState {
    return { stepSize: this.stepSize, gamma: this.gamma, lastEpoch: this.lastEpoch };
  }

  /** Restores the epoch count (the lrs themselves live in the optimiser's state). */
  loadStateDict(state: JsonState): void {
    checkState('StepLR', state, ['lastEpoch']);
    this.lastEpoch = nonNegInt('lastEpoch', state.lastEpoch);
  }
}

export interface ReduceLROnPlateauOptions {
  /** 'min' (default): lower metric is better; 'max': higher is better. */
  mode?: 'min' | 'max';
  /** lr ← lr·factor on a plateau (default 0.1; must be < 1). */
  factor?: number;
  /** Epochs without improvement tolerated before reducing (default 10). */
  patience?: number;
  /** Minimum change that counts as improvement (default 1e-4). */
  threshold?: number;
  /** 'rel' (default): relative to the best; 'abs': absolute. */
  thresholdMode?: 'rel' | 'abs';
  /** Epochs to wait after a reduction before counting again (default 0). */
  cooldown?: number;
  /** Lower bound on lr, one for all groups or one per group (default 0). */
  minLr?: number | readonly number[];
  /** Reductions smaller than this are skipped (default 1e-8). */
  eps?: number;
}

/** JSON has no Infinity: the best-so-far starts at ±Infinity, so encode non-finite numbers as strings. */
const toJsonNumber = (v: number): number | string => (Number.isFinite(v) ? v : String(v));
const fromJsonNumber = (v: unknown): number => (typeof v === 'string' ? Number(v) : (v as number));

/**
 * Reduce each group's lr when a metric has stopped improving (torch ReduceLROnPlateau).
 * @example const sched = new ReduceLROnPlateau(opt, { patience: 2, factor: 0.5 }); sched.step(valLoss);
 */
export class ReduceLROnPlateau implements LRScheduler {
  readonly mode: 'min' | 'max';
  readonly factor: number;
  readonly patience: number;
  readonly threshold: number;
  readonly thresholdMode: 'rel' | 'abs';
  readonly cooldown: number;
  readonly minLrs: number[];
  readonly eps: number;
  best: number;
  numBadEpochs = 0;
  cooldownCounter = 0;
  lastEpoch = 0;
  readonly #groups: { lr: number }[];

  constructor(optimizer: AnyOptimizer, opts: ReduceLROnPlateauOptions = {}) {
    this.#groups = groupsOf(optimizer);
    this.mode = opts.mode ?? 'min';
    if (this.mode !== 'min' && this.mode !== 'max')
      throw new RangeError(`'mode' must be 'min' or 'max', got ${String(this.mode)}`);
    this.factor = opts.factor ?? 0.1;
    if (typeof this.factor !== 'number' || !(this.factor >= 0 && this.factor < 1)) {
      throw new RangeError(`'factor' must be in [0, 1), got ${String(this.factor)}`);
    }
    this.patience = nonNegInt('patience', opts.patience ?? 10);
    this.threshold = opts.threshold ?? 1e-4;
    if (typeof this.threshold !== 'number' || !(this.threshold >= 0))
      throw new RangeError(`'threshold' must be >= 0, got ${String(this.threshold)}`);
    this.thresholdMode = opts.thresholdMode ?? 'rel';
    if (this.thresholdMode !== 'rel' && this.thresholdMode !== 'abs') {
      throw new RangeError(`'thresholdMode' must be 'rel' or 'abs', got ${String(this.thresholdMode)}`);
    }
    this.cooldown = nonNegInt('cooldown', opts.cooldown ?? 0);
    const minLr = opts.minLr ?? 0;
    this.minLrs = Array.isArray(minLr) ? [...minLr] : this.#groups.map(() => minLr as number);
    if (this.minLrs.length !== this.#groups.length) {
      throw new RangeError(
        `'minLr' has ${this.minLrs.length} entries but the optimiser has ${this.#groups.length} parameter groups`,
      );
    }
    this.minLrs.forEach((v, i) => {
      if (typeof v !== 'number' || !(v >= 0)) throw new RangeError(`'minLr[${i}]' must be >= 0, got ${String(v)}`);
    });
    this.eps = opts.eps ?? 1e-8;
    this.best = this.#worse();
  }

  #worse(): number {
    return this.mode === 'min' ? Infinity : -Infinity;
  }

  #isBetter(a: number, best: number): boolean {
    if (this.mode === 'min')
      return this.thresholdMode === 'rel' ? a < best * (1 - this.threshold) : a < best - this.threshold;
    return this.thresholdMode === 'rel' ? a > best * (this.threshold + 1) : a > best + this.threshold;
  }

  /** End of an epoch with its validation metric. */
  step(metric: number): void {
    if (typeof metric !== 'number')
      throw new TypeError(`'metric' must be a number (call .item() on a tensor), got ${typeof metric}`);
    this.lastEpoch += 1;
    if (this.#isBetter(metric, this.best)) {
      this.best = metric;
      this.numBadEpochs = 0;
    } else {
      this.numBadEpochs += 1;
    }
    if (this.cooldownCounter > 0) {
      this.cooldownCounter -= 1;
      this.numBadEpochs = 0; // bad epochs during cooldown do not count
    }
    if (this.numBadEpochs > this.patience) {
      this.#groups.forEach((g, i) => {
        const newLr = Math.max(g.lr * this.factor, this.minLrs[i]!);
        if (g.lr - newLr > this.eps) g.lr = newLr;
      });
      this.cooldownCounter = this.cooldown;
      this.numBadEpochs = 0;
    }
  }

  getLastLr(): number[] {
    return this.#groups.map((g) => g.lr);
  }

  stateDict(): JsonState {
    return {
      mode: this.mode,
      factor: this.factor,
      patience: this.patience,
      threshold: this.threshold,
      thresholdMode: this.thresholdMode,
      cooldown: this.cooldown,
      minLrs: [...this.minLrs],
      eps: this.eps,
      best: toJsonNumber(this.best),
      numBadEpochs: this.numBadEpochs,
      cooldownCounter: this.cooldownCounter,
      lastEpoch: this.lastEpoch,
    };
  }

  /** Restores the running counters and best metric (the configuration stays as constructed). */
  loadStateDict(state: JsonState): void {
    checkState('ReduceLROnPlateau', state, ['best', 'numBadEpochs', 'cooldownCounter', 'lastEpoch']);
    this.best = fromJsonNumber(state.best);
    this.numBadEpochs = nonNegInt('numBadEpochs', state.numBadEpochs);
    this.cooldownCounter = nonNegInt('cooldownCounter', state.cooldownCounter);
    this.lastEpoch = nonNegInt('lastEpoch', state.lastEpoch);
  }
}
