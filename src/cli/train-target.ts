// `earmark train-target`: the method's first training step on its own, T for one task.
import path from 'node:path';
import type { ExperimentConfig } from '../eval/optin/config.js';
import { runTrainTarget } from '../eval/optin/pipeline.js';
import { defineCommand } from './args.js';
import { DATASET_FLAGS, experimentConfig, pct, PRESET_FLAGS, taskFrom } from './common.js';
import { configFlags } from './config-flags.js';

const FLAGS = configFlags<ExperimentConfig>()({
  ...DATASET_FLAGS,
  task: { type: 'string', description: 'speaker, gender or emotion' },
  out: { type: 'string', description: 'output folder', default: 'runs/target' },
  ...PRESET_FLAGS,
  config: { type: 'string', description: 'JSON file of ExperimentConfig overrides (model, targetTrain)' },
  epochs: { type: 'int', description: 'training epochs', config: 'targetTrain.epochs' },
  resume: { type: 'boolean', description: 'continue from the checkpoint in --out', default: false },
});

export const trainTarget = defineCommand({
  name: 'train-target',
  summary: "Train the target model T (DeepSpeech2 classifier) for one task on a dataset's train split; prints validation and test accuracy with vote counting.",
  flags: FLAGS,
  async run(o) {
    const c = experimentConfig(FLAGS, o);
    const task = taskFrom(o.task);
    const r = await runTrainTarget({ task, dataset: c.dataset, model: c.model, train: c.targetTrain, out: o.out, resume: o.resume });
    console.log(`T (${task}): validation ${pct(r.val.accuracy)}, test ${pct(r.test.accuracy)} [${pct(r.test.accuracyCI.lo)}–${pct(r.test.accuracyCI.hi)}], chance ${pct(r.test.chanceUniform)}; best epoch ${r.bestEpoch + 1}\ncheckpoint: ${path.resolve(r.checkpoint)}`);
    return 0;
  },
});
