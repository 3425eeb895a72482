// Fingerprints of resolved configs and input data, and seeds per stage: the shared vocabulary of
// resumable runs. A checkpoint or metrics file stores the fingerprint of what made it (its resolved config
// and its inputs: split ids, feature spec); a resumed stage whose fingerprint differs is retrained (or
// refused), and `fingerprintDiff` names the keys that differ. Every model is built right after
// `manualSeed(stageSeed(seed, stage))`, so a stage's initialisation never depends on what ran before it.
import { createHash } from 'node:crypto';
import { hashString } from '../util/rng.js';

/** JSON with object keys sorted at every level (the input of every fingerprint). */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

/**
 * A short stable hash (16 hex digits of SHA-256) of a JSON-able value; key order does not matter.
 * @example fingerprint({ a: 1, b: [2] }) === fingerprint({ b: [2], a: 1 }) // true
 */
export function fingerprint(v: unknown): string {
  return createHash('sha256').update(canonicalJson(v)).digest('hex').slice(0, 16);
}

/**
 * The dotted paths at which two JSON-able values differ (for the log line of a retrained stage).
 * @example fingerprintDiff({ train: { lr: 1e-3, epochs: 8 } }, { train: { lr: 3e-3, epochs: 8 } }) // ['train.lr']
 */
export function fingerprintDiff(a: unknown, b: unknown, prefix = ''): string[] {
  const isObj = (x: unknown): x is Record<string, unknown> => x !== null && typeof x === 'object' && !Array.isArray(x);
  if (isObj(a) && isObj(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    return keys.flatMap((k) => fingerprintDiff(a[k], b[k], prefix ? `${prefix}.${k}` : k));
  }
  return canonicalJson(a) === canonicalJson(b) ? [] : [prefix || '(root)'];
}

/**
 * The libtorch seed of one stage of a run: a function of (seed, stage name) only.
 * @example manualSeed(stageSeed(c.seed, 'informed-gender')); const model = new DeepSpeech2(cfg);
 */
export function stageSeed(seed: number, stage: string): number {
  if (!Number.isInteger(seed)) throw new TypeError(`stageSeed: 'seed' must be an integer, got ${String(seed)}`);
  return hashString(stage, seed >>> 0);
}
