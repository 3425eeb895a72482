// Data-parallel opt-in training over c10d's Gloo on localhost (2 processes of 1 thread): the same
// obfuscator weights as one process with the same global batch, and resuming, in 2 processes or in 1,
// from rank 0's checkpoint equals the uninterrupted run. The worker is test/distributed/optin-worker.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadSafetensorsSync } from '../src/serialize/safetensors.js';
import { dump, runRanks } from './distributed/harness.js';

const dir = mkdtempSync(path.join(tmpdir(), 'earmark-ddp-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

/** Largest |a − b| over every tensor of two weight files (and that they hold the same keys). */
function maxDiff(a: string, b: string): number {
  const fa = loadSafetensorsSync(a).tensors;
  const fb = loadSafetensorsSync(b).tensors;
  try {
    assert.deepEqual([...fa.keys()].sort(), [...fb.keys()].sort());
    let d = 0;
    for (const [k, t] of fa) {
      const x = t.toFloat32Array();
      const y = fb.get(k)!.toFloat32Array();
      for (let i = 0; i < x.length; i++) d = Math.max(d, Math.abs(x[i]! - y[i]!));
    }
    return d;
  } finally {
    for (const t of [...fa.values(), ...fb.values()]) t.dispose();
  }
}

async function run(name: string, nproc: number, extra: object = {}): Promise<string> {
  const out = path.join(dir, name);
  rmSync(out, { recursive: true, force: true });
  (await import('node:fs')).mkdirSync(out);
  const r = await runRanks('optin-worker', nproc, { out, steps: 3, globalBatch: 4, ...extra });
  assert.equal(r.code, 0, dump(r));
  return out;
}

// 8 utterances, global batch 4: epoch 0 is steps 1–2 (checkpointed by rank 0), step 3 opens epoch 1
const ckpt = path.join(dir, 'two.ckpt');
let one = '';
let two = '';

test(
  '2 Gloo processes give the same obfuscator weights as 1 process with the same global batch (3 steps, 1e-5)',
  { timeout: 120_000 },
  async () => {
    [one, two] = await Promise.all([run('one', 1), run('two', 2, { checkpoint: ckpt, bucketBytes: 4096 })]);
    // rank 1 started from rank 0's weights (its own seed differs), and training moved them
    assert.equal(maxDiff(path.join(two, 'init0.safetensors'), path.join(two, 'init1.safetensors')), 0);
    assert.equal(maxDiff(path.join(one, 'init0.safetensors'), path.join(two, 'init0.safetensors')), 0);
    assert.ok(maxDiff(path.join(two, 'init0.safetensors'), path.join(two, 'rank0.safetensors')) > 1e-3);
    // the replicas agree exactly (same reduced gradients), and match one process within 1e-5
    assert.equal(maxDiff(path.join(two, 'rank0.safetensors'), path.join(two, 'rank1.safetensors')), 0);
    const d = maxDiff(path.join(one, 'rank0.safetensors'), path.join(two, 'rank0.safetensors'));
    assert.ok(d <= 1e-5, `max |w(1 process) − w(2 processes)| = ${d}`);
  },
);

test(
  'a resumed 2-process run equals the uninterrupted one, and so does a 1-process resume (world size 2 → 1)',
  { timeout: 120_000 },
  async () => {
    assert.ok(two !== '', 'runs after the parity test');
    // rank 0 checkpointed after epoch 0 (step 2); resume from a copy in 2 processes and in 1
    const c2 = path.join(dir, 'resume2.ckpt');
    const c1 = path.join(dir, 'resume1.ckpt');
    copyFileSync(ckpt, c2);
    copyFileSync(ckpt, c1);
    const [r2, r1] = await Promise.all([
      run('resume2', 2, { checkpoint: c2, resume: true }),
      run('resume1', 1, { checkpoint: c1, resume: true }),
    ]);
    assert.equal(maxDiff(path.join(two, 'rank0.safetensors'), path.join(r2, 'rank0.safetensors')), 0);
    assert.equal(maxDiff(path.join(r2, 'rank0.safetensors'), path.join(r2, 'rank1.safetensors')), 0);
    const d = maxDiff(path.join(two, 'rank0.safetensors'), path.join(r1, 'rank0.safetensors'));
    assert.ok(d <= 1e-5, `max |w(uninterrupted, 2 processes) − w(resumed in 1 process)| = ${d}`);
  },
);
