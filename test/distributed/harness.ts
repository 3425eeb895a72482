// Test harness for multi-process tests: run a compiled worker script (this folder) as N ranks through
// launch(), with a hard deadline after which every rank is stopped, and collect each rank's output.
import { fileURLToPath } from 'node:url';
import { launch, type LaunchResult } from '../../src/distributed/launch.js';

/** The compiled worker `name` (e.g. 'optin-worker') beside this file. */
export function workerPath(name: string): string {
  return fileURLToPath(new URL(`./${name}.js`, import.meta.url));
}

export interface RanksResult extends LaunchResult {
  /** Output lines per rank, prefix removed. */
  lines: string[][];
  ms: number;
}

/**
 * Run `worker` as `nproc` ranks with `config` as its JSON argument; ranks still running after
 * `deadlineMs` are stopped (the result then says interrupted), so no test leaves processes behind.
 */
export async function runRanks(
  worker: string,
  nproc: number,
  config: object,
  o: { deadlineMs?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<RanksResult> {
  const lines: string[][] = Array.from({ length: nproc }, () => []);
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), o.deadlineMs ?? 60_000);
  const t0 = Date.now();
  try {
    const r = await launch({
      nproc,
      command: process.execPath,
      args: [workerPath(worker), JSON.stringify(config)],
      signal: abort.signal,
      graceMs: 2000,
      env: { ...process.env, ...o.env },
      onLine: (line) => {
        const m = /^\[rank (\d+)\] (.*)$/.exec(line);
        if (m) lines[Number(m[1])]!.push(m[2]!);
      },
    });
    return { ...r, lines, ms: Date.now() - t0 };
  } finally {
    clearTimeout(timer);
  }
}

/** A failed run's output, for assertion messages. */
export function dump(r: RanksResult): string {
  return `${r.message}\n` + r.lines.map((l, i) => l.map((x) => `[rank ${i}] ${x}`).join('\n')).join('\n');
}
