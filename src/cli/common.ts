// Flags shared by the commands that read a dataset or a config file.
import { readFileSync } from 'node:fs';
import { EarmarkError } from '../errors.js';
import type { FlagSpec } from './args.js';
import type { DatasetOptions } from '../data/experiment-data.js';
import type { Layout } from '../data/index.js';

type Flags = Record<string, string | number | boolean | undefined>;

export const DATASET_FLAGS: Record<string, FlagSpec> = {
  layout: { type: 'string', description: 'corpus layout: auto, ravdess, emovdb, librispeech, voxceleb2, csv', default: 'auto' },
  root: { type: 'string', description: 'corpus root folder' },
  manifest: { type: 'string', description: 'CSV manifest (path + label columns), e.g. data/builtin/speech-1-0/labels.csv' },
  'split-seed': { type: 'int', description: 'seed of the train/val/test split', default: 0 },
  'skip-bad': { type: 'boolean', description: 'skip unreadable audio files (listed) instead of stopping', default: false },
};

export function datasetFromFlags(flags: Flags): DatasetOptions {
  return {
    layout: flags['layout'] as Layout | 'auto',
    root: (flags['root'] as string | undefined) ?? '',
    manifest: (flags['manifest'] as string | undefined) ?? '',
    splitSeed: flags['split-seed'] as number,
    skipBad: flags['skip-bad'] === true,
  };
}

/** A JSON config file of overrides (validated by the caller's resolver). */
export function readConfigFile(file: string | undefined): Record<string, unknown> {
  if (file === undefined) return {};
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new EarmarkError('EARMARK_CONFIG', `cannot read config file ${file}: ${(e as Error).message}`);
  }
  try {
    const v = JSON.parse(text) as unknown;
    if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Error('the top level must be an object');
    return v as Record<string, unknown>;
  } catch (e) {
    throw new EarmarkError('EARMARK_CONFIG', `${file} is not a JSON object of settings: ${(e as Error).message}`);
  }
}

/** 'cpu' or 'paper' from --preset. */
export function presetFromFlags(flags: Flags): 'cpu' | 'paper' {
  const p = flags['preset'];
  if (p !== 'cpu' && p !== 'paper') throw new EarmarkError('EARMARK_BAD_ARGUMENT', `--preset must be 'cpu' or 'paper', got '${String(p)}'`);
  return p;
}
