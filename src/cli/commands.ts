// The command table. Each command lives in its own file and calls one library function.
import type { Command } from './args.js';
import { corpus } from './corpus.js';
import { demo } from './demo.js';
import { experiment } from './experiment.js';
import { features } from './features.js';
import { floor } from './floor.js';
import { grant } from './grant.js';
import { launchCmd } from './launch.js';
import { obfuscate } from './obfuscate.js';
import { rdal } from './rdal.js';
import { revoke } from './revoke.js';
import { selfcheck } from './selfcheck.js';
import { serve } from './serve.js';
import { sweep } from './sweep.js';
import { trainObfuscator } from './train-obfuscator.js';
import { trainTarget } from './train-target.js';
import { web } from './web.js';

export const COMMANDS: Command[] = [
  demo,
  corpus,
  features,
  trainTarget,
  trainObfuscator,
  experiment,
  sweep,
  floor,
  rdal,
  obfuscate,
  serve,
  grant,
  revoke,
  selfcheck,
  launchCmd,
  web,
];
