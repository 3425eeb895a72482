// `earmark floor fig3a|fig3b|fig4`: what T's own posteriors on clean audio reveal of each protected attribute,
// per split seed and pooled (eval/optin/floor.ts). Run it before a sweep: if even this floor is not below the
// clean classifier, no obfuscator that keeps T's posterior can be shown below clean on that corpus.
// The libtorch-using modules load inside run(), so that --help and usage errors answer without libtorch.
import path from 'node:path';
import type { ExperimentConfig, ExperimentName } from '../eval/optin/config.js';
import { parseSeedList } from '../eval/sweep/grid.js';
import { defineCommand } from './args.js';
import { DATASET_FLAGS, experimentConfig, experimentRunDir, PRESET_FLAGS } from './common.js';
import { configFlags } from './config-flags.js';
import { DEVICE_FLAGS, placementFromFlags } from './device-flags.js';

const FLAGS = configFlags<ExperimentConfig>()({
  ...DATASET_FLAGS,
  out: { type: 'string', output: true, description: 'run folder (default runs/floor-<experiment>-<dataset>)' },
  ...PRESET_FLAGS,
  seed: { type: 'int', min: 0, description: 'seed of initialisation and crops', config: 'seed' },
  splitSeeds: {
    type: 'string',
    description:
      'split seeds, e.g. 0,1,2,3: each holds out other test voices; the folds are pooled (default: --split-seed)',
  },
  fresh: { type: 'boolean', description: 'ignore the checkpoints in the run folder and start over', default: false },
  ...DEVICE_FLAGS,
});

export const floor = defineCommand({
  name: 'floor',
  summary:
    "The task-output floor of fig3a, fig3b or fig4: T and the clean classifiers per split seed, and what T's posteriors on clean audio reveal of each protected attribute (the least an obfuscator that keeps T's posterior leaks), pooled over the splits with a verdict from the intervals; writes report.json and floor.md.",
  usage: '<fig3a|fig3b|fig4> [flags]',
  args: [{ name: 'experiment', required: true, choices: ['fig3a', 'fig3b', 'fig4'], description: 'which experiment' }],
  flags: FLAGS,
  async check(o, ctx) {
    const name = ctx.args[0] as ExperimentName;
    const listed = o.splitSeeds === undefined ? undefined : parseSeedList(o.splitSeeds, 'split-seeds');
    const config = await experimentConfig(FLAGS, o, { experiment: name });
    const splitSeeds = listed ?? [config.dataset.splitSeed];
    const runDir = await experimentRunDir(config, 'floor', o.out, 'floor-');
    ctx.output(runDir);
    return { config, runDir, splitSeeds };
  },
  async run(o, { checked: { config, runDir, splitSeeds } }) {
    const { floorMarkdown, taskOutputFloor } = await import('../eval/optin/floor.js');
    const { device, amp } = await placementFromFlags(o, `floor ${config.experiment}`, false);
    const r = await taskOutputFloor({ config, runDir, splitSeeds, resume: !o.fresh, device, amp });
    console.log(`\n${floorMarkdown(r)}\nreport: ${path.resolve(runDir, 'report.json')}`);
    return 0;
  },
});
