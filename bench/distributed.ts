// Data-parallel section of `npm run bench`: one opt-in training step at the CPU preset (obfuscator C=16 R=2,
// deobfuscator C=32 R=3, DS2 2×48) on a fixed global batch, run as 1 process and as 2 Gloo processes on
// this machine, each configuration a fresh job started by launch() (bench/distributed-worker.ts). The
// speed-up compares 2 ranks × T threads with 1 rank × 2T threads on the same cores: the two alternate for
// ROUNDS rounds and the median of the per-round ratios is reported, so load changes during the run
// touch both sides. 1 rank × T threads is the scaling reference (2 ranks ideally halve its step).
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { launch } from '../src/distributed/launch.js';
import { formatValue, median } from './format.js';
import type { BenchRow } from './types.js';

const SECTION = 'distributed';
const CFG = { globalBatch: 8, frames: 64, warmup: 1, steps: 3 };
const ROUNDS = 2;

async function job(nproc: number, threads: number): Promise<{ stepMs: number; reduceMs: number }> {
  const out: string[] = [];
  const r = await launch({
    nproc,
    command: process.execPath,
    args: [fileURLToPath(new URL('./distributed-worker.js', import.meta.url)), JSON.stringify(CFG)],
    env: { ...process.env, EARMARK_THREADS: String(threads) },
    onLine: (line) => {
      if (line.startsWith('[rank 0] {')) out.push(line.slice('[rank 0] '.length));
    },
  });
  if (r.code !== 0 || out.length !== 1)
    throw new Error(`bench distributed (${nproc} × ${threads} threads): ${r.message}`);
  return JSON.parse(out[0]!) as { stepMs: number; reduceMs: number };
}

export async function benchDistributed(): Promise<BenchRow[]> {
  const t = Math.max(1, Math.floor(os.cpus().length / 2));
  const rounds: { one: number; two: number; reduce: number }[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const one = await job(1, 2 * t);
    const two = await job(2, t);
    rounds.push({ one: one.stepMs, two: two.stepMs, reduce: two.reduceMs });
  }
  const single = await job(1, t);
  const one = median(rounds.map((r) => r.one));
  const two = median(rounds.map((r) => r.two));
  const audio = (CFG.globalBatch * CFG.frames) / 100; // seconds of audio per step
  const what = `opt-in step, global batch ${CFG.globalBatch} × ${CFG.frames} frames, CPU preset`;
  const th = (n: number): string => `${n} thread${n > 1 ? 's' : ''}`;
  const row = (name: string, ms: number, note = ''): BenchRow => ({
    section: SECTION,
    name: `${what}: ${name}`,
    value: ms,
    unit: 'ms',
    note: `${formatValue(audio / (ms / 1e3))} s audio / s${note}`,
  });
  return [
    row(`1 process × ${th(t)}`, single.stepMs),
    row(`1 process × ${th(2 * t)}`, one),
    row(
      `2 Gloo processes × ${th(t)}`,
      two,
      `; all-reduce ${formatValue(median(rounds.map((r) => r.reduce)))} ms of it, waiting for the other rank included`,
    ),
    {
      section: SECTION,
      name: `speed-up of 2 Gloo processes × ${th(t)} over 1 process × ${th(2 * t)}`,
      value: median(rounds.map((r) => r.one / r.two)),
      unit: '×',
      note: `median of ${ROUNDS} alternating rounds' ratios; a step: median of ${CFG.steps} after ${CFG.warmup} warm-up`,
    },
  ];
}
