// BatchNorm under data parallelism behaves as src/distributed/data-parallel.ts states: each rank
// normalises with its own shard's batch statistics, so the all-reduced gradients equal one process
// averaging per-shard ("ghost batch") gradients, not one process with the global batch; running statistics
// are per rank until syncBuffers(), which averages them ('average') or gives rank 0's ('broadcast', with
// num_batches_tracked from rank 0); rank 0's checkpoint holds the synced statistics. The worker is
// test/distributed/bn-worker.ts (2 Gloo processes); the references are computed here in one process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadCheckpoint } from '../src/methods/checkpoint.js';
import { loadSafetensorsSync } from '../src/serialize/safetensors.js';
import { memory, noGrad, tidy, type Tensor } from '../src/tensor/index.js';
import { bnBatch, bnLoss, bnModel } from './distributed/bn-common.js';
import { dump, runRanks } from './distributed/harness.js';

function maxAbs(a: Tensor, b: Tensor): number {
  const x = a.toFloat64Array();
  const y = b.toFloat64Array();
  assert.equal(x.length, y.length);
  let d = 0;
  for (let i = 0; i < x.length; i++) d = Math.max(d, Math.abs(x[i]! - y[i]!));
  return d;
}

/** Every tensor of `got` under `prefix` equals `want` (same keys) within `tol`. */
function assertClose(
  got: Map<string, Tensor>,
  prefix: string,
  want: Map<string, Tensor>,
  tol: number,
  what: string,
): void {
  for (const [k, t] of want) {
    const g = got.get(`${prefix}.${k}`);
    assert.ok(g !== undefined, `${what}: no ${prefix}.${k}`);
    const d = maxAbs(g, t);
    assert.ok(d <= tol, `${what}: ${k} differs by ${d}`);
  }
}

/** One process on shard `s` of the batch from the given buffers: gradients and new buffers. */
function shardRun(
  s: number,
  buffers: Map<string, Tensor> | null,
): { grads: Map<string, Tensor>; buffers: Map<string, Tensor> } {
  const m = bnModel();
  if (buffers !== null)
    noGrad(() => {
      for (const [k, t] of m.namedBuffers()) t.copy_(buffers.get(k)!);
    });
  const x = bnBatch();
  tidy(() => bnLoss(m, x.narrow(0, 2 * s, 2)).backward());
  const out = {
    grads: new Map(m.namedParameters().map(([k, p]) => [k, p.grad!.clone()])),
    buffers: new Map(m.namedBuffers().map(([k, t]) => [k, t.clone()])),
  };
  x.dispose();
  m.dispose(); // the clones join the caller's tidy scope
  return out;
}

test(
  'BatchNorm: ghost-batch gradients, per-rank running statistics until syncBuffers, the synced ones in the checkpoint',
  { timeout: 120_000 },
  async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'earmark-bn-'));
    const before = memory().numTensors;
    try {
      const checkpoint = path.join(dir, 'bn.ckpt');
      const r = await runRanks('bn-worker', 2, { out: dir, checkpoint });
      assert.equal(r.code, 0, dump(r));
      const ranks = [0, 1].map((i) => loadSafetensorsSync(path.join(dir, `rank${i}.safetensors`)).tensors);
      tidy(() => {
        // step 1 references: each shard alone from the same start
        const s0 = shardRun(0, null);
        const s1 = shardRun(1, null);
        const ghost = new Map([...s0.grads].map(([k, g]) => [k, g.add(s1.grads.get(k)!).div(2)]));
        const average = new Map(
          [...s0.buffers].map(([k, b]) => [k, b.dtype === 'int64' ? b : b.add(s1.buffers.get(k)!).div(2)]),
        );
        for (const [i, got] of ranks.entries()) {
          assertClose(got, 'grad', ghost, 1e-6, `rank ${i} all-reduced gradients vs one process's per-shard mean`);
          assertClose(
            got,
            'pre',
            i === 0 ? s0.buffers : s1.buffers,
            1e-6,
            `rank ${i} running statistics before the sync`,
          );
          assertClose(got, 'avg', average, 1e-6, `rank ${i} running statistics after syncBuffers('average')`);
        }
        // not SyncBatchNorm: one process with the global batch of 4 gets other gradients
        const m = bnModel();
        bnLoss(m, bnBatch()).backward();
        const w = m.namedParameters().find(([k]) => k === 'conv.seq_module.0.weight')![1];
        assert.ok(maxAbs(w.grad!, ghost.get('conv.seq_module.0.weight')!) > 1e-4);
        // step 2: rank 0's shard-1 statistics from the averaged ones reach every rank, with its batch count
        const step2 = shardRun(1, average);
        for (const [i, got] of ranks.entries())
          assertClose(got, 'bc', step2.buffers, 1e-6, `rank ${i} after syncBuffers('broadcast')`);
        assert.equal(ranks[1]!.get('bc.conv.seq_module.1.num_batches_tracked')!.item(), 2);
        assert.ok(
          maxAbs(
            ranks[1]!.get('pre2.conv.seq_module.1.running_mean')!,
            step2.buffers.get('conv.seq_module.1.running_mean')!,
          ) > 1e-6,
          'rank 1 computed other statistics before the broadcast',
        );
        // rank 0's checkpoint holds the synced statistics
        const loaded = bnModel();
        loadCheckpoint(checkpoint, { modules: { target: loaded } });
        const bc0 = new Map([...ranks[0]!].filter(([k]) => k.startsWith('bc.')).map(([k, t]) => [k.slice(3), t]));
        assertClose(
          new Map(loaded.namedBuffers().map(([k, t]) => [`ckpt.${k}`, t])),
          'ckpt',
          bc0,
          0,
          'checkpoint vs rank 0',
        );
        loaded.dispose();
        m.dispose();
      });
      for (const f of ranks) for (const t of f.values()) t.dispose();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    assert.equal(memory().numTensors, before);
  },
);
