// `earmark experiment rdal`: RDAL's experiment, every method × N runs into one report (the paper's table).
import path from 'node:path';
import { RDAL_METHODS } from '../methods/rdal/config.js';
import { defineCommand } from './args.js';
import { RDAL_FLAGS, runRdalCommand } from './rdal-flags.js';

export const experimentRdal = defineCommand({
  name: 'rdal',
  summary: "RDAL's experiment: baseline, NaiveAdv and RDAL (add rdal-m with --methods) × N runs, fresh attackers on frozen latents, mean ± std table, ROC curves and attacker-probability histograms in report.html.",
  flags: {
    methods: { type: 'list', choices: RDAL_METHODS, description: 'comma-separated methods', default: ['baseline', 'naive', 'rdal'] },
    out: { type: 'string', description: 'run folder (default runs/rdal-<preset>)' },
    ...RDAL_FLAGS,
  },
  async run(o) {
    return runRdalCommand(o, o.methods, path.join('runs', `rdal-${o.preset}`));
  },
});
