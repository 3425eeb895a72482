// `earmark launch`'s library half: start N local processes with torchrun's environment (MASTER_ADDR,
// MASTER_PORT, RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE), forward their output line by line
// prefixed by rank, and when one rank dies stop the others (SIGTERM, then SIGKILL after a grace period)
// and report which rank ended the job and how. Each rank runs in its own process group, so a rank's
// children are stopped with it. Never exits the process: the caller turns the result into an exit code.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import os from 'node:os';
import { createInterface } from 'node:readline';

export interface LaunchOptions {
  /** Processes (ranks) to start, >= 1. */
  nproc: number;
  /** The program and its arguments, run once per rank. */
  command: string;
  args?: readonly string[];
  /** Rank 0's TCPStore port (default: a free port on 127.0.0.1). */
  masterPort?: number;
  /** Environment the ranks inherit (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** libtorch threads per rank when EARMARK_THREADS is not set (default: cores / nproc, at least 1). */
  threadsPerProcess?: number;
  /** Where each prefixed output line goes (default: this process's stdout / stderr). */
  onLine?: (line: string, stream: 'stdout' | 'stderr') => void;
  /** Aborting stops every rank (the CLI wires Ctrl-C here). */
  signal?: AbortSignal;
  /** Between SIGTERM and SIGKILL when stopping ranks, in ms (default 5000). */
  graceMs?: number;
}

export interface LaunchResult {
  /** 0 when every rank exited 0, else non-zero. */
  code: number;
  /** The rank whose exit ended the job, or null. */
  failedRank: number | null;
  /** One line for the user: what happened. */
  message: string;
}

/** A TCP port that was free on 127.0.0.1 a moment ago (torchrun picks its port the same way). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** The variables one rank of an N-process job on this machine sees (torchrun's names). */
export function rankEnv(rank: number, nproc: number, masterPort: number): Record<string, string> {
  return {
    MASTER_ADDR: '127.0.0.1',
    MASTER_PORT: String(masterPort),
    RANK: String(rank),
    WORLD_SIZE: String(nproc),
    LOCAL_RANK: String(rank),
    LOCAL_WORLD_SIZE: String(nproc),
    GROUP_RANK: '0',
    ROLE_RANK: String(rank),
  };
}

function describeExit(code: number | null, signal: NodeJS.Signals | null): string {
  return signal !== null ? `was killed by ${signal}` : `exited with code ${code}`;
}

/**
 * Run `command` as `nproc` ranks of one job and wait for all of them.
 * @example const r = await launch({ nproc: 2, command: process.execPath, args: ['train.js'] });
 *          process.exitCode = r.code;
 */
export async function launch(o: LaunchOptions): Promise<LaunchResult> {
  if (!Number.isInteger(o.nproc) || o.nproc < 1)
    throw new RangeError(`launch: 'nproc' must be an integer >= 1, got ${o.nproc}`);
  if (typeof o.command !== 'string' || o.command === '')
    throw new TypeError("launch: 'command' must be a program to run");
  const port = o.masterPort ?? (await freePort());
  const base = o.env ?? process.env;
  const threads = o.threadsPerProcess ?? Math.max(1, Math.floor(os.cpus().length / o.nproc));
  const onLine =
    o.onLine ?? ((line, stream) => (stream === 'stdout' ? process.stdout : process.stderr).write(line + '\n'));
  const graceMs = o.graceMs ?? 5000;

  const children: ChildProcess[] = [];
  const alive = new Set<number>();
  let failure: { rank: number; what: string } | null = null;
  let aborted = false;
  let killTimer: NodeJS.Timeout | null = null;

  const signalAll = (sig: NodeJS.Signals): void => {
    for (const rank of alive) {
      const pid = children[rank]?.pid;
      if (pid === undefined) continue;
      try {
        process.kill(-pid, sig); // the rank's whole process group
      } catch {
        // already gone
      }
    }
  };
  const stopAll = (): void => {
    if (killTimer !== null) return;
    signalAll('SIGTERM');
    killTimer = setTimeout(() => signalAll('SIGKILL'), graceMs);
    killTimer.unref();
  };
  const onAbort = (): void => {
    aborted = true;
    stopAll();
  };
  // if this process exits first (an uncaught error), take the ranks with it
  const onExit = (): void => signalAll('SIGKILL');
  process.once('exit', onExit);
  o.signal?.addEventListener('abort', onAbort, { once: true });

  // one rank: its own process group, its output forwarded line by line, its exit judged
  const startRank = (rank: number): Promise<void> =>
    new Promise<void>((resolve) => {
      const env = { ...base, ...rankEnv(rank, o.nproc, port) };
      if (base['EARMARK_THREADS'] === undefined) env['EARMARK_THREADS'] = String(threads);
      const child = spawn(o.command, o.args ?? [], { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
      children[rank] = child;
      alive.add(rank);
      for (const stream of ['stdout', 'stderr'] as const) {
        const lines = createInterface({ input: child[stream]!, crlfDelay: Infinity });
        lines.on('line', (line) => onLine(`[rank ${rank}] ${line}`, stream));
      }
      child.once('error', (e) => {
        if (failure === null) failure = { rank, what: `could not start '${o.command}': ${e.message}` };
        alive.delete(rank);
        stopAll();
        resolve();
      });
      child.once('exit', (code, signal) => {
        alive.delete(rank);
        if ((code !== 0 || signal !== null) && failure === null && !aborted) {
          failure = { rank, what: describeExit(code, signal) };
          stopAll();
        }
      });
      child.once('close', () => resolve());
    });
  const done = Array.from({ length: o.nproc }, (_, rank) => startRank(rank));
  if (o.signal?.aborted) onAbort();
  await Promise.all(done);
  if (killTimer !== null) clearTimeout(killTimer);
  process.removeListener('exit', onExit);
  o.signal?.removeEventListener('abort', onAbort);

  const f = failure as { rank: number; what: string } | null;
  if (aborted) return { code: 130, failedRank: null, message: `interrupted: stopped all ${o.nproc} ranks` };
  if (f !== null) {
    const others = o.nproc - 1;
    return {
      code: 1,
      failedRank: f.rank,
      message:
        `rank ${f.rank} of ${o.nproc} ${f.what}` +
        (others > 0 ? `; stopped the other ${others} rank${others > 1 ? 's' : ''}` : ''),
    };
  }
  return { code: 0, failedRank: null, message: `all ${o.nproc} ranks finished` };
}
