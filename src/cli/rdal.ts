// `earmark rdal --method baseline|naive|rdal|rdal-m`: train and evaluate one RDAL method N times.
import path from 'node:path';
import { EarmarkError } from '../errors.js';
import { RDAL_METHODS } from '../methods/rdal/config.js';
import { defineCommand } from './args.js';
import { RDAL_FLAGS, runRdalCommand } from './rdal-flags.js';

export const rdal = defineCommand({
  name: 'rdal',
  summary: 'Train one RDAL method (baseline, naive = gradient reversal, rdal = adversary weights replaced every P epochs, rdal-m = rdal behind a speech mask) on a soundscape folder; evaluates fresh speech and gender attackers and writes report.json and report.html.',
  flags: {
    method: { type: 'string', choices: RDAL_METHODS, description: 'the method to train' },
    out: { type: 'string', description: 'run folder (default runs/rdal-<method>)' },
    ...RDAL_FLAGS,
    runs: { type: 'int', description: 'independent runs (seeds seed…seed+runs−1)', default: 1 },
  },
  async run(o) {
    if (o.method === undefined) throw new EarmarkError('EARMARK_BAD_ARGUMENT', `--method must be one of ${RDAL_METHODS.join(', ')}, got ''`);
    return runRdalCommand(o, [o.method], path.join('runs', `rdal-${o.method}`));
  },
});
