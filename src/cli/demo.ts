import type { Command } from './args.js';
import { runSelfcheck } from './selfcheck.js';

export const demo: Command = {
  name: 'demo',
  summary: 'The main job (`npm start`). Until the opt-in obfuscator demo lands (issue 4) it runs the engine self-check.',
  flags: {},
  async run() {
    return runSelfcheck();
  },
};
