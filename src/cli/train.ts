// `earmark train-target` and `earmark train-obfuscator`: the method's two training steps on their own.
import path from 'node:path';
import { EarmarkError } from '../errors.js';
import type { LabelKey } from '../data/index.js';
import { resolveExperimentConfig } from '../eval/optin/config.js';
import { runTrainObfuscator, runTrainTarget } from '../eval/optin/pipeline.js';
import type { Command } from './args.js';
import { DATASET_FLAGS, datasetFromFlags, presetFromFlags, readConfigFile } from './common.js';

const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;

function task(flags: Record<string, unknown>): LabelKey {
  const t = flags['task'];
  if (typeof t !== 'string' || !t) throw new EarmarkError('EARMARK_BAD_ARGUMENT', '--task is required: speaker, gender or emotion (any label column of the dataset)');
  return t;
}

export const trainTarget: Command = {
  name: 'train-target',
  summary: "Train the target model T (DeepSpeech2 classifier) for one task on a dataset's train split; prints validation and test accuracy with vote counting.",
  flags: {
    ...DATASET_FLAGS,
    task: { type: 'string', description: 'speaker, gender or emotion' },
    out: { type: 'string', description: 'output folder', default: 'runs/target' },
    preset: { type: 'string', description: "'cpu' or 'paper' model size and schedule", default: 'cpu' },
    config: { type: 'string', description: 'JSON file of ExperimentConfig overrides (model, targetTrain)' },
    epochs: { type: 'int', description: 'training epochs' },
    resume: { type: 'boolean', description: 'continue from the checkpoint in --out', default: false },
  },
  async run(flags) {
    const file = readConfigFile(flags['config'] as string | undefined);
    const c = resolveExperimentConfig(presetFromFlags(flags), { ...file, ...(flags['epochs'] !== undefined ? { targetTrain: { ...(file['targetTrain'] as object), epochs: flags['epochs'] } } : {}) });
    const r = await runTrainTarget({ task: task(flags), dataset: datasetFromFlags(flags), model: c.model, train: c.targetTrain, out: flags['out'] as string, resume: flags['resume'] === true });
    console.log(`T (${String(flags['task'])}): validation ${pct(r.val.accuracy)}, test ${pct(r.test.accuracy)} [${pct(r.test.accuracyCI.lo)}–${pct(r.test.accuracyCI.hi)}], chance ${pct(r.test.chanceUniform)}; best epoch ${r.bestEpoch + 1}\ncheckpoint: ${path.resolve(r.checkpoint)}`);
    return 0;
  },
};

export const trainObfuscatorCmd: Command = {
  name: 'train-obfuscator',
  summary: 'Train the obfuscator and deobfuscator against a frozen target model (Wang et al.: L_a, L_t, L_p; SGD 1e-2, momentum 0.9), with a checkpoint every epoch.',
  flags: {
    ...DATASET_FLAGS,
    target: { type: 'string', description: 'target checkpoint from train-target (target.safetensors)' },
    task: { type: 'string', description: 'the task the target was trained for (for validation)' },
    out: { type: 'string', description: 'output folder', default: 'runs/obfuscator' },
    preset: { type: 'string', description: "'cpu' or 'paper' generator sizes and schedule", default: 'cpu' },
    config: { type: 'string', description: 'JSON file of ExperimentConfig overrides (obfuscator, deobfuscator, obfuscatorTrain)' },
    epochs: { type: 'int', description: 'training epochs' },
    'lambda-t': { type: 'number', description: 'weight of L_t' },
    'lambda-p': { type: 'number', description: 'weight of L_p' },
    resume: { type: 'boolean', description: 'continue from the checkpoint in --out', default: false },
  },
  async run(flags) {
    if (typeof flags['target'] !== 'string') throw new EarmarkError('EARMARK_BAD_ARGUMENT', '--target <target.safetensors> is required (run `earmark train-target` first)');
    const file = readConfigFile(flags['config'] as string | undefined);
    const ot: Record<string, unknown> = { ...(file['obfuscatorTrain'] as object | undefined) };
    if (flags['epochs'] !== undefined) ot['epochs'] = flags['epochs'];
    if (flags['lambda-t'] !== undefined) ot['lambdaT'] = flags['lambda-t'];
    if (flags['lambda-p'] !== undefined) ot['lambdaP'] = flags['lambda-p'];
    const c = resolveExperimentConfig(presetFromFlags(flags), { ...file, obfuscatorTrain: ot });
    const r = await runTrainObfuscator({
      target: flags['target'], task: task(flags), dataset: datasetFromFlags(flags), obfuscator: c.obfuscator, deobfuscator: c.deobfuscator,
      train: c.obfuscatorTrain, out: flags['out'] as string, resume: flags['resume'] === true,
    });
    console.log(`obfuscator: T's validation accuracy ${pct(r.valTargetAcc)} on obfuscated audio (${pct(r.valCleanAcc)} clean)\ncheckpoint: ${path.resolve(r.checkpoint)}`);
    return 0;
  },
};
