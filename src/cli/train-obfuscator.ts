// `earmark train-obfuscator`: the method's second training step on its own, F_σ and F_μ against a
// frozen target checkpoint (checked to be one, for the task's number of classes, before any work).
import path from 'node:path';
import { labelValues } from '../data/types.js';
import type { ExperimentConfig } from '../eval/optin/config.js';
import { defineCommand, usageError } from './args.js';
import { checkTargetCheckpoint } from './checks.js';
import { checkDataset, DATASET_FLAGS, experimentConfig, pct, PRESET_FLAGS } from './common.js';
import { configFlags } from './config-flags.js';
import { trainObfuscatorByBudget } from './sweep.js';
import { DEVICE_FLAGS, placementFromFlags } from './device-flags.js';

const FLAGS = configFlags<ExperimentConfig>()({
  ...DATASET_FLAGS,
  target: {
    type: 'string',
    required: true,
    exists: 'file',
    fix: 'train one with `earmark train-target` first',
    description: 'target checkpoint from train-target (target.safetensors)',
  },
  task: { type: 'string', required: true, description: 'the task the target was trained for' },
  out: { type: 'string', output: true, description: 'output folder', default: 'runs/obfuscator' },
  ...PRESET_FLAGS,
  config: {
    type: 'string',
    exists: 'file',
    description: 'JSON file of ExperimentConfig overrides (obfuscator, deobfuscator, obfuscatorTrain)',
  },
  epochs: { type: 'int', min: 1, description: 'training epochs', config: 'obfuscatorTrain.epochs' },
  lambdaT: { type: 'number', min: 0, description: 'weight of L_t', config: 'obfuscatorTrain.lambdaT' },
  lambdaP: { type: 'number', min: 0, description: 'weight of L_p', config: 'obfuscatorTrain.lambdaP' },
  resume: { type: 'boolean', description: 'continue from the checkpoint in --out', default: false },
  maxTargetDrop: {
    type: 'number',
    min: 0,
    description: 'utility budget: train each λ_p, keep the most private within D points (validation)',
  },
  retrain: {
    type: 'boolean',
    description:
      'with --resume, retrain when the checkpoint was made with other settings or data (naming the keys that differ); --no-retrain refuses instead',
    default: true,
  },
  ...DEVICE_FLAGS,
});

export const trainObfuscator = defineCommand({
  name: 'train-obfuscator',
  summary:
    'Train the obfuscator and deobfuscator against a frozen target model (Wang et al.: L_a, L_t, L_p; SGD 1e-2, momentum 0.9), with a checkpoint every epoch.',
  flags: FLAGS,
  async check(o) {
    const classes = checkTargetCheckpoint(o.target);
    const c = await experimentConfig(FLAGS, o);
    const corpus = await checkDataset(c.dataset, [{ label: o.task, what: `--task ${o.task}` }]);
    const n = labelValues(corpus.utterances, o.task).length;
    if (n !== classes) {
      throw usageError(
        `--target ${o.target} predicts ${classes} classes but --task ${o.task} has ${n} in ${corpus.name}; give the target trained for this task and dataset`,
      );
    }
    return c;
  },
  async run(o, { checked: c }) {
    if (o.maxTargetDrop !== undefined) {
      return trainObfuscatorByBudget({
        target: o.target,
        task: o.task,
        dataset: c.dataset,
        obfuscator: c.obfuscator,
        deobfuscator: c.deobfuscator,
        train: c.obfuscatorTrain,
        out: o.out,
        resume: o.resume,
        maxTargetDrop: o.maxTargetDrop,
      });
    }
    const { runTrainObfuscator } = await import('../eval/optin/pipeline.js');
    const place = await placementFromFlags(o, 'train-obfuscator');
    const r = await runTrainObfuscator({
      target: o.target,
      task: o.task,
      dataset: c.dataset,
      obfuscator: c.obfuscator,
      deobfuscator: c.deobfuscator,
      train: c.obfuscatorTrain,
      out: o.out,
      resume: o.resume,
      retrain: o.retrain,
      ...place,
    }).finally(() => place.close());
    if (place.rank === 0)
      console.log(
        `obfuscator: T's validation accuracy ${pct(r.valTargetAcc)} on obfuscated audio (${pct(r.valCleanAcc)} clean)\ncheckpoint: ${path.resolve(r.checkpoint)}`,
      );
    return 0;
  },
});
