// `earmark experiment rdal`: RDAL's experiment, every method × N runs into one report (the paper's table).
import path from 'node:path';
import { defineCommand } from './args.js';
import { checkRdal, RDAL_FLAGS, RDAL_METHOD_NAMES, runRdalCommand } from './rdal-flags.js';

export const experimentRdal = defineCommand({
  name: 'rdal',
  summary:
    "RDAL's experiment: baseline, NaiveAdv and RDAL (add rdal-m with --methods) × N runs, fresh attackers on frozen latents, mean ± std table, ROC curves and attacker-probability histograms in report.html.",
  flags: {
    methods: {
      type: 'list',
      choices: RDAL_METHOD_NAMES,
      description: 'comma-separated methods',
      default: ['baseline', 'naive', 'rdal'],
    },
    out: { type: 'string', output: true, description: 'run folder (default runs/rdal-<preset>)' },
    ...RDAL_FLAGS,
  },
  check(o, ctx) {
    return checkRdal(o, path.join('runs', `rdal-${o.preset}`), ctx);
  },
  async run(o, { checked }) {
    return runRdalCommand(o, o.methods, checked);
  },
});
