// The command table. Each command lives in its own file and calls one library function.
import type { Command } from './args.js';
import { corpus } from './corpus.js';
import { demo } from './demo.js';
import { experiment } from './experiment.js';
import { features } from './features.js';
import { grant, revoke } from './grant.js';
import { obfuscate } from './obfuscate.js';
import { experimentRdalCmd, rdalCmd } from './rdal.js';
import { serve } from './serve.js';
import { selfcheck } from './selfcheck.js';
import { trainObfuscatorCmd, trainTarget } from './train.js';
import { web } from './web.js';

export const COMMANDS: Command[] = [demo, corpus, features, trainTarget, trainObfuscatorCmd, experiment, rdalCmd, experimentRdalCmd, obfuscate, serve, grant, revoke, selfcheck, web];
