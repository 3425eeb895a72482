// `earmark experiment fig3a|fig3b|fig4`: one of the paper's experiments on any supported dataset
// (`earmark experiment rdal` is its subcommand, experiment-rdal.ts).
import path from 'node:path';
import { EarmarkError } from '../errors.js';
import { EXPERIMENTS, type ExperimentConfig, type ExperimentName } from '../eval/optin/config.js';
import { runExperiment } from '../eval/optin/run.js';
import { summaryTable } from '../eval/optin/summary.js';
import { defineCommand } from './args.js';
import { DATASET_FLAGS, experimentConfig, PRESET_FLAGS } from './common.js';
import { configFlags } from './config-flags.js';
import { experimentRdal } from './experiment-rdal.js';

const FLAGS = configFlags<ExperimentConfig>()({
  ...DATASET_FLAGS,
  out: { type: 'string', description: 'run folder (default runs/<experiment>-<dataset>)' },
  ...PRESET_FLAGS,
  seed: { type: 'int', description: 'seed of initialisation and crops', config: 'seed' },
  lambdaP: { type: 'number', description: 'weight λ_p of the privacy loss', config: 'obfuscatorTrain.lambdaP' },
  obfuscatorEpochs: { type: 'int', description: 'obfuscator training epochs', config: 'obfuscatorTrain.epochs' },
  fresh: { type: 'boolean', description: 'ignore checkpoints in the run folder and start over', default: false },
});

const isExperiment = (name: string | undefined): name is ExperimentName => name !== undefined && name in EXPERIMENTS;

export const experiment = defineCommand({
  name: 'experiment',
  summary: 'Run fig3a (target speaker ID, protect gender), fig3b (target gender, protect speaker ID) or fig4 (target speaker ID, attack gender and emotion): trains T, the obfuscator and every attacker, then writes report.json and report.html. (`earmark experiment rdal` runs the RDAL experiment.)',
  usage: '<fig3a|fig3b|fig4> | rdal',
  flags: FLAGS,
  subcommands: [experimentRdal],
  async run(o, positionals) {
    const name = positionals[0];
    if (!isExperiment(name)) {
      throw new EarmarkError('EARMARK_BAD_ARGUMENT', `name the experiment: one of ${Object.keys(EXPERIMENTS).join(', ')} (got '${name ?? ''}')`);
    }
    const config = experimentConfig(FLAGS, o, { experiment: name });
    const dataset = config.dataset;
    const dsName = path.basename(dataset.manifest ? path.dirname(dataset.manifest) : dataset.root || 'data');
    const runDir = o.out ?? path.join('runs', `${name}-${dsName}`);
    const report = await runExperiment({ config, runDir, resume: !o.fresh });
    console.log(`\n${summaryTable(report)}\n\nreport: ${path.resolve(runDir, 'report.html')}`);
    return 0;
  },
});
