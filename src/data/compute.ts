// The contract between the feature cache and a feature function: compute(utterance, options) →
// { data: Float32Array, shape, stats? }. Functions are named by module path + export name so that
// worker threads can import them on their own.
import { isAbsolute } from 'node:path';
import { pathToFileURL } from 'node:url';
import { EarmarkError } from '../errors.js';
import type { Utterance } from './types.js';

/** One utterance's features: row-major float32 data, its shape, and per-item statistics to keep. */
export interface FeatureItem {
  data: Float32Array;
  /** e.g. [161, frames] for a DS2 spectrogram; product = data.length. */
  shape: number[];
  /** Extra numbers stored in the index (normalisation mean/std, duration in seconds, …). */
  stats?: Record<string, number>;
}

export type ComputeFn = (utterance: Utterance, options: unknown) => FeatureItem | Promise<FeatureItem>;

/** A module specifier for import(): absolute paths become file: URLs; URLs and package names pass. */
export function moduleUrl(module: string): string {
  return isAbsolute(module) ? pathToFileURL(module).href : module;
}

/** Imports `exportName` from `module` and checks it is a function. */
export async function importCompute(module: string, exportName: string): Promise<ComputeFn> {
  let mod: Record<string, unknown>;
  try {
    mod = (await import(moduleUrl(module))) as Record<string, unknown>;
  } catch (e) {
    throw new EarmarkError(
      'EARMARK_CONFIG',
      `cannot import the feature module ${module}: ${(e as Error).message}; pass an absolute path (or file: URL) of a compiled .js module`,
      { cause: e },
    );
  }
  const fn = mod[exportName];
  if (typeof fn !== 'function') {
    throw new EarmarkError(
      'EARMARK_CONFIG',
      `feature module ${module} has no function export '${exportName}' (exports: ${Object.keys(mod).join(', ') || 'none'}); check the export name`,
    );
  }
  return fn as ComputeFn;
}

/** Validates what a compute function returned; the message names the function. */
export function checkFeatureItem(item: unknown, who: string): FeatureItem {
  const it = item as FeatureItem;
  if (it === null || typeof it !== 'object' || !(it.data instanceof Float32Array)) {
    throw new TypeError(
      `${who} must return { data: Float32Array, shape: number[] }, got ${it === null ? 'null' : typeof it === 'object' ? `data of type ${Object.prototype.toString.call(it.data)}` : typeof it}`,
    );
  }
  if (!Array.isArray(it.shape) || it.shape.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new TypeError(
      `${who} returned shape ${JSON.stringify(it.shape)}; expected an array of non-negative integers`,
    );
  }
  const numel = it.shape.reduce((a, b) => a * b, 1);
  if (numel !== it.data.length)
    throw new TypeError(
      `${who} returned shape [${it.shape.join(', ')}] (${numel} values) but ${it.data.length} data values`,
    );
  for (let i = 0; i < it.data.length; i++) {
    if (!Number.isFinite(it.data[i]!)) {
      // the audio decoded (the function got as far as returning features): the transform is at fault
      throw new EarmarkError(
        'EARMARK_TRANSFORM',
        `${who} returned a non-finite value (${it.data[i]}) at index ${i}; the feature transform is at fault, not the audio file`,
      );
    }
  }
  if (it.stats !== undefined) {
    for (const [k, v] of Object.entries(it.stats))
      if (typeof v !== 'number')
        throw new TypeError(`${who} returned stats.${k} = ${JSON.stringify(v)}; stats must be numbers`);
  }
  return it;
}
