// Flags that set config keys: a flag's `config` names the dotted path it sets in the command's config
// (ExperimentConfig, RdalConfig, SpeechCorpusConfig, …), checked by the compiler against that config's
// type and the flag's value type. configOverrides() turns the flags given into the nested overrides
// the library's resolver takes, on top of a config file: defaults ← preset ← file ← flags.
import type { FlagRecord, FlagSpec, FlagTable, FlagValue } from './args.js';

/** Every dotted path into C ('obfuscatorTrain.lambdaP'); arrays are leaves. */
export type ConfigPath<C> = C extends readonly unknown[]
  ? never
  : C extends object
    ? { [K in keyof C & string]: K | `${K}.${ConfigPath<C[K]>}` }[keyof C & string]
    : never;

/** The type at a dotted path of C. */
export type PathValue<C, P extends string> = P extends `${infer K}.${infer R}`
  ? K extends keyof C
    ? PathValue<C[K], R>
    : never
  : P extends keyof C
    ? C[P]
    : never;

/** The paths of C a flag of type F may set: its value must fit the key. */
type PathsFor<C, F> = { [P in ConfigPath<C>]: FlagValue<F> extends PathValue<C, P> ? P : never }[ConfigPath<C>];

/** A flag table whose `config` paths are checked against C (each entry: its own spec, or `never` when it does not fit). */
type CheckedTable<C, T extends FlagTable> = {
  [K in keyof T]: T[K] extends { config: infer P }
    ? [P] extends [PathsFor<C, T[K]> | readonly PathsFor<C, T[K]>[]]
      ? T[K]
      : FlagSpec & { config: PathsFor<C, T[K]> }
    : T[K];
};

/**
 * A flag table for config C: the compiler checks that every `config` path exists in C and takes the
 * flag's value type.
 * @example const FLAGS = configFlags<ExperimentConfig>()({ lambdaP: { type: 'number', description: 'λ_p', config: 'obfuscatorTrain.lambdaP' } });
 */
export function configFlags<C>() {
  return <const T extends FlagTable>(table: T & CheckedTable<C, T>): T => table;
}

/**
 * The nested overrides that the given flags (values not undefined) make, by their `config` paths.
 * @example configOverrides(FLAGS, { lambdaP: 0.5 }) // { obfuscatorTrain: { lambdaP: 0.5 } }
 */
export function configOverrides(table: FlagTable, values: FlagRecord): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(table)) {
    const v = values[key];
    if (v === undefined || spec.config === undefined) continue;
    for (const p of typeof spec.config === 'string' ? [spec.config] : spec.config) setPath(out, p.split('.'), v);
  }
  return out;
}

function setPath(o: Record<string, unknown>, keys: string[], v: unknown): void {
  const [k, ...rest] = keys as [string, ...string[]];
  if (rest.length === 0) {
    o[k] = v;
    return;
  }
  const next = isPlainObject(o[k]) ? (o[k] as Record<string, unknown>) : (o[k] = {});
  setPath(next as Record<string, unknown>, rest, v);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/**
 * `over` merged into `base`, objects key by key, everything else replaced (the config file ← flags step).
 * @example mergeOverrides({ train: { seed: 1, lr: 0.1 } }, { train: { seed: 2 } }) // { train: { seed: 2, lr: 0.1 } }
 */
export function mergeOverrides(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    out[k] = isPlainObject(v) && isPlainObject(out[k]) ? mergeOverrides(out[k] as Record<string, unknown>, v) : v;
  }
  return out;
}
