// Dynamic loss scaling for float16 mixed precision, as torch.cuda.amp.GradScaler (1.13): the loss is
// multiplied by a scale S before backward so small float16 gradients do not flush to zero; before the
// step the gradients are divided by S and checked for inf/NaN. A step with a non-finite gradient is
// skipped and S shrinks (S ← S·backoffFactor); after growthInterval finite steps in a row S grows
// (S ← S·growthFactor). S is a power of two by default, so scaling and unscaling are exact.
// The checks use ordinary ops (isfinite, mul_), so the logic runs, and is tested, on CPU in float32;
// one host sync per step decides whether to skip, as torch's step() does.
// In data-parallel training, all-reduce the gradients before step()/unscale_(): an inf on any rank then
// reaches every rank, and all ranks skip the same steps.
import { noGrad, stack, tidy, type Tensor } from '../tensor/index.js';

export interface GradScalerOptions {
  /** Initial scale S (default 2^16). */
  initScale?: number;
  /** S is multiplied by this after growthInterval finite steps in a row (default 2). */
  growthFactor?: number;
  /** S is multiplied by this after a step with inf/NaN gradients (default 0.5). */
  backoffFactor?: number;
  /** Finite steps in a row before S grows (default 2000). */
  growthInterval?: number;
  /** false makes every method a pass-through (default true), so one loop serves fp32 and fp16. */
  enabled?: boolean;
}

/** What a GradScaler needs of an optimiser (SGD, Adam and AdamW qualify). */
export interface ScalableOptimizer {
  readonly paramGroups: readonly { readonly params: readonly Tensor[] }[];
  step(): void;
}

/** JSON state saved with a checkpoint (torch's keys, camelCase). */
export interface GradScalerState {
  scale: number;
  growthFactor: number;
  backoffFactor: number;
  growthInterval: number;
  growthTracker: number;
}

type Stage = 'unscaled' | 'stepped';

/**
 * torch.cuda.amp.GradScaler.
 * @example
 * const scaler = new GradScaler({ enabled: amp === 'float16' });
 * const loss = autocast({ device, dtype: 'float16' }, () => lossFn(model.forward(x)));
 * opt.zeroGrad(); scaler.scale(loss).backward();
 * scaler.unscale_(opt); clipGradNorm_(model.parameters(), 10); // optional, on true gradients
 * scaler.step(opt); scaler.update();
 */
export class GradScaler {
  readonly enabled: boolean;
  #scale: number;
  #growthFactor: number;
  #backoffFactor: number;
  #growthInterval: number;
  #growthTracker = 0;
  /** Per optimiser since the last update(): its stage and whether its gradients held inf/NaN. */
  readonly #perOptimizer = new Map<ScalableOptimizer, { stage: Stage; foundInf: boolean }>();

  constructor(o: GradScalerOptions = {}) {
    const known = ['initScale', 'growthFactor', 'backoffFactor', 'growthInterval', 'enabled'];
    for (const k of Object.keys(o))
      if (!known.includes(k)) throw new TypeError(`GradScaler: unknown option '${k}'; known: ${known.join(', ')}`);
    this.enabled = o.enabled ?? true;
    this.#scale = o.initScale ?? 2 ** 16;
    this.#growthFactor = o.growthFactor ?? 2;
    this.#backoffFactor = o.backoffFactor ?? 0.5;
    this.#growthInterval = o.growthInterval ?? 2000;
    this.#check(
      {
        scale: this.#scale,
        growthFactor: this.#growthFactor,
        backoffFactor: this.#backoffFactor,
        growthInterval: this.#growthInterval,
        growthTracker: 0,
      },
      'GradScaler',
    );
  }

  #check(s: GradScalerState, where: string): void {
    if (!(Number.isFinite(s.scale) && s.scale > 0))
      throw new RangeError(`${where}: the scale must be a finite number > 0, got ${s.scale}`);
    if (!(s.growthFactor > 1)) throw new RangeError(`${where}: 'growthFactor' must be > 1, got ${s.growthFactor}`);
    if (!(s.backoffFactor > 0 && s.backoffFactor < 1))
      throw new RangeError(`${where}: 'backoffFactor' must be in (0, 1), got ${s.backoffFactor}`);
    if (!(Number.isInteger(s.growthInterval) && s.growthInterval >= 1)) {
      throw new RangeError(`${where}: 'growthInterval' must be an integer >= 1, got ${s.growthInterval}`);
    }
    if (!(Number.isInteger(s.growthTracker) && s.growthTracker >= 0))
      throw new RangeError(`${where}: 'growthTracker' must be an integer >= 0`);
  }

  /** The current scale S (1 when disabled). */
  getScale(): number {
    return this.enabled ? this.#scale : 1;
  }

  /** loss · S, to call backward() on (a new tensor; the loss itself when disabled). */
  scale(loss: Tensor): Tensor {
    return this.enabled ? loss.mul(this.#scale) : loss;
  }

  /**
   * Divide `optimizer`'s gradients by S in place and note whether any is inf/NaN. Optional: step() does
   * it when it was not called; call it first to clip or inspect the true gradients. Once per step.
   */
  unscale_(optimizer: ScalableOptimizer): void {
    if (!this.enabled) return;
    const st = this.#perOptimizer.get(optimizer);
    if (st?.stage === 'unscaled')
      throw new Error('GradScaler.unscale_() was already called for this optimizer since the last update()');
    if (st?.stage === 'stepped')
      throw new Error('GradScaler.unscale_() is called after step(); call it before step(), once per update()');
    const inv = 1 / this.#scale; // exact for a power-of-two scale
    const foundInf = tidy(() =>
      noGrad(() => {
        const finite: Tensor[] = [];
        for (const g of optimizer.paramGroups) {
          for (const p of g.params) {
            const grad = p.grad;
            if (grad === null) continue;
            finite.push(grad.isfinite().all());
            grad.mul_(inv);
          }
        }
        return finite.length > 0 && stack(finite).all().item() === 0; // the one host sync
      }),
    );
    this.#perOptimizer.set(optimizer, { stage: 'unscaled', foundInf });
  }

  /**
   * optimizer.step() unless its (unscaled) gradients hold inf/NaN, in which case the step is skipped.
   * @returns whether the optimiser stepped
   */
  step(optimizer: ScalableOptimizer): boolean {
    if (!this.enabled) {
      optimizer.step();
      return true;
    }
    if (this.#perOptimizer.get(optimizer)?.stage === 'stepped') {
      throw new Error('GradScaler.step() was already called for this optimizer since the last update()');
    }
    if (this.#perOptimizer.get(optimizer) === undefined) this.unscale_(optimizer);
    const st = this.#perOptimizer.get(optimizer)!;
    st.stage = 'stepped';
    if (st.foundInf) return false;
    optimizer.step();
    return true;
  }

  /**
   * Adjust S for the next iteration: back off if any optimiser saw inf/NaN since the last update(),
   * else count a finite step and grow every growthInterval of them. `newScale` sets S instead.
   */
  update(newScale?: number): void {
    if (!this.enabled) return;
    if (newScale !== undefined) {
      if (!(Number.isFinite(newScale) && newScale > 0))
        throw new RangeError(`GradScaler.update: 'newScale' must be a finite number > 0, got ${newScale}`);
      this.#scale = newScale;
    } else {
      if (this.#perOptimizer.size === 0)
        throw new Error('GradScaler.update(): no unscale_() or step() was recorded since the last update()');
      const foundInf = [...this.#perOptimizer.values()].some((s) => s.foundInf);
      if (foundInf) {
        this.#scale *= this.#backoffFactor;
        this.#growthTracker = 0;
      } else if (++this.#growthTracker === this.#growthInterval) {
        this.#scale *= this.#growthFactor;
        this.#growthTracker = 0;
      }
    }
    this.#perOptimizer.clear();
  }

  /** State to save with a checkpoint (plain JSON). */
  stateDict(): GradScalerState {
    return {
      scale: this.#scale,
      growthFactor: this.#growthFactor,
      backoffFactor: this.#backoffFactor,
      growthInterval: this.#growthInterval,
      growthTracker: this.#growthTracker,
    };
  }

  /** Restore stateDict()'s values (a resumed run then scales exactly as the uninterrupted one). */
  loadStateDict(s: GradScalerState): void {
    if (s === null || typeof s !== 'object')
      throw new TypeError("GradScaler.loadStateDict: 's' must be the object stateDict() returned");
    this.#check(s, 'GradScaler.loadStateDict');
    this.#scale = s.scale;
    this.#growthFactor = s.growthFactor;
    this.#backoffFactor = s.backoffFactor;
    this.#growthInterval = s.growthInterval;
    this.#growthTracker = s.growthTracker;
  }
}
