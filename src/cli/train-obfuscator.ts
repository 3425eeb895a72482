// `earmark train-obfuscator`: the method's second training step on its own, F_σ and F_μ against a
// frozen target checkpoint.
import path from 'node:path';
import { EarmarkError } from '../errors.js';
import type { ExperimentConfig } from '../eval/optin/config.js';
import { runTrainObfuscator } from '../eval/optin/pipeline.js';
import { defineCommand } from './args.js';
import { DATASET_FLAGS, experimentConfig, pct, PRESET_FLAGS, taskFrom } from './common.js';
import { configFlags } from './config-flags.js';

const FLAGS = configFlags<ExperimentConfig>()({
  ...DATASET_FLAGS,
  target: { type: 'string', description: 'target checkpoint from train-target (target.safetensors)' },
  task: { type: 'string', description: 'the task the target was trained for (for validation)' },
  out: { type: 'string', description: 'output folder', default: 'runs/obfuscator' },
  ...PRESET_FLAGS,
  config: { type: 'string', description: 'JSON file of ExperimentConfig overrides (obfuscator, deobfuscator, obfuscatorTrain)' },
  epochs: { type: 'int', description: 'training epochs', config: 'obfuscatorTrain.epochs' },
  lambdaT: { type: 'number', description: 'weight of L_t', config: 'obfuscatorTrain.lambdaT' },
  lambdaP: { type: 'number', description: 'weight of L_p', config: 'obfuscatorTrain.lambdaP' },
  resume: { type: 'boolean', description: 'continue from the checkpoint in --out', default: false },
});

export const trainObfuscator = defineCommand({
  name: 'train-obfuscator',
  summary: 'Train the obfuscator and deobfuscator against a frozen target model (Wang et al.: L_a, L_t, L_p; SGD 1e-2, momentum 0.9), with a checkpoint every epoch.',
  flags: FLAGS,
  async run(o) {
    if (o.target === undefined) throw new EarmarkError('EARMARK_BAD_ARGUMENT', '--target <target.safetensors> is required (run `earmark train-target` first)');
    const c = experimentConfig(FLAGS, o);
    const r = await runTrainObfuscator({
      target: o.target, task: taskFrom(o.task), dataset: c.dataset, obfuscator: c.obfuscator, deobfuscator: c.deobfuscator,
      train: c.obfuscatorTrain, out: o.out, resume: o.resume,
    });
    console.log(`obfuscator: T's validation accuracy ${pct(r.valTargetAcc)} on obfuscated audio (${pct(r.valCleanAcc)} clean)\ncheckpoint: ${path.resolve(r.checkpoint)}`);
    return 0;
  },
});
