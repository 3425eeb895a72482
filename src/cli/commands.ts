// The command table. Each command lives in its own file and calls one library function.
import type { Command } from './args.js';
import { selfcheck } from './selfcheck.js';
import { demo } from './demo.js';

export const COMMANDS: Command[] = [demo, selfcheck];
