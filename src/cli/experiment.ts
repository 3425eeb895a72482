// `earmark experiment fig3a|fig3b|fig4`: one of the paper's experiments on any supported dataset
// (`earmark experiment rdal` is its subcommand, experiment-rdal.ts).
import path from 'node:path';
import type { ExperimentConfig, ExperimentName } from '../eval/optin/config.js';
import { defineCommand } from './args.js';
import { DATASET_FLAGS, experimentConfig, experimentRunDir, PRESET_FLAGS } from './common.js';
import { configFlags } from './config-flags.js';
import { DEVICE_FLAGS, placementFromFlags } from './device-flags.js';
import { experimentRdal } from './experiment-rdal.js';
import { experimentByBudget } from './sweep.js';

/** The experiments' names (eval/optin/config.ts's EXPERIMENTS; a test keeps the two equal). */
export const EXPERIMENT_NAMES = ['fig3a', 'fig3b', 'fig4'] as const satisfies readonly ExperimentName[];

const FLAGS = configFlags<ExperimentConfig>()({
  ...DATASET_FLAGS,
  out: { type: 'string', output: true, description: 'run folder (default runs/<experiment>-<dataset>)' },
  ...PRESET_FLAGS,
  seed: { type: 'int', min: 0, description: 'seed of initialisation and crops', config: 'seed' },
  lambdaP: { type: 'number', min: 0, description: 'weight λ_p of the privacy loss', config: 'obfuscatorTrain.lambdaP' },
  obfuscatorEpochs: {
    type: 'int',
    min: 1,
    description: 'obfuscator training epochs',
    config: 'obfuscatorTrain.epochs',
  },
  fresh: {
    type: 'boolean',
    description:
      'ignore every checkpoint in the run folder (T, obfuscator, attackers, x-vector extractors) and start over',
    default: false,
  },
  retrain: {
    type: 'boolean',
    description:
      'retrain a stage whose checkpoint was made with other settings or data, naming the keys that differ; --no-retrain refuses instead',
    default: true,
  },
  maxTargetDrop: {
    type: 'number',
    min: 0,
    description: 'utility budget: sweep λ_p, keep the most private within D points (validation)',
  },
  ...DEVICE_FLAGS,
});

export const experiment = defineCommand({
  name: 'experiment',
  summary:
    'Run fig3a (target speaker ID, protect gender), fig3b (target gender, protect speaker ID) or fig4 (target speaker ID, attack gender and emotion): trains T, the obfuscator and every attacker, then writes report.json and report.html. (`earmark experiment rdal` runs the RDAL experiment.)',
  usage: '<fig3a|fig3b|fig4> [flags] | rdal [flags]',
  args: [
    { name: 'experiment', required: true, choices: [...EXPERIMENT_NAMES, 'rdal'], description: 'which experiment' },
  ],
  flags: FLAGS,
  subcommands: [experimentRdal],
  async check(o, ctx) {
    const name = ctx.args[0] as ExperimentName;
    const config = await experimentConfig(FLAGS, o, { experiment: name });
    const runDir = await experimentRunDir(config, 'experiment', o.out);
    ctx.output(runDir);
    return { config, runDir };
  },
  async run(o, { checked: { config, runDir } }) {
    const { ExperimentStageError, runExperiment } = await import('../eval/optin/run.js');
    const { summaryTable } = await import('../eval/optin/summary.js');
    if (o.maxTargetDrop !== undefined) return experimentByBudget(config, runDir, o.maxTargetDrop);
    const { device, amp } = await placementFromFlags(o, `experiment ${config.experiment}`, false);
    const report = await runExperiment({ config, runDir, resume: !o.fresh, retrain: o.retrain, device, amp }).catch(
      (e: unknown) => {
        if (e instanceof ExperimentStageError) console.log(`\n${summaryTable(e.report)}\n`); // what the other stages computed
        throw e;
      },
    );
    console.log(`\n${summaryTable(report)}\n\nreport: ${path.resolve(runDir, 'report.html')}`);
    return 0;
  },
});
