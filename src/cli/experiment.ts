// `earmark experiment fig3a|fig3b|fig4`: one of the paper's experiments on any supported dataset.
import path from 'node:path';
import { EarmarkError } from '../errors.js';
import { EXPERIMENTS, resolveExperimentConfig, type ExperimentName } from '../eval/optin/config.js';
import { runExperiment } from '../eval/optin/run.js';
import { summaryTable } from '../eval/optin/summary.js';
import type { Command } from './args.js';
import { DATASET_FLAGS, datasetFromFlags, presetFromFlags, readConfigFile } from './common.js';

export const experiment: Command = {
  name: 'experiment',
  summary: 'Run fig3a (target speaker ID, protect gender), fig3b (target gender, protect speaker ID) or fig4 (target speaker ID, attack gender and emotion): trains T, the obfuscator and every attacker, then writes report.json and report.html. (`earmark experiment rdal` runs the RDAL experiment, see experiment-rdal.)',
  usage: '<fig3a|fig3b|fig4>',
  flags: {
    ...DATASET_FLAGS,
    out: { type: 'string', description: 'run folder (default runs/<experiment>-<dataset>)' },
    preset: { type: 'string', description: "'cpu' (minutes on two cores) or 'paper' (the spec's model sizes and schedules)", default: 'cpu' },
    config: { type: 'string', description: 'JSON file of ExperimentConfig overrides (see configs/)' },
    seed: { type: 'int', description: 'seed of initialisation and crops' },
    'lambda-p': { type: 'number', description: 'weight λ_p of the privacy loss' },
    'obfuscator-epochs': { type: 'int', description: 'obfuscator training epochs' },
    fresh: { type: 'boolean', description: 'ignore checkpoints in the run folder and start over', default: false },
  },
  async run(flags, positionals) {
    const name = positionals[0] as ExperimentName | undefined;
    if (name === undefined || !(name in EXPERIMENTS)) {
      throw new EarmarkError('EARMARK_BAD_ARGUMENT', `name the experiment: one of ${Object.keys(EXPERIMENTS).join(', ')} (got '${name ?? ''}')`);
    }
    const file = readConfigFile(flags['config'] as string | undefined);
    const dataset = datasetFromFlags(flags);
    const overrides: Record<string, unknown> = { ...file, experiment: name, dataset: { ...(file['dataset'] as object | undefined), ...dataset } };
    if (flags['seed'] !== undefined) overrides['seed'] = flags['seed'];
    const ot = { ...(file['obfuscatorTrain'] as object | undefined) } as Record<string, unknown>;
    if (flags['lambda-p'] !== undefined) ot['lambdaP'] = flags['lambda-p'];
    if (flags['obfuscator-epochs'] !== undefined) ot['epochs'] = flags['obfuscator-epochs'];
    if (Object.keys(ot).length) overrides['obfuscatorTrain'] = ot;
    const config = resolveExperimentConfig(presetFromFlags(flags), overrides);
    const dsName = path.basename(dataset.manifest ? path.dirname(dataset.manifest) : dataset.root || 'data');
    const runDir = (flags['out'] as string | undefined) ?? path.join('runs', `${name}-${dsName}`);
    const report = await runExperiment({ config, runDir, resume: flags['fresh'] !== true });
    console.log(`\n${summaryTable(report)}\n\nreport: ${path.resolve(runDir, 'report.html')}`);
    return 0;
  },
};
