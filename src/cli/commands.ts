// The command table. Each command lives in its own file and calls one library function.
import type { Command } from './args.js';
import { corpus } from './corpus.js';
import { demo } from './demo.js';
import { experiment } from './experiment.js';
import { features } from './features.js';
import { selfcheck } from './selfcheck.js';
import { trainObfuscatorCmd, trainTarget } from './train.js';

export const COMMANDS: Command[] = [demo, corpus, features, trainTarget, trainObfuscatorCmd, experiment, selfcheck];
