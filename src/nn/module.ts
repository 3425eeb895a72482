// Module: named parameters, buffers and submodules with PyTorch's state-dict keys, train/eval,
// and load/save checks that name the offending key. Layers register what they own explicitly
// (`this.param('weight', t)`) so TypeScript field names can be camelCase while keys stay torch's.
import { EarmarkError } from '../errors.js';
import { keep, moveTensor_, noGrad, type Tensor } from '../tensor/index.js';

export class Module {
  /** True in training mode (Dropout drops, BatchNorm uses batch statistics). */
  training = true;
  readonly #params = new Map<string, Tensor>();
  readonly #buffers = new Map<string, Tensor>();
  readonly #children = new Map<string, Module>();

  /** Register a trainable parameter under its PyTorch name; returns it (kept, requiring grad). */
  protected param(name: string, t: Tensor): Tensor {
    this.#checkName(name);
    if (!t.requiresGrad) t.requiresGrad_(true);
    this.#params.set(name, keep(t));
    return t;
  }

  /** Register a non-trainable state tensor (e.g. BatchNorm's running_mean). */
  protected buffer(name: string, t: Tensor): Tensor {
    this.#checkName(name);
    this.#buffers.set(name, keep(t));
    return t;
  }

  /** Register a submodule under its PyTorch attribute name. */
  protected module<M extends Module>(name: string, m: M): M {
    this.#checkName(name);
    this.#children.set(name, m);
    return m;
  }

  #checkName(name: string): void {
    if (this.#params.has(name) || this.#buffers.has(name) || this.#children.has(name)) {
      throw new Error(`${this.constructor.name}: '${name}' is registered twice`);
    }
  }

  /** Direct submodules in registration order. */
  children(): [string, Module][] {
    return [...this.#children];
  }

  /** All parameters with dotted names, depth first in registration order (as torch). */
  namedParameters(prefix = ''): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [k, t] of this.#params) out.push([prefix + k, t]);
    for (const [k, m] of this.#children) out.push(...m.namedParameters(`${prefix}${k}.`));
    return out;
  }

  parameters(): Tensor[] {
    return this.namedParameters().map(([, t]) => t);
  }

  namedBuffers(prefix = ''): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [k, t] of this.#buffers) out.push([prefix + k, t]);
    for (const [k, m] of this.#children) out.push(...m.namedBuffers(`${prefix}${k}.`));
    return out;
  }

  /** Number of trainable scalars. */
  numParameters(): number {
    return this.parameters().reduce((n, t) => n + t.numel, 0);
  }

  /**
   * Parameters and buffers by PyTorch key, module by module in registration order (the tensors are
   * the module's own, not copies).
   */
  stateDict(prefix = ''): Map<string, Tensor> {
    const out = new Map<string, Tensor>();
    for (const [k, t] of this.#params) out.set(prefix + k, t);
    for (const [k, t] of this.#buffers) out.set(prefix + k, t);
    for (const [k, m] of this.#children) for (const [kk, t] of m.stateDict(`${prefix}${k}.`)) out.set(kk, t);
    return out;
  }

  /**
   * Copy values into this module's tensors. With `strict` (default) every key must be present and no
   * key may be left over; a shape mismatch always throws, naming the key.
   * @returns the keys that were missing and unexpected (both empty when strict succeeds)
   */
  loadStateDict(
    sd: Map<string, Tensor> | Record<string, Tensor>,
    opts: { strict?: boolean; source?: string } = {},
  ): { missing: string[]; unexpected: string[] } {
    const strict = opts.strict ?? true;
    const src = sd instanceof Map ? sd : new Map(Object.entries(sd));
    const own = this.stateDict();
    const where = opts.source ? ` (from ${opts.source})` : '';
    const missing = [...own.keys()].filter((k) => !src.has(k));
    const unexpected = [...src.keys()].filter((k) => !own.has(k));
    if (strict && (missing.length || unexpected.length)) {
      throw new EarmarkError(
        'EARMARK_STATE_DICT',
        `${this.constructor.name}.loadStateDict${where}: ` +
          (missing.length
            ? `missing key(s) ${missing
                .slice(0, 5)
                .map((k) => `'${k}'`)
                .join(', ')}${missing.length > 5 ? ` and ${missing.length - 5} more` : ''}`
            : '') +
          (missing.length && unexpected.length ? '; ' : '') +
          (unexpected.length
            ? `unexpected key(s) ${unexpected
                .slice(0, 5)
                .map((k) => `'${k}'`)
                .join(', ')}${unexpected.length > 5 ? ` and ${unexpected.length - 5} more` : ''}`
            : '') +
          '. Check that the checkpoint was saved from the same model config, or pass strict: false.',
      );
    }
    noGrad(() => {
      for (const [k, dst] of own) {
        const v = src.get(k);
        if (v === undefined) continue;
        const a = dst.shape;
        const b = v.shape;
        if (a.length !== b.length || a.some((d, i) => d !== b[i])) {
          throw new EarmarkError(
            'EARMARK_STATE_DICT',
            `${this.constructor.name}.loadStateDict${where}: '${k}' has shape [${b.join(', ')}] but the model expects [${a.join(', ')}]; ` +
              'the checkpoint was made with a different model config.',
          );
        }
        dst.copy_(v);
      }
    });
    return { missing, unexpected };
  }

  /** Set training mode here and in every submodule; returns this. */
  train(on = true): this {
    this.training = on;
    for (const m of this.#children.values()) m.train(on);
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  /**
   * Move every parameter, gradient and buffer to `device` in place (torch's Module.to(device)): the Tensor
   * objects stay, so layer fields and optimisers built before see the move; optimiser state tensors made
   * before do not move (build the optimiser after to(), or load its state after it). Returns this.
   * @example const model = new DeepSpeech2(config).to(device);
   */
  to(device: string, opts: { nonBlocking?: boolean } = {}): this {
    for (const [, t] of [...this.namedParameters(), ...this.namedBuffers()]) moveTensor_(t, device, opts);
    return this;
  }

  /** Turn gradient tracking of every parameter on or off (freezing a model). */
  requiresGrad_(on: boolean): this {
    for (const p of this.parameters()) p.requiresGrad_(on);
    return this;
  }

  /** Drop every parameter's gradient (torch's zero_grad(set_to_none=True)). */
  zeroGrad(): void {
    for (const p of this.parameters()) p.setGrad(null);
  }

  /** Free every parameter and buffer. */
  dispose(): void {
    for (const t of this.#params.values()) t.dispose();
    for (const t of this.#buffers.values()) t.dispose();
    for (const m of this.#children.values()) m.dispose();
  }
}

/** A module mapping one tensor to one tensor. */
export interface Layer {
  forward(x: Tensor): Tensor;
}

/** Children applied in order; keys '0', '1', ... as torch.nn.Sequential. */
export class Sequential extends Module implements Layer {
  readonly layers: (Module & Layer)[];
  constructor(...layers: (Module & Layer)[]) {
    super();
    this.layers = layers.map((l, i) => this.module(String(i), l));
  }
  forward(x: Tensor): Tensor {
    for (const l of this.layers) x = l.forward(x);
    return x;
  }
}

/** A list of submodules with keys '0', '1', ... as torch.nn.ModuleList. */
export class ModuleList<M extends Module = Module> extends Module {
  readonly items: M[];
  constructor(items: M[]) {
    super();
    this.items = items.map((m, i) => this.module(String(i), m));
  }
  get length(): number {
    return this.items.length;
  }
  at(i: number): M {
    const m = this.items[i];
    if (m === undefined) throw new RangeError(`ModuleList index ${i} is out of range (length ${this.items.length})`);
    return m;
  }
}
