// `earmark launch --nproc N -- <command …>`: N local ranks of a data-parallel job (torchrun's environment).
import path from 'node:path';
import { launch } from '../distributed/launch.js';
import { repoRoot } from '../util/paths.js';
import { defineCommand } from './args.js';

export const launchCmd = defineCommand({
  name: 'launch',
  summary:
    "Run a command as N local ranks of one data-parallel job, with torchrun's environment (MASTER_ADDR, " +
    'MASTER_PORT, RANK, WORLD_SIZE, LOCAL_RANK). Output lines are prefixed by rank; when a rank dies the others ' +
    'are stopped and the exit code is non-zero. `earmark` as the command runs this same CLI.',
  usage: '--nproc N -- <command> [args…]',
  rest: 'the command each rank runs, e.g. `earmark train-obfuscator …`',
  flags: {
    nproc: { type: 'int', description: 'ranks (processes) to start', default: 2, min: 1, max: 1024 },
    masterPort: { type: 'int', description: "rank 0's TCPStore port (default: a free port)", min: 1, max: 65535 },
  },
  async run(o, { rest: [command, ...args] }) {
    const self = command === 'earmark';
    const abort = new AbortController();
    const stop = (): void => abort.abort();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    try {
      const r = await launch({
        nproc: o.nproc,
        command: self ? process.execPath : command!,
        args: self ? [path.join(repoRoot(), 'bin/earmark.js'), ...args] : args,
        masterPort: o.masterPort,
        signal: abort.signal,
      });
      (r.code === 0 ? console.log : console.error)(`earmark launch: ${r.message}`);
      return r.code;
    } finally {
      process.removeListener('SIGINT', stop);
      process.removeListener('SIGTERM', stop);
    }
  },
});
