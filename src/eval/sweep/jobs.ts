// How a sweep runs its experiments: each in its own folder, seeded with hard links to the files every
// point shares (the splits, the feature cache, T and the clean classifiers, so they are trained once), in
// this process or in child processes (worker.ts), at most `jobs` at a time.
import { fork } from 'node:child_process';
import { copyFileSync, existsSync, linkSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ExperimentConfig } from '../optin/config.js';
import { runExperiment, type ExperimentStages } from '../optin/run.js';

/**
 * The files of a finished experiment folder that do not depend on the obfuscator: the splits, the DS2
 * feature cache, T, the clean attribute classifiers, the attackers' protocols, the clean x-vector extractor and
 * the obfuscator's identity warm-up (which reads neither T nor λ_p; a point with another warm-up redoes its own).
 */
export const SHARED_FILES = [
  /^splits/,
  /^features$/,
  /^target\./,
  /^clean-/,
  /^protocol/,
  /^xvector-clean/,
  /^obfuscator-warmup\./,
];

/** Files never carried from one folder to another: what identifies a run, and the McAdams baseline's own files. */
const NEVER = [/^report\./, /^config\.json$/, /^point\.json$/, /^mcadams/, /\.tmp$/];

/**
 * Hard-link (copy where links fail) the files of `from` matching `keep` into `to`, folders recursively;
 * files already in `to` are left alone. Atomic writes replace a link by a new file, so a run never
 * changes the folder it was seeded from.
 */
export function seedFolder(from: string, to: string, keep: readonly RegExp[] | 'all'): number {
  mkdirSync(to, { recursive: true });
  let n = 0;
  for (const name of readdirSync(from)) {
    if (NEVER.some((r) => r.test(name))) continue;
    if (keep !== 'all' && !keep.some((r) => r.test(name))) continue;
    n += link(path.join(from, name), path.join(to, name));
  }
  return n;
}

function link(src: string, dst: string): number {
  if (statSync(src).isDirectory()) {
    mkdirSync(dst, { recursive: true });
    let n = 0;
    for (const name of readdirSync(src))
      if (!/\.tmp$/.test(name)) n += link(path.join(src, name), path.join(dst, name));
    return n;
  }
  if (existsSync(dst)) return 0;
  try {
    linkSync(src, dst);
  } catch {
    copyFileSync(src, dst);
  }
  return 1;
}

/** One experiment of the sweep: its config and folder, a name for the log, and which of its stages run. */
export interface SweepJob {
  name: string;
  config: ExperimentConfig;
  runDir: string;
  /** Default 'all'; 'shared' for the seed folder, 'baselines' for McAdams and ADR. */
  stages?: ExperimentStages;
}

/** Run one experiment in this process (log lines prefixed with the job's name). */
export async function runInProcess(job: SweepJob, log: (l: string) => void): Promise<void> {
  await runExperiment({
    config: job.config,
    runDir: job.runDir,
    resume: true,
    stages: job.stages ?? 'all',
    log: (l) => log(`[${job.name}] ${l}`),
  });
}

/** Run one experiment in a child process (worker.ts) with 1/jobs of the cores; rejects with the child's last error line. */
export function runInChild(job: SweepJob, log: (l: string) => void, jobs = 1): Promise<void> {
  const worker = fileURLToPath(new URL('./worker.js', import.meta.url));
  // the cores shared out between the children, unless EARMARK_THREADS says otherwise
  const threads = process.env['EARMARK_THREADS'] ?? String(Math.max(1, Math.floor(availableParallelism() / jobs)));
  return new Promise((resolve, reject) => {
    const child = fork(worker, [], {
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      execArgv: [],
      env: { ...process.env, EARMARK_THREADS: threads },
    });
    let lastError = '';
    const lines = (buf: Buffer, isErr: boolean): void => {
      for (const l of buf.toString('utf8').split(/\r?\n/)) {
        if (!l.trim() || l.includes('\r')) continue;
        if (isErr && /error/i.test(l)) lastError = l;
        log(`[${job.name}] ${l}`);
      }
    };
    child.stdout!.on('data', (b: Buffer) => lines(b, false));
    child.stderr!.on('data', (b: Buffer) => lines(b, true));
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (code === 0) resolve();
      else
        reject(
          new Error(
            `${job.name} (child process) ended with ${signal ?? `exit code ${code}`}${lastError ? `: ${lastError}` : ''}`,
          ),
        );
    });
    child.send({ config: job.config, runDir: job.runDir, stages: job.stages ?? 'all' });
  });
}

/**
 * Run `tasks` at most `jobs` at a time; every task runs even when others fail. Returns each task's error
 * (undefined when it succeeded), in order.
 */
export async function pool(tasks: (() => Promise<void>)[], jobs: number): Promise<(Error | undefined)[]> {
  const out: (Error | undefined)[] = new Array(tasks.length).fill(undefined);
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < tasks.length) {
      const i = next++;
      try {
        await tasks[i]!();
      } catch (e) {
        out[i] = e instanceof Error ? e : new Error(String(e));
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(jobs, tasks.length)) }, lane));
  return out;
}
