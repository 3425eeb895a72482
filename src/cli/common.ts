// Flags and steps shared by several commands: the dataset flags, --preset and --config of the opt-in
// experiment's commands, reading a JSON config file of overrides, and the checks these commands run
// before any work (the config resolves, the corpus loads and has the labels the tasks need).
// Libraries that load libtorch are imported inside the functions, so that `--help` and usage errors
// answer without loading it.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { DatasetOptions } from '../data/experiment-data.js';
import { LAYOUTS } from '../data/load.js';
import { labelValues, type Corpus } from '../data/types.js';
import { EarmarkError } from '../errors.js';
import type { ExperimentConfig } from '../eval/optin/config.js';
import { flagTable, usageError, type FlagRecord, type FlagTable } from './args.js';
import { configFlags, configOverrides, mergeOverrides } from './config-flags.js';

/** Where the experiment's commands find their corpus (ExperimentConfig.dataset). */
export const DATASET_FLAGS = configFlags<ExperimentConfig>()({
  layout: {
    type: 'string',
    choices: ['auto', ...LAYOUTS],
    description: 'corpus layout (default: auto)',
    config: 'dataset.layout',
  },
  root: { type: 'string', exists: 'dir', description: 'corpus root folder', config: 'dataset.root' },
  manifest: {
    type: 'string',
    exists: 'file',
    config: 'dataset.manifest',
    description: 'CSV manifest (path + label columns), e.g. data/builtin/speech-1-0/labels.csv',
  },
  splitSeed: {
    type: 'int',
    min: 0,
    description: 'seed of the train/val/test split (default: 0)',
    config: 'dataset.splitSeed',
  },
  skipBad: {
    type: 'boolean',
    config: 'dataset.skipBad',
    description: 'leave out (and list) audio files that cannot be read, instead of stopping at the first',
  },
});

/** --preset and --config: the resolved ExperimentConfig is defaults ← preset ← file ← flags. */
export const PRESET_FLAGS = flagTable({
  preset: {
    type: 'string',
    choices: ['cpu', 'paper'],
    description: "'cpu' (minutes on two cores) or 'paper' (the spec's model sizes and schedules)",
    default: 'cpu',
  },
  config: { type: 'string', exists: 'file', description: 'JSON file of ExperimentConfig overrides (see configs/)' },
});

/**
 * Resolve a config from a file's overrides first (so that its errors name --config and the file),
 * then with the flags' overrides on top.
 */
export function resolveWithFile<C>(
  file: string | undefined,
  resolve: (overrides: Record<string, unknown>) => C,
  flags: Record<string, unknown>,
): C {
  const fromFile = readConfigFile(file);
  if (file !== undefined) {
    try {
      resolve(fromFile);
    } catch (e) {
      if (e instanceof EarmarkError || e instanceof RangeError || e instanceof TypeError)
        throw usageError(`--config ${file}: ${e.message}`, e);
      throw e;
    }
  }
  return resolve(mergeOverrides(fromFile, flags));
}

/**
 * The ExperimentConfig a command runs: defaults ← preset ← `under` (a command's own layer, e.g. the sweep's
 * CPU settings) ← the --config file ← the flags that name a key ← `fixed`.
 * @param table the command's flag table; `o` its parsed options
 */
export async function experimentConfig(
  table: FlagTable,
  o: FlagRecord & { preset: 'cpu' | 'paper'; config?: string | undefined },
  fixed: Record<string, unknown> = {},
  under: Record<string, unknown> = {},
): Promise<ExperimentConfig> {
  const { resolveExperimentConfig } = await import('../eval/optin/config.js');
  return resolveWithFile(
    o.config,
    (over) => resolveExperimentConfig(o.preset, mergeOverrides(mergeOverrides(under, over), fixed)),
    configOverrides(table, o),
  );
}

/** A JSON config file of overrides (validated by the caller's resolver). */
export function readConfigFile(file: string | undefined): Record<string, unknown> {
  if (file === undefined) return {};
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw usageError(`--config ${file} cannot be read: ${(e as Error).message}`, e);
  }
  let v: unknown;
  try {
    v = JSON.parse(text) as unknown;
  } catch (e) {
    throw usageError(
      `--config ${file} is not JSON (${(e as Error).message.replace(/\s+/g, ' ')}); give a JSON object of settings, e.g. configs/`,
      e,
    );
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) {
    throw usageError(
      `--config ${file} holds ${Array.isArray(v) ? 'a list' : JSON.stringify(v)}; it must be a JSON object of settings`,
    );
  }
  return v as Record<string, unknown>;
}

/**
 * The corpus of a dataset config, loaded (and its files checked) before any work; every label in
 * `labels` must have at least two values. `what` says who needs the label ('--task speaker').
 */
export async function checkDataset(
  dataset: DatasetOptions,
  labels: readonly { label: string; what: string }[],
): Promise<Corpus> {
  if (!dataset.root && !dataset.manifest) {
    throw usageError(
      'no dataset given: pass --root <corpus folder> or --manifest <labels.csv> (`earmark corpus speech` builds the built-in one)',
    );
  }
  const { loadDatasetCorpus } = await import('../data/experiment-data.js');
  const corpus = loadDatasetCorpus(dataset);
  for (const { label, what } of labels) {
    const values = labelValues(corpus.utterances, label);
    if (values.length >= 2) continue;
    throw usageError(
      values.length === 0
        ? `${what}: ${corpus.name} has no '${label}' label (its labels: ${corpus.labelNames.join(', ') || 'none'})`
        : `${what}: '${label}' has one value in ${corpus.name} ('${values[0]}'); a classification task needs at least 2`,
    );
  }
  return corpus;
}

/**
 * The dataset of an opt-in experiment's config checked for the experiment's task and protected labels (checkDataset),
 * and its run folder: `out`, or runs/<prefix><experiment>-<dataset folder>. `command` names who needs the labels.
 */
export async function experimentRunDir(
  config: ExperimentConfig,
  command: string,
  out: string | undefined,
  prefix = '',
): Promise<string> {
  const name = config.experiment;
  const { EXPERIMENTS } = await import('../eval/optin/config.js');
  const spec = EXPERIMENTS[name];
  await checkDataset(
    config.dataset,
    [spec.task, ...spec.attacks].map((label) => ({ label, what: `${command} ${name}` })),
  );
  const d = config.dataset;
  const dsName = path.basename(d.manifest ? path.dirname(d.manifest) : d.root || 'data');
  return out ?? path.join('runs', `${prefix}${name}-${dsName}`);
}

/** A fraction as a percentage with one decimal. */
export const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;
