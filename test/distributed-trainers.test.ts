// The real trainers under data parallelism over c10d's Gloo on localhost (2 processes of 1 thread):
// trainObfuscator in 2 processes gives the networks of 1 process with the same global batch (3 steps,
// 1e-5); a 2-process run resumed from rank 0's checkpoint equals the uninterrupted one, and so does a
// resume in 1 process; trainClassifier's BatchNorm running statistics are averaged over the ranks, so
// both ranks hold the same model, which is not the 1-process model (per-rank batch statistics, not
// SyncBatchNorm). The worker is test/distributed/trainer-worker.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadSafetensorsSync } from '../src/serialize/safetensors.js';
import { dump, runRanks } from './distributed/harness.js';

const dir = mkdtempSync(path.join(tmpdir(), 'earmark-ddp-trainers-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

/** Largest |a − b| over the tensors of two weight files whose keys match `only` (and that they hold the same keys). */
function maxDiff(a: string, b: string, only = /./): number {
  const fa = loadSafetensorsSync(a).tensors;
  const fb = loadSafetensorsSync(b).tensors;
  try {
    assert.deepEqual([...fa.keys()].sort(), [...fb.keys()].sort());
    let d = 0;
    for (const [k, t] of fa) {
      if (!only.test(k) || t.dtype === 'int64') continue;
      const x = t.toFloat32Array();
      const y = fb.get(k)!.toFloat32Array();
      for (let i = 0; i < x.length; i++) d = Math.max(d, Math.abs(x[i]! - y[i]!));
    }
    return d;
  } finally {
    for (const t of [...fa.values(), ...fb.values()]) t.dispose();
  }
}

interface Run {
  out: string;
  history: { epoch: number }[];
}

async function run(name: string, nproc: number, cfg: object): Promise<Run> {
  const out = path.join(dir, name);
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out);
  const r = await runRanks('trainer-worker', nproc, { out, trainer: 'obfuscator', batchSize: 4, ...cfg });
  assert.equal(r.code, 0, dump(r));
  const line = r.lines[0]!.find((l) => l.startsWith('history '));
  assert.ok(line !== undefined, dump(r));
  for (const rank of r.lines.slice(1))
    assert.ok(!rank.some((l) => l.startsWith('history ')), 'onEpoch runs on rank 0 only');
  return { out, history: JSON.parse(line.slice('history '.length)) as { epoch: number }[] };
}
const w = (r: Run, rank = 0): string => path.join(r.out, `rank${rank}.safetensors`);

// 12 utterances, global batch 4: one identity warm-up step, then 3 steps per epoch (2 × 2 samples per step in 2 processes)
const ckpt = path.join(dir, 'two.ckpt');

test(
  'trainObfuscator in 2 Gloo processes gives the networks of 1 process with the same global batch (3 steps, 1e-5)',
  { timeout: 120_000 },
  async () => {
    const [one, two] = await Promise.all([
      run('one', 1, { epochs: 1 }),
      run('two', 2, { epochs: 1, checkpoint: ckpt }),
    ]);
    assert.equal(maxDiff(w(two, 0), w(two, 1)), 0, 'the replicas agree exactly (the same averaged gradients)');
    const d = maxDiff(w(one), w(two));
    assert.ok(d <= 1e-5, `max |w(1 process) − w(2 processes)| = ${d}`);
    assert.ok(existsSync(ckpt), 'rank 0 wrote the checkpoint');
    assert.equal(one.history.length, 1);
    const [h1, h2] = [
      one.history[0] as unknown as Record<string, number>,
      two.history[0] as unknown as Record<string, number>,
    ];
    for (const k of ['la', 'lt', 'lp'])
      assert.ok(
        Math.abs(h1[k]! - h2[k]!) <= 1e-5,
        `${k}: ${h1[k]} (1 process) vs ${h2[k]} (2, averaged over the ranks)`,
      );
  },
);

test(
  "a 2-process trainObfuscator run resumed from rank 0's checkpoint equals the uninterrupted one, and so does a 1-process resume",
  { timeout: 120_000 },
  async () => {
    assert.ok(existsSync(ckpt), 'runs after the parity test (its checkpoint holds epoch 1 of 2)');
    const c2 = path.join(dir, 'resume2.ckpt');
    const c1 = path.join(dir, 'resume1.ckpt');
    copyFileSync(ckpt, c2);
    copyFileSync(ckpt, c1);
    const [full, r2, r1] = await Promise.all([
      run('full', 2, { epochs: 2, checkpoint: path.join(dir, 'full.ckpt') }),
      run('resume2', 2, { epochs: 2, checkpoint: c2, resume: true }),
      run('resume1', 1, { epochs: 2, checkpoint: c1, resume: true }),
    ]);
    assert.deepEqual(
      r2.history.map((h) => h.epoch),
      [1],
      'the resumed run trained epoch 2 only',
    );
    assert.equal(maxDiff(w(full), w(r2)), 0, 'resumed in 2 processes = uninterrupted');
    assert.equal(maxDiff(w(r2, 0), w(r2, 1)), 0);
    const d = maxDiff(w(full), w(r1));
    assert.ok(d <= 1e-5, `max |w(uninterrupted, 2 processes) − w(resumed in 1 process)| = ${d}`);
  },
);

test(
  'trainClassifier (DeepSpeech2, BatchNorm): running statistics averaged over the ranks; per-rank batch statistics',
  { timeout: 120_000 },
  async () => {
    const cls = { trainer: 'classifier', epochs: 1 };
    const [one, two] = await Promise.all([run('cls1', 1, cls), run('cls2', 2, cls)]);
    // both ranks return the same model, running_mean/running_var included (syncBuffers at the epoch end)
    assert.equal(maxDiff(w(two, 0), w(two, 1)), 0);
    // per-rank BatchNorm batches of B/W (ghost batches, not SyncBatchNorm): not the 1-process model
    assert.ok(maxDiff(w(one), w(two), /running_mean/) > 1e-6, 'the statistics come from per-rank batches');
  },
);
