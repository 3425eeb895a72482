// The handle registry and the CPU block cache (native/src/handle.cc, cpu_allocator.cc, src/tensor/scope.ts):
// a disposed handle never reaches the tensor that reuses its slot; tensors that leave every tidy() scope
// (returned by the outermost tidy, or keep()-ed and dropped) are still freed by V8's GC; large CPU blocks
// are reused, so an op with large temporaries (stft) takes no fresh memory from the system after its first
// call. Run with --expose-gc (scripts/run-tests.mjs passes it) for the GC-driven checks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { native, resolveOps } from '../src/binding/native.js';
import { hammingWindow, keep, memory, noGrad, randn, tensor, tidy, zeros } from '../src/tensor/index.js';

const gc = (globalThis as { gc?: () => void }).gc;
const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
const needsGc = { skip: gc === undefined ? 'needs node --expose-gc' : false };

async function collect(rounds = 4): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    gc?.();
    await tick();
  }
}

const OP = resolveOps({ add: 'aten::add.Tensor' });

test('a disposed handle stays disposed after its slot holds a new tensor', () => {
  const before = memory().numTensors;
  const x = tensor([1, 2]);
  const stale = x.handle;
  x.dispose();
  const y = tensor([10, 20]); // takes the freed slot
  assert.throws(() => native.call(OP.add, stale, y.handle, 1), /'self' is a disposed tensor/);
  assert.equal(native.isLive(stale), false);
  native.dispose(stale); // idempotent: must not free y
  assert.deepEqual(y.toArray(), [10, 20]);
  assert.equal(native.isLive(y.handle), true);
  y.dispose();
  assert.equal(memory().numTensors, before);
});

test('values that are not handles are refused, whatever their type', () => {
  const x = tensor([1]);
  for (const v of [1, 2 ** 60, 123n, 0xea00000000000000n, {}, null]) {
    assert.throws(() => native.call(OP.add, x.handle, v, 1), /'other' must be a tensor handle/, String(v));
  }
  x.dispose();
});

test('tensors returned by the outermost tidy() and then dropped are freed by GC', needsGc, async () => {
  await collect();
  const before = memory();
  for (let i = 0; i < 300; i++) tidy(() => randn([100]).mul(2)); // each result leaves every scope
  assert.ok(memory().numTensors >= before.numTensors + 100, 'the loop should leave garbage for GC');
  await collect();
  assert.deepEqual(memory(), before);
});

test('tensors keep()-ed inside tidy() and then dropped are freed by GC', needsGc, async () => {
  await collect();
  const before = memory();
  for (let i = 0; i < 300; i++)
    tidy(() => {
      keep(randn([100]));
    });
  assert.ok(memory().numTensors >= before.numTensors + 100);
  await collect();
  assert.deepEqual(memory(), before);
});

test('a kept tensor that is still referenced survives collection', needsGc, async () => {
  const held = tidy(() => keep(randn([4]).add(1)));
  await collect();
  assert.equal(held.isDisposed, false);
  assert.equal(native.isLive(held.handle), true);
  assert.equal(held.toArray().length, 4);
  held.dispose();
});

test('a freed large CPU block is reused by the next allocation of its size class', () => {
  const before = memory();
  const n = 1 << 20; // 4 MiB of float32: cached (>= 128 KiB)
  zeros([n]).dispose();
  const s0 = native.cpuCache();
  assert.ok(s0.limit > 0, 'the cache is on by default (EARMARK_CPU_CACHE_MB=0 turns it off)');
  const a = zeros([n]);
  const s1 = native.cpuCache();
  assert.equal(s1.misses, s0.misses, 'the second allocation of that size should come from the cache');
  assert.equal(s1.hits, s0.hits + 1);
  assert.equal(
    tidy(() => a.sum().item()),
    0,
  ); // a reused block is filled like a new one
  const b = zeros([n - 1000]); // same size class (within an eighth of the power of two)
  assert.equal(native.cpuCache().misses, s0.misses + 1, 'a live block is not handed out twice');
  a.dispose();
  b.dispose();
  tensor([1, 2, 3]).dispose(); // small blocks have their own classes (not counted in hits and misses)
  assert.equal(native.cpuCache().misses, s0.misses + 1);
  assert.deepEqual(memory(), before);
});

test('stft of a 10 s clip takes no fresh memory from the system after its first call', () => {
  const before = memory().numTensors;
  const x = randn([160000]);
  const w = hammingWindow(320, true);
  const once = (): void =>
    noGrad(() =>
      tidy(() => {
        x.stft(320, { hopLength: 160, window: w, center: true, padMode: 'reflect', onesided: true });
      }),
    );
  once();
  const s0 = native.cpuCache();
  for (let i = 0; i < 5; i++) once();
  const s1 = native.cpuCache();
  assert.equal(s1.misses, s0.misses, 'every large temporary should be a reused block');
  assert.ok(s1.hits >= s0.hits + 10);
  x.dispose();
  w.dispose();
  assert.equal(memory().numTensors, before);
});

test('emptyCpuCache() returns every cached block to the system', () => {
  zeros([1 << 18]).dispose();
  assert.ok(native.cpuCache().cachedBytes >= 4 << 18);
  const freed = native.emptyCpuCache();
  assert.ok(freed >= 4 << 18);
  assert.equal(native.cpuCache().cachedBytes, 0);
});

test('data() of a large tensor is a copy: writing either side leaves the other alone', () => {
  const before = memory().numTensors;
  const x = zeros([1 << 16]); // 256 KiB: a cached block
  const a = x.data() as Float32Array;
  a[0] = 5;
  x.add_(1);
  assert.equal(a[0], 5);
  assert.equal(a[1], 0);
  assert.deepEqual(
    tidy(() => x.narrow(0, 0, 2).toArray()),
    [1, 1],
  );
  const t = tidy(() => x.reshape([256, 256]).transpose(0, 1).data()); // a non-contiguous source copies once
  assert.equal(t.length, 1 << 16);
  x.dispose();
  assert.equal(memory().numTensors, before);
});
