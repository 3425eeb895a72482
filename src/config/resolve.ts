// Typed configs, validated once at the edge: defaults + a partial override; unknown keys and type
// mismatches are refused naming the key (nanoGPT's "Unknown config key", made strict).
import { EarmarkError } from '../errors.js';

type Json = string | number | boolean | null | Json[] | { [k: string]: Json };

/**
 * Merge `partial` over `defaults`, refusing keys that `defaults` lacks and values whose type differs
 * (nested plain objects are merged the same way). `where` names the config in messages.
 * @example resolveConfig('DeepSpeech2Config', DS2_DEFAULTS, { hiddenSize: 32 })
 */
export function resolveConfig<T extends object>(where: string, defaults: T, partial: unknown = {}): T {
  if (partial === null || typeof partial !== 'object' || Array.isArray(partial)) {
    throw new EarmarkError(
      'EARMARK_CONFIG',
      `${where}: expected an object of settings, got ${JSON.stringify(partial)}`,
    );
  }
  const out: Record<string, unknown> = { ...(defaults as Record<string, unknown>) };
  for (const [k, v] of Object.entries(partial as Record<string, unknown>)) {
    if (v === undefined) continue;
    if (!(k in out)) {
      const known = Object.keys(defaults).join(', ');
      throw new EarmarkError('EARMARK_CONFIG', `${where}: unknown key '${k}'. Known keys: ${known}.`);
    }
    const d = out[k];
    if (d !== null && typeof d === 'object' && !Array.isArray(d)) {
      out[k] = resolveConfig(`${where}.${k}`, d as object, v);
      continue;
    }
    if (d !== null && d !== undefined && typeof d !== typeof v) {
      throw new EarmarkError(
        'EARMARK_CONFIG',
        `${where}: '${k}' must be a ${Array.isArray(d) ? 'list' : typeof d}, got ${JSON.stringify(v)}`,
      );
    }
    if (Array.isArray(d) !== Array.isArray(v) && d !== null) {
      throw new EarmarkError(
        'EARMARK_CONFIG',
        `${where}: '${k}' must be ${Array.isArray(d) ? 'a list' : 'a single value'}, got ${JSON.stringify(v)}`,
      );
    }
    out[k] = v;
  }
  return out as T;
}

/** Throw a config error unless `ok`. */
export function check(ok: boolean, where: string, key: string, want: string, got: unknown): void {
  if (!ok) throw new EarmarkError('EARMARK_CONFIG', `${where}: '${key}' must be ${want}, got ${JSON.stringify(got)}`);
}

/** A positive integer field. */
export function checkPosInt(where: string, key: string, v: number): void {
  check(Number.isInteger(v) && v > 0, where, key, 'a positive integer', v);
}

export type { Json };
