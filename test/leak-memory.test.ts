// No leaks: a training step in tidy leaves memory().numTensors where it was; 1,000 steps do not grow
// resident memory; tensors dropped without dispose() are freed by V8's GC (native bytes are reported
// to V8, so allocation pressure alone triggers collection); numBytes counts shared storage once.
// Run with --expose-gc (scripts/run-tests.mjs passes it) for the GC-driven checks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { keep, memory, noGrad, randn, tensor, tidy, zeros, type Tensor } from '../src/tensor/index.js';

const gc = (globalThis as { gc?: () => void }).gc;
const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Full collections with event-loop turns between, so deferred native finalizers run. */
async function collect(rounds = 4): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    gc?.();
    await tick();
  }
}

// ---- a linear model trained with raw tensor ops ----

interface LinearModel {
  w: Tensor;
  b: Tensor;
}

// y = x w* + b* + noise, x: [batch, features], y: [batch, outputs]
function makeData(batch: number, features: number, outputs: number): { x: Tensor; y: Tensor } {
  return tidy(() => {
    const x = randn([batch, features]);
    const wTrue = randn([features, outputs]).div(Math.sqrt(features));
    const y = x
      .matmul(wTrue)
      .add(0.5)
      .add(randn([batch, outputs]).mul(0.01));
    return { x, y };
  });
}

function makeModel(features: number, outputs: number): LinearModel {
  return { w: zeros([features, outputs], { requiresGrad: true }), b: zeros([outputs], { requiresGrad: true }) };
}

/** One SGD step on the mean squared error; returns the loss before the update. */
function trainStep(m: LinearModel, x: Tensor, y: Tensor, lr: number): number {
  return tidy(() => {
    const pred = x.matmul(m.w).add(m.b); // [batch, outputs]
    const loss = pred.sub(y).square().mean();
    loss.backward();
    noGrad(() => {
      m.w.add_(m.w.grad!, -lr);
      m.b.add_(m.b.grad!, -lr);
    });
    m.w.setGrad(null);
    m.b.setGrad(null);
    return loss.item();
  });
}

function disposeAll(...ts: Tensor[]): void {
  for (const t of ts) t.dispose();
}

// ---- tests ----

test('a training step in tidy leaves memory().numTensors unchanged, step after step', () => {
  const before = memory();
  const { x, y } = makeData(64, 8, 1);
  const model = makeModel(8, 1);
  const live = memory();
  const losses: number[] = [];
  for (let step = 0; step < 50; step++) {
    losses.push(trainStep(model, x, y, 0.1));
    assert.equal(memory().numTensors, live.numTensors, `step ${step} left tensors behind`);
    assert.equal(memory().numBytes, live.numBytes, `step ${step} left bytes behind`);
  }
  assert.ok(losses[49]! < losses[0]! * 0.01, `the model should learn: loss ${losses[0]} → ${losses[49]}`);
  disposeAll(x, y, model.w, model.b);
  assert.deepEqual(memory(), before);
});

test(
  '1,000 training steps do not grow resident memory',
  { skip: gc === undefined ? 'needs node --expose-gc' : false },
  async () => {
    const before = memory().numTensors;
    // a step allocates ~1 MB of intermediates ([512, 64] float32 is 128 kB): a per-step leak of any
    // of them would show as 100+ MB over 1,000 steps
    const { x, y } = makeData(512, 128, 64);
    const model = makeModel(128, 64);
    // Collect every 50 steps: freed tensors' small handle records wait for GC, and between GCs they
    // fragment glibc's heap so that it grows to a plateau (~70 MB here) even without a leak. With
    // regular collections the allocator's footprint is steady and only a real leak grows it.
    const run = async (steps: number): Promise<void> => {
      for (let step = 1; step <= steps; step++) {
        trainStep(model, x, y, 0.01);
        if (step % 50 === 0) await collect(1);
      }
      await collect();
    };
    await run(500); // warm up the allocator and libtorch's caches
    const rss0 = process.memoryUsage().rss;
    const live = memory();
    await run(1000);
    const grown = (process.memoryUsage().rss - rss0) / 2 ** 20;
    assert.deepEqual(memory(), live);
    assert.ok(grown < 20, `resident memory grew by ${grown.toFixed(1)} MB over 1,000 steps`);
    disposeAll(x, y, model.w, model.b);
    assert.equal(memory().numTensors, before);
  },
);

test(
  'tensors dropped without dispose() are freed by GC',
  { skip: gc === undefined ? 'needs node --expose-gc' : false },
  async () => {
    await collect();
    const before = memory();
    for (let i = 0; i < 2000; i++) randn([100]); // 400 B each, never disposed, not in a tidy scope
    const dropped = memory();
    assert.ok(dropped.numTensors >= before.numTensors + 1000, 'the loop should leave garbage for GC');
    assert.ok(dropped.numBytes >= before.numBytes + 400_000);
    await collect();
    assert.deepEqual(memory(), before);
  },
);

test(
  'native bytes are reported to V8: allocation pressure alone triggers GC',
  { skip: gc === undefined ? 'needs node --expose-gc' : false },
  async () => {
    await collect();
    const before = memory().numBytes;
    // 600 MB in 1 MB tensors, dropped without dispose and with no gc() call: only V8 knowing about
    // the external bytes keeps the peak well below the total
    let peak = 0;
    for (let i = 0; i < 600; i++) {
      zeros([256 * 1024]);
      peak = Math.max(peak, memory().numBytes - before);
      if (i % 20 === 19) await tick();
    }
    await collect();
    const peakMB = peak / 2 ** 20;
    assert.ok(peakMB < 400, `live native memory peaked at ${peakMB.toFixed(0)} MB of 600 MB allocated`);
    assert.equal(memory().numBytes, before);
  },
);

test('memory().numBytes counts storage shared by views once', () => {
  const before = memory();
  const x = zeros([1000]); // 4,000 bytes
  assert.equal(memory().numBytes, before.numBytes + 4000);
  const views = [x.narrow(0, 10, 100), x.view([10, 100]), x.reshape([100, 10]), x.detach(), x.slice(0, 0, null, 2)];
  assert.equal(memory().numTensors, before.numTensors + 6);
  assert.equal(memory().numBytes, before.numBytes + 4000); // same storage
  x.dispose();
  assert.equal(memory().numBytes, before.numBytes + 4000); // the views still hold it
  const copy = views[0]!.add(1); // a new storage of 100 floats
  assert.equal(memory().numBytes, before.numBytes + 4400);
  disposeAll(...views);
  assert.equal(memory().numBytes, before.numBytes + 400);
  copy.dispose();
  assert.deepEqual(memory(), before);
});

test('keep() lets a tensor outlive tidy until disposed; tidy returns survive one level up', () => {
  const before = memory().numTensors;
  let kept: Tensor | undefined;
  const out = tidy(() => {
    kept = keep(tensor([1, 2, 3]));
    const inner = tidy(() => ({ a: tensor([5]), b: tensor([4]), scratch: [tensor([0])] }));
    assert.equal(inner.scratch[0]!.isDisposed, true); // only one level deep survives
    return inner.a.add(inner.b); // inner's results are freed when this scope ends
  });
  assert.deepEqual(out.toArray(), [9]);
  assert.equal(memory().numTensors, before + 2);
  kept!.dispose();
  out.dispose();
  assert.equal(memory().numTensors, before);
});
