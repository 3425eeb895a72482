// Flags and steps shared by several commands: the dataset flags, --preset and --config of the opt-in
// experiment's commands, and reading a JSON config file of overrides.
import { readFileSync } from 'node:fs';
import { LAYOUTS } from '../data/load.js';
import { EarmarkError } from '../errors.js';
import { resolveExperimentConfig, type ExperimentConfig } from '../eval/optin/config.js';
import { flagTable, type FlagRecord, type FlagTable } from './args.js';
import { configFlags, configOverrides, mergeOverrides } from './config-flags.js';

/** Where the experiment's commands find their corpus (ExperimentConfig.dataset). */
export const DATASET_FLAGS = configFlags<ExperimentConfig>()({
  layout: { type: 'string', choices: ['auto', ...LAYOUTS], description: 'corpus layout (default: auto)', config: 'dataset.layout' },
  root: { type: 'string', description: 'corpus root folder', config: 'dataset.root' },
  manifest: { type: 'string', description: 'CSV manifest (path + label columns), e.g. data/builtin/speech-1-0/labels.csv', config: 'dataset.manifest' },
  splitSeed: { type: 'int', description: 'seed of the train/val/test split (default: 0)', config: 'dataset.splitSeed' },
  skipBad: { type: 'boolean', description: 'skip unreadable audio files (listed) instead of stopping', config: 'dataset.skipBad' },
});

/** --preset and --config: the resolved ExperimentConfig is defaults ← preset ← file ← flags. */
export const PRESET_FLAGS = flagTable({
  preset: { type: 'string', choices: ['cpu', 'paper'], description: "'cpu' (minutes on two cores) or 'paper' (the spec's model sizes and schedules)", default: 'cpu' },
  config: { type: 'string', description: 'JSON file of ExperimentConfig overrides (see configs/)' },
});

/**
 * The ExperimentConfig a command runs: defaults ← preset ← the --config file ← the flags that name a key.
 * @param table the command's flag table; `o` its parsed options
 */
export function experimentConfig(table: FlagTable, o: FlagRecord & { preset: 'cpu' | 'paper'; config?: string | undefined },
  fixed: Record<string, unknown> = {}): ExperimentConfig {
  return resolveExperimentConfig(o.preset, mergeOverrides(mergeOverrides(readConfigFile(o.config), configOverrides(table, o)), fixed));
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

/** A fraction as a percentage with one decimal. */
export const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;

/** --task, required with a message that lists the usual tasks. */
export function taskFrom(task: string | undefined): string {
  if (task === undefined || !task) throw new EarmarkError('EARMARK_BAD_ARGUMENT', '--task is required: speaker, gender or emotion (any label column of the dataset)');
  return task;
}
