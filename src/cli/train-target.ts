// `earmark train-target`: the method's first training step on its own, T for one task.
import path from 'node:path';
import type { ExperimentConfig } from '../eval/optin/config.js';
import { defineCommand } from './args.js';
import { checkDataset, DATASET_FLAGS, experimentConfig, pct, PRESET_FLAGS } from './common.js';
import { configFlags } from './config-flags.js';
import { DEVICE_FLAGS, placementFromFlags } from './device-flags.js';

const FLAGS = configFlags<ExperimentConfig>()({
  ...DATASET_FLAGS,
  task: {
    type: 'string',
    required: true,
    description: 'the task T learns: speaker, gender or emotion (any label column of the dataset)',
  },
  out: { type: 'string', output: true, description: 'output folder', default: 'runs/target' },
  ...PRESET_FLAGS,
  config: {
    type: 'string',
    exists: 'file',
    description: 'JSON file of ExperimentConfig overrides (model, targetTrain)',
  },
  epochs: { type: 'int', min: 1, description: 'training epochs', config: 'targetTrain.epochs' },
  resume: { type: 'boolean', description: 'continue from the checkpoint in --out', default: false },
  retrain: {
    type: 'boolean',
    description:
      'with --resume, retrain when the checkpoint was made with other settings or data (naming the keys that differ); --no-retrain refuses instead',
    default: true,
  },
  ...DEVICE_FLAGS,
});

export const trainTarget = defineCommand({
  name: 'train-target',
  summary:
    "Train the target model T (DeepSpeech2 classifier) for one task on a dataset's train split; prints validation and test accuracy with vote counting.",
  flags: FLAGS,
  async check(o) {
    const c = await experimentConfig(FLAGS, o);
    await checkDataset(c.dataset, [{ label: o.task, what: `--task ${o.task}` }]);
    return c;
  },
  async run(o, { checked: c }) {
    const { runTrainTarget } = await import('../eval/optin/pipeline.js');
    const place = await placementFromFlags(o, 'train-target');
    const r = await runTrainTarget({
      task: o.task,
      dataset: c.dataset,
      model: c.model,
      train: c.targetTrain,
      out: o.out,
      resume: o.resume,
      retrain: o.retrain,
      ...place,
    }).finally(() => place.close());
    if (place.rank === 0)
      console.log(
        `T (${o.task}): validation ${pct(r.val.accuracy)}, test ${pct(r.test.accuracy)} [${pct(r.test.accuracyCI.lo)}–${pct(r.test.accuracyCI.hi)}], chance ${pct(r.test.chanceUniform)}; best epoch ${r.bestEpoch + 1}\ncheckpoint: ${path.resolve(r.checkpoint)}`,
      );
    return 0;
  },
});
