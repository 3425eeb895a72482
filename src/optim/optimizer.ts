// Optimizer base, after torch.optim.Optimizer (1.13): parameter groups with per-group hyperparameters,
// per-parameter state tensors created on first step, step() under noGrad inside tidy, and a state
// dict of tensors keyed "<paramIndex>.<name>" plus JSON-able hyperparameters and step counts.
import { EarmarkError } from '../errors.js';
import { keep, noGrad, Tensor, tidy } from '../tensor/index.js';

/** Hyperparameter values that survive JSON (saved in a checkpoint's metadata). */
export type HyperValue = number | boolean | readonly number[];

/** A parameter group: its tensors plus its own copy of every hyperparameter. */
export type ParamGroup<H> = H & { params: Tensor[] };

/** The `params` argument: a list of tensors, or groups `{ params, ...overrides }` as torch. */
export type ParamsArg<H> = readonly Tensor[] | readonly ({ params: readonly Tensor[] } & Partial<H>)[];

/** One parameter's state: step count and named state tensors (torch names: exp_avg, momentum_buffer…). */
export interface ParamState {
  step: number;
  readonly buffers: Map<string, Tensor>;
}

/** JSON part of an optimiser's state dict. */
export interface OptimizerMeta {
  /** The optimiser class, checked on load. */
  optimizer: string;
  /** Each group's hyperparameters and the global indices of its parameters. */
  paramGroups: (Record<string, HyperValue> & { params: number[] })[];
  /** Step count per parameter index, for parameters that have state. */
  steps: Record<string, number>;
}

/** State dict: tensors "<paramIndex>.<name>" (e.g. "0.exp_avg") plus JSON metadata. */
export interface OptimizerStateDict {
  tensors: Map<string, Tensor>;
  meta: OptimizerMeta;
}

/** What checkpoint code needs of any optimiser (SGD, Adam, AdamW all satisfy it). */
export interface StatefulOptimizer {
  stateDict(): OptimizerStateDict;
  loadStateDict(sd: OptimizerStateDict): void;
}

/**
 * Base of SGD, Adam and AdamW. Subclasses give defaults, validate one group's hyperparameters, and
 * update one parameter in place from its gradient.
 * @example const opt = new Adam(model.parameters(), { lr: 1e-3 }); opt.zeroGrad(); loss.backward(); opt.step();
 */
export abstract class Optimizer<H extends Record<string, HyperValue>> implements StatefulOptimizer {
  readonly paramGroups: ParamGroup<H>[] = [];
  protected readonly defaults: H;
  readonly #state = new Map<Tensor, ParamState>();

  /** `defaults`: every hyperparameter's default; `options`: the caller's overrides (unknown keys rejected). */
  protected constructor(params: ParamsArg<H>, defaults: H, options: object | undefined) {
    if (!Array.isArray(params))
      throw new TypeError(`'params' must be an array of Tensors or of param groups, got ${typeof params}`);
    if (params.length === 0) throw new RangeError("'params' is an empty list: the optimiser has nothing to optimise");
    if (options !== undefined && (options === null || typeof options !== 'object')) {
      throw new TypeError(`'options' must be an object, got ${options === null ? 'null' : typeof options}`);
    }
    for (const k of Object.keys(options ?? {})) {
      if (!Object.hasOwn(defaults, k))
        throw new TypeError(`'options' has unknown key '${k}'; known: ${Object.keys(defaults).join(', ')}`);
    }
    this.defaults = { ...defaults, ...defined(options) };
    this.checkHyper(this.defaults, 'options');
    const groups = params[0] instanceof Tensor ? [{ params: params as readonly Tensor[] }] : params;
    for (const g of groups as readonly ({ params: readonly Tensor[] } & Partial<H>)[]) this.addParamGroup(g);
  }

  /** Validate one group's hyperparameters; `where` names it in messages ('options', 'paramGroups[1]'). */
  protected abstract checkHyper(h: H, where: string): void;

  /** Update `param` in place from `grad` (called under noGrad inside tidy; keep() new state tensors). */
  protected abstract update(param: Tensor, grad: Tensor, state: ParamState, group: ParamGroup<H>): void;

  /**
   * Add a group of parameters with its own hyperparameter overrides.
   * @example opt.addParamGroup({ params: head.parameters(), lr: 1e-4 });
   */
  addParamGroup(group: { params: readonly Tensor[] } & Partial<H>): void {
    const where = `paramGroups[${this.paramGroups.length}]`;
    if (group === null || typeof group !== 'object' || !Array.isArray(group.params)) {
      throw new TypeError(`'${where}' must be { params: Tensor[], ...options }`);
    }
    if (group.params.length === 0) throw new RangeError(`'${where}.params' is an empty list`);
    for (const k of Object.keys(group)) {
      if (k !== 'params' && !Object.hasOwn(this.defaults, k)) {
        throw new TypeError(`'${where}' has unknown option '${k}'; known: ${Object.keys(this.defaults).join(', ')}`);
      }
    }
    const seen = new Set(this.paramGroups.flatMap((g) => g.params));
    for (const [i, p] of group.params.entries()) {
      if (!(p instanceof Tensor)) throw new TypeError(`'${where}.params[${i}]' must be a Tensor, got ${typeof p}`);
      if (seen.has(p))
        throw new RangeError(`'${where}.params[${i}]' already appears in a parameter group (each tensor once)`);
      seen.add(p);
    }
    const full = { ...this.defaults, ...defined(group), params: [...group.params] } as ParamGroup<H>;
    this.checkHyper(full, where);
    this.paramGroups.push(full);
  }

  /**
   * One update of every parameter that has a gradient (parameters without one are skipped, as torch).
   * @example loss.backward(); opt.step();
   */
  step(): void {
    tidy(() =>
      noGrad(() => {
        for (const group of this.paramGroups) {
          for (const p of group.params) {
            const grad = p.grad; // joins this tidy scope: the handle is freed, the gradient is not
            if (grad === null) continue;
            let state = this.#state.get(p);
            if (state === undefined) this.#state.set(p, (state = { step: 0, buffers: new Map() }));
            state.step += 1;
            this.update(p, grad, state, group);
          }
        }
      }),
    );
  }

  /**
   * Drop every parameter's gradient (torch's `set_to_none=True`); with `setToNone = false`, zero it in place.
   * @example opt.zeroGrad(); const loss = lossFn(model.forward(x)); loss.backward(); opt.step();
   */
  zeroGrad(setToNone = true): void {
    for (const g of this.paramGroups) {
      for (const p of g.params) {
        if (setToNone) p.setGrad(null);
        else
          tidy(() => {
            p.grad?.zero_();
          });
      }
    }
  }

  /** Every parameter, in group order: its position here is its index in the state dict. */
  #allParams(): Tensor[] {
    return this.paramGroups.flatMap((g) => g.params);
  }

  /**
   * State tensors (the optimiser's own, not copies: don't dispose them) and JSON metadata.
   * @example const { tensors, meta } = opt.stateDict(); encodeSafetensors(tensors, { optim: JSON.stringify(meta) });
   */
  stateDict(): OptimizerStateDict {
    const tensors = new Map<string, Tensor>();
    const steps: Record<string, number> = {};
    for (const [i, p] of this.#allParams().entries()) {
      const s = this.#state.get(p);
      if (s === undefined) continue;
      steps[String(i)] = s.step;
      for (const [name, t] of s.buffers) tensors.set(`${i}.${name}`, t);
    }
    let next = 0;
    const paramGroups = this.paramGroups.map(({ params, ...h }) => ({
      ...structuredClone(h as Record<string, HyperValue>),
      params: params.map(() => next++),
    }));
    return { tensors, meta: { optimizer: this.constructor.name, paramGroups, steps } };
  }

  /**
   * Restore hyperparameters, step counts and state tensors (copied: the caller keeps ownership of
   * `sd.tensors`). Parameters are matched by index, so build the optimiser over the same parameters.
   * @example opt.loadStateDict(saved); // then opt.step() continues the saved run exactly
   */
  loadStateDict(sd: OptimizerStateDict): void {
    const bad = (what: string, fix: string): never => {
      throw new EarmarkError('EARMARK_STATE_DICT', `${this.constructor.name}.loadStateDict: ${what}. ${fix}`);
    };
    const { tensors, meta } = sd ?? {};
    if (!(tensors instanceof Map) || meta === null || typeof meta !== 'object') {
      throw new TypeError("'sd' must be { tensors: Map<string, Tensor>, meta } as returned by stateDict()");
    }
    if (meta.optimizer !== this.constructor.name) {
      bad(
        `the state was saved by ${String(meta.optimizer)}`,
        `Load it into a ${String(meta.optimizer)}, or start this optimiser fresh`,
      );
    }
    if (!Array.isArray(meta.paramGroups) || meta.paramGroups.length !== this.paramGroups.length) {
      bad(
        `the state has ${meta.paramGroups?.length} parameter groups, this optimiser ${this.paramGroups.length}`,
        'Build the optimiser with the same parameter groups as the saved run',
      );
    }
    const params = this.#allParams();
    const groups = meta.paramGroups.map(({ params: idx, ...h }, gi) => {
      if (!Array.isArray(idx) || idx.length !== this.paramGroups[gi]!.params.length) {
        bad(
          `group ${gi} has ${idx?.length} parameters saved, ${this.paramGroups[gi]!.params.length} here`,
          'Build the optimiser over the same parameters, in the same order',
        );
      }
      const full = { ...this.defaults, ...structuredClone(h) } as unknown as ParamGroup<H>;
      this.checkHyper(full, `paramGroups[${gi}]`);
      return full;
    });
    const fresh = new Map<Tensor, ParamState>();
    const stateOf = (i: number): ParamState => {
      const p = params[i]!;
      let s = fresh.get(p);
      if (s === undefined) fresh.set(p, (s = { step: meta.steps?.[String(i)] ?? 0, buffers: new Map() }));
      return s;
    };
    try {
      for (const [key, t] of tensors) {
        const m = /^(\d+)\.(.+)$/.exec(key);
        const i = m === null ? -1 : Number(m[1]);
        if (i < 0 || i >= params.length) {
          bad(
            `state tensor '${key}' does not name a parameter 0..${params.length - 1}`,
            'Keys must be "<paramIndex>.<name>"',
          );
        }
        const p = params[i]!;
        if (t.shape.join() !== p.shape.join() || t.dtype !== p.dtype) {
          bad(
            `state tensor '${key}' is ${t.dtype} [${t.shape.join(', ')}] but parameter ${i} is ${p.dtype} [${p.shape.join(', ')}]`,
            'Build the optimiser over the same parameters, in the same order',
          );
        }
        // a copy on the parameter's device: a checkpoint's host tensors go to where the parameters live
        stateOf(i).buffers.set(m![2]!, keep(noGrad(() => tidy(() => t.detach().to(p.device, { copy: true })))));
      }
      for (const k of Object.keys(meta.steps ?? {})) if (Number(k) < params.length) stateOf(Number(k));
    } catch (e) {
      for (const s of fresh.values()) for (const t of s.buffers.values()) t.dispose();
      throw e;
    }
    this.#disposeState();
    for (const [p, s] of fresh) this.#state.set(p, s);
    groups.forEach((g, gi) => Object.assign(this.paramGroups[gi]!, g, { params: this.paramGroups[gi]!.params }));
  }

  /** Free every state tensor (the optimiser can still step: state starts afresh). */
  dispose(): void {
    this.#disposeState();
  }

  #disposeState(): void {
    for (const s of this.#state.values()) for (const t of s.buffers.values()) t.dispose();
    this.#state.clear();
  }
}

// ---- hyperparameter checks shared by the optimisers ----

/** Drop keys whose value is undefined, so `{ momentum: undefined }` keeps the default. */
function defined(o: object | undefined): object {
  return Object.fromEntries(Object.entries(o ?? {}).filter(([, v]) => v !== undefined));
}

/** A finite number >= 0, else RangeError naming `where.name`. */
export function checkNonNegative(h: Record<string, HyperValue>, name: string, where: string): void {
  const v = h[name];
  if (typeof v !== 'number' || !Number.isFinite(v))
    throw new TypeError(`'${where}.${name}' must be a finite number, got ${String(v)}`);
  if (v < 0) throw new RangeError(`'${where}.${name}' must be >= 0, got ${v}`);
}

/** A boolean, else TypeError. */
export function checkBoolean(h: Record<string, HyperValue>, name: string, where: string): void {
  if (typeof h[name] !== 'boolean')
    throw new TypeError(`'${where}.${name}' must be true or false, got ${String(h[name])}`);
}
