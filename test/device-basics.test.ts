// Devices: checking device strings, moving tensors (copies, pinned memory, non-blocking), Module.to() in
// place, optimiser state on the parameters' device, and checkpoints that always hold host copies, so one
// written on a device loads on CPU and the reverse. Runs on EARMARK_TEST_DEVICE (default cpu); on
// Debian's CPU-only libtorch the CUDA paths must fail with EarmarkError('EARMARK_DEVICE'), never abort.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { EarmarkError } from '../src/errors.js';
import { loadCheckpoint, saveCheckpoint } from '../src/methods/checkpoint.js';
import { BatchNorm1d, Linear, Sequential } from '../src/nn/index.js';
import { Adam, SGD } from '../src/optim/index.js';
import {
  batchTo,
  cudaAvailable,
  cudaDeviceCount,
  defaultDevice,
  deviceOf,
  manualSeed,
  memory,
  moveTensor_,
  randn,
  resolveDevice,
  synchronize,
  tensor,
  tidy,
} from '../src/tensor/index.js';
import { testDevice } from '../src/testing/device.js';

const device = testDevice();
const noCuda = cudaDeviceCount() === 0;
const isDeviceError = (e: unknown): boolean => e instanceof EarmarkError && e.code === 'EARMARK_DEVICE';

test('device strings: canonical forms, and CUDA refused clearly where libtorch has none', () => {
  assert.equal(resolveDevice('cpu'), 'cpu');
  assert.throws(() => resolveDevice('gpu'), /'device' must be 'cpu', 'cuda' or 'cuda:N', got 'gpu'/);
  assert.throws(() => resolveDevice('cpu:1'), RangeError);
  assert.equal(noCuda, !cudaAvailable());
  assert.equal(defaultDevice(), noCuda ? 'cpu' : 'cuda:0');
  if (noCuda) {
    assert.throws(
      () => resolveDevice('cuda:0', '--device'),
      (e: unknown) =>
        isDeviceError(e) &&
        /'--device' is 'cuda:0' but this libtorch has no CUDA device.*LIBTORCH=/.test((e as Error).message),
    );
    assert.throws(() => synchronize('cuda'), isDeviceError);
    assert.throws(() => tidy(() => randn([2]).pinMemory()), isDeviceError);
    assert.throws(() => tidy(() => randn([2]).to('cuda')), /no CUDA device available/);
  } else {
    assert.equal(resolveDevice('cuda'), 'cuda:0');
    assert.throws(() => resolveDevice(`cuda:${cudaDeviceCount()}`), RangeError);
  }
  synchronize('cpu'); // a no-op
});

test(`tensors move to ${device} and back: copies, pinned host memory, non-blocking batches`, () => {
  const before = memory().numTensors;
  tidy(() => {
    const x = randn([3, 4]);
    const xd = x.to(device);
    assert.equal(deviceOf(xd), device);
    assert.deepEqual(xd.to('cpu').toArray(), x.toArray());
    const copy = x.to(device, { copy: true });
    copy.add_(1);
    assert.deepEqual(xd.to('cpu').toArray(), x.toArray(), 'copy: true does not alias');
    assert.equal(x.isPinned, false);
    const b = batchTo(x, device); // pinned + non-blocking on CUDA
    synchronize(device);
    assert.equal(deviceOf(b), device);
    assert.deepEqual(b.to('cpu').toArray(), x.toArray());
    if (!noCuda) {
      const p = x.pinMemory();
      assert.equal(p.isPinned, true);
      const y = p.to(device, { nonBlocking: true });
      synchronize(device);
      assert.deepEqual(y.to('cpu').toArray(), x.toArray());
    }
  });
  assert.equal(memory().numTensors, before);
});

test(`Module.to(${device}) moves parameters, gradients and buffers in place; layers keep their tensors`, () => {
  const before = memory().numTensors;
  manualSeed(1);
  const m = new Sequential(new Linear(4, 3), new BatchNorm1d(3));
  const lin = m.layers[0] as Linear;
  const w = lin.parameters()[0]!;
  const x = randn([5, 4]);
  tidy(() => m.forward(x).sum().backward());
  const grad = tidy(() => w.grad!.toArray());
  const mean = tidy(() => m.namedBuffers()[0]![1].toArray());
  assert.equal(m.to(device), m);
  assert.equal(lin.parameters()[0], w, 'the same Tensor object');
  for (const [, t] of [...m.namedParameters(), ...m.namedBuffers()]) assert.equal(deviceOf(t), device);
  assert.ok(w.requiresGrad);
  tidy(() => {
    assert.equal(deviceOf(w.grad!), device);
    assert.deepEqual(w.grad!.to('cpu').toArray(), grad);
    assert.deepEqual(m.namedBuffers()[0]![1].to('cpu').toArray(), mean);
  });
  m.eval();
  const got = tidy(() => m.forward(batchTo(x, device)).to('cpu').toArray());
  m.train();
  const evalCpu = tidy(() => m.to('cpu').eval().forward(x).toArray());
  assert.deepEqual(
    got.map((v) => v.toFixed(4)),
    evalCpu.map((v) => v.toFixed(4)),
  );
  // adopt_ (what a move does): the target takes the source's tensor, the source is left disposed
  const a = tensor([1, 2]);
  const b2 = tensor([3, 4]);
  a.adopt_(b2);
  assert.deepEqual(a.toArray(), [3, 4]);
  assert.ok(b2.isDisposed);
  moveTensor_(a, 'cpu');
  a.dispose();
  m.dispose();
  x.dispose();
  assert.equal(memory().numTensors, before);
});

test(`optimiser state lives on the parameters' device (${device}), also when loaded from host tensors`, () => {
  const before = memory().numTensors;
  const m = new Linear(3, 2).to(device);
  const opt = new Adam(m.parameters(), { lr: 1e-2 });
  tidy(() =>
    m
      .forward(randn([4, 3]).to(device))
      .square()
      .mean()
      .backward(),
  );
  opt.step();
  const sd = opt.stateDict();
  for (const t of sd.tensors.values()) assert.equal(deviceOf(t), device);
  const host = new Map([...sd.tensors].map(([k, t]) => [k, t.to('cpu', { copy: true })]));
  const opt2 = new Adam(m.parameters(), { lr: 1e-2 });
  opt2.loadStateDict({ tensors: host, meta: sd.meta });
  for (const t of opt2.stateDict().tensors.values()) assert.equal(deviceOf(t), device);
  for (const t of host.values()) t.dispose();
  opt.dispose();
  opt2.dispose();
  m.dispose();
  assert.equal(memory().numTensors, before);
});

test(`a checkpoint written on ${device} resumes on CPU, and a CPU checkpoint on ${device}, step for step`, () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'earmark-dev-'));
  const before = memory().numTensors;
  try {
    manualSeed(2);
    const x = randn([6, 4]);
    const build = (d: string): { m: Linear; opt: SGD } => {
      manualSeed(3);
      const m = new Linear(4, 2).to(d);
      return { m, opt: new SGD(m.parameters(), { lr: 0.1, momentum: 0.9 }) };
    };
    const step = (r: { m: Linear; opt: SGD }): void =>
      tidy(() => {
        r.opt.zeroGrad();
        r.m
          .forward(batchTo(x, deviceOf(r.m.parameters()[0]!)))
          .square()
          .mean()
          .backward();
        r.opt.step();
      });
    const weights = (r: { m: Linear }): number[] => tidy(() => r.m.parameters().flatMap((p) => p.to('cpu').toArray()));
    for (const [from, to] of [
      [device, 'cpu'],
      ['cpu', device],
    ] as const) {
      const a = build(from);
      step(a);
      step(a);
      const file = path.join(dir, `${from}.ckpt`);
      saveCheckpoint(file, { modules: { m: a.m }, optimizers: { m: a.opt } }, { step: 2 });
      const b = build(to);
      assert.deepEqual(loadCheckpoint(file, { modules: { m: b.m }, optimizers: { m: b.opt } }), { step: 2 });
      for (const p of b.m.parameters()) assert.equal(deviceOf(p), to);
      for (const t of b.opt.stateDict().tensors.values()) assert.equal(deviceOf(t), to);
      assert.deepEqual(weights(b), weights(a));
      step(a);
      step(b);
      const wa = weights(a);
      weights(b).forEach((v, i) => assert.ok(Math.abs(v - wa[i]!) < 1e-6, `${from} → ${to}: weight ${i}`));
      for (const r of [a, b]) {
        r.opt.dispose();
        r.m.dispose();
      }
    }
    x.dispose();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  assert.equal(memory().numTensors, before);
});
