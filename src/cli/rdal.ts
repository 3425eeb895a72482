// `earmark rdal --method baseline|naive|rdal|rdal-m`: train and evaluate one RDAL method N times.
import path from 'node:path';
import { defineCommand } from './args.js';
import { checkRdal, RDAL_FLAGS, RDAL_METHOD_NAMES, runRdalCommand } from './rdal-flags.js';

export const rdal = defineCommand({
  name: 'rdal',
  summary:
    'Train one RDAL method (baseline, naive = gradient reversal, rdal = adversary weights replaced every P epochs, rdal-m = rdal behind a speech mask) on a soundscape folder; evaluates fresh speech and gender attackers and writes report.json and report.html.',
  flags: {
    method: { type: 'string', choices: RDAL_METHOD_NAMES, required: true, description: 'the method to train' },
    out: { type: 'string', output: true, description: 'run folder (default runs/rdal-<preset>-<method>)' },
    ...RDAL_FLAGS,
    runs: { type: 'int', min: 1, description: 'independent runs (seeds seed…seed+runs−1)', default: 1 },
  },
  check(o, ctx) {
    return checkRdal(o, path.join('runs', `rdal-${o.preset}-${o.method}`), ctx);
  },
  async run(o, { checked }) {
    return runRdalCommand(o, [o.method], checked);
  },
});
