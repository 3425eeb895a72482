// The single-process parts of src/distributed: the sampler's sharding (same permutation everywhere,
// disjoint shards, padding and truncation, step batches = one process's), bucket planning, a world of
// one over a real TCPStore and Gloo, no-op helpers without a group, and launch()'s output and exit codes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { batchIndices } from '../src/data/spec-set.js';
import {
  allReduceGradients,
  broadcastParameters,
  DistributedSampler,
  freePort,
  initProcessGroup,
  isRank0,
  launch,
  onRank0,
  planBuckets,
  sampleRng,
  syncBuffers,
} from '../src/distributed/index.js';
import { BatchNorm1d, Linear } from '../src/nn/index.js';
import { memory, randn, tensor, tidy, zeros } from '../src/tensor/index.js';
import { Rng } from '../src/util/rng.js';

test('DistributedSampler: one permutation per epoch, disjoint rank shards, padded or truncated as stated', () => {
  const n = 10;
  const shards = (w: number, dropLast = false): number[][] =>
    Array.from({ length: w }, (_, r) =>
      new DistributedSampler({ size: n, rank: r, worldSize: w, seed: 3, dropLast }).indices(2),
    );
  const perm = new DistributedSampler({ size: n, rank: 0, worldSize: 1, seed: 3 }).permutation(2);
  assert.deepEqual(
    [...perm].sort((a, b) => a - b),
    [...Array(n).keys()],
  );
  assert.notDeepEqual(perm, new DistributedSampler({ size: n, rank: 0, worldSize: 1, seed: 3 }).permutation(3));
  // 3 ranks: ⌈10/3⌉ = 4 each, 2 padded by wrapping to the permutation's start
  const three = shards(3);
  assert.deepEqual(
    three.map((s) => s.length),
    [4, 4, 4],
  );
  assert.deepEqual(
    three.flat().sort((a, b) => a - b),
    [...perm, perm[0]!, perm[1]!].sort((a, b) => a - b),
  );
  assert.deepEqual(three[1], [perm[1], perm[4], perm[7], perm[0]]);
  // dropLast: ⌊10/3⌋ = 3 each, perm[9] left out, no repeats
  const cut = shards(3, true);
  assert.deepEqual(
    cut.flat().sort((a, b) => a - b),
    perm.slice(0, 9).sort((a, b) => a - b),
  );
  // step k over 2 ranks of batch 2 = one process's k-th batch of 4 (as a set)
  const two = [0, 1].map((r) => new DistributedSampler({ size: 8, rank: r, worldSize: 2, seed: 1 }).batches(0, 2));
  const one = new DistributedSampler({ size: 8, rank: 0, worldSize: 1, seed: 1 }).batches(0, 4);
  for (let k = 0; k < one.length; k++) assert.deepEqual([...two[0]![k]!, ...two[1]![k]!].sort(), [...one[k]!].sort());
  // world size 1 visits the epoch's batches in the order batchIndices() draws for the same seed
  assert.deepEqual(one, batchIndices(8, 4, new Rng(1).derive('epoch0')));
  assert.equal(sampleRng(1, 0, 5).next(), sampleRng(1, 0, 5).next());
  assert.notEqual(sampleRng(1, 0, 5).next(), sampleRng(1, 0, 6).next());
  assert.throws(
    () => new DistributedSampler({ size: 4, rank: 2, worldSize: 2 }),
    /'rank' 2 must be below 'worldSize' 2/,
  );
});

test('planBuckets: in order, one dtype per bucket, a cap in bytes, large tensors alone', () => {
  tidy(() => {
    const a = zeros([10]);
    const b = zeros([10]);
    const c = zeros([100]);
    const i = zeros([3], { dtype: 'int64' });
    const d = zeros([5]);
    const plan = planBuckets([a, b, i, c, d], 80).map((bk) => bk.map((t) => [a, b, c, i, d].indexOf(t)));
    assert.deepEqual(plan, [[0, 1], [2], [4], [3]]); // 40 + 40 bytes; c alone (400 > 80); d opens a bucket; int64 apart
    assert.throws(() => planBuckets([a], 0), /'bucketBytes' must be > 0/);
  });
});

test(
  'a world of one over TCPStore and Gloo: collectives are identities, the store works, helpers run',
  { timeout: 60_000 },
  async () => {
    const before = memory().numTensors;
    const pg = await initProcessGroup({ rank: 0, worldSize: 1, masterPort: await freePort(), timeoutMs: 10_000 });
    const t = tensor([1, 2, 3]);
    await pg.allReduce(t);
    await pg.allReduce(t, 'max');
    await pg.broadcast(t, 0);
    await pg.barrier();
    assert.deepEqual(t.toArray(), [1, 2, 3]);
    pg.store.set('a', 'b');
    assert.equal(pg.store.get('a'), 'b');
    assert.equal(pg.store.add('n', 2), 2);
    assert.equal(await onRank0(pg, () => 7), 7);
    await assert.rejects(pg.broadcast(t, 1), /'root' must be a rank 0..0/);
    await pg.destroy();
    await pg.destroy(); // idempotent
    await assert.rejects(pg.allReduce(t), /the process group was destroyed/);
    t.dispose();
    assert.equal(memory().numTensors, before);
  },
);

test('without a process group the data-parallel helpers change nothing', async () => {
  const before = memory().numTensors;
  const lin = new Linear(3, 2);
  const bn = new BatchNorm1d(2);
  tidy(() =>
    bn
      .forward(lin.forward(randn([4, 3])))
      .sum()
      .backward(),
  );
  const g = tidy(() => lin.parameters()[0]!.grad!.toFloat32Array());
  await allReduceGradients(lin.parameters(), null);
  await broadcastParameters([lin, bn], null);
  await syncBuffers(bn, null);
  assert.deepEqual(
    tidy(() => lin.parameters()[0]!.grad!.toFloat32Array()),
    g,
  );
  assert.ok(isRank0(null));
  assert.equal(await onRank0(null, () => 'only'), 'only');
  lin.dispose();
  bn.dispose();
  assert.equal(memory().numTensors, before);
});

test(
  "launch(): torchrun's variables per rank, output prefixed by rank, exit code of the job",
  { timeout: 30_000 },
  async () => {
    const lines: string[] = [];
    const script =
      'console.log([process.env.RANK, process.env.WORLD_SIZE, process.env.LOCAL_RANK, process.env.MASTER_ADDR, ' +
      "process.env.MASTER_PORT > 0].join(' ')); if (process.env.RANK === '2') console.error('oops')";
    const r = await launch({
      nproc: 3,
      command: process.execPath,
      args: ['-e', script],
      onLine: (l, s) => lines.push(`${s} ${l}`),
    });
    assert.deepEqual(r, { code: 0, failedRank: null, message: 'all 3 ranks finished' });
    assert.deepEqual(lines.sort(), [
      'stderr [rank 2] oops',
      'stdout [rank 0] 0 3 0 127.0.0.1 true',
      'stdout [rank 1] 1 3 1 127.0.0.1 true',
      'stdout [rank 2] 2 3 2 127.0.0.1 true',
    ]);
    const t0 = Date.now();
    const bad = await launch({
      nproc: 2,
      command: process.execPath,
      onLine: () => {},
      graceMs: 1000,
      args: [
        '-e',
        "if (process.env.RANK === '0') setTimeout(() => {}, 60000); else process.kill(process.pid, 'SIGKILL')",
      ],
    });
    assert.deepEqual(bad, {
      code: 1,
      failedRank: 1,
      message: 'rank 1 of 2 was killed by SIGKILL; stopped the other 1 rank',
    });
    assert.ok(Date.now() - t0 < 20_000);
    const missing = await launch({ nproc: 1, command: '/nonexistent/earmark-test', onLine: () => {} });
    assert.equal(missing.code, 1);
    assert.match(missing.message, /rank 0 of 1 could not start '\/nonexistent\/earmark-test': spawn .* ENOENT/);
  },
);
