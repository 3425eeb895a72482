// Behaviour of the Tensor API and factories beyond tensor-basics: reduction shapes, max/argmax,
// joins and splits, indexing, where/maskedFill, dtype conversion, arange, seeding, grad mode,
// autograd bookkeeping (accumulation, setGrad(null), detach) and the device argument.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  arange,
  cat,
  cudaAvailable,
  isGradEnabled,
  manualSeed,
  memory,
  noGrad,
  ones,
  rand,
  randn,
  stack,
  tensor,
  tidy,
  zeros,
  type Tensor,
} from '../src/tensor/index.js';

/** Run in tidy and check that every tensor made was freed. */
function tensorTest(name: string, body: () => void, opts: { todo?: string } = {}): void {
  test(name, opts, () => {
    const before = memory().numTensors;
    tidy(body);
    assert.equal(memory().numTensors, before);
  });
}

const values = (t: Tensor): number[] => t.toArray();

// x = [[1, 5, 2], [7, 0, 3]] as float32
const sample = (): Tensor =>
  tensor([
    [1, 5, 2],
    [7, 0, 3],
  ]);

// ---- reductions ----

tensorTest('reductions drop the reduced dims unless keepdim', () => {
  const x = randn([2, 3, 4]);
  assert.deepEqual(x.sum().shape, []);
  assert.deepEqual(x.sum(1).shape, [2, 4]);
  assert.deepEqual(x.sum(1, true).shape, [2, 1, 4]);
  assert.deepEqual(x.sum([0, 2]).shape, [3]);
  assert.deepEqual(x.sum([0, 2], true).shape, [1, 3, 1]);
  assert.deepEqual(x.mean(-1).shape, [2, 3]);
  assert.deepEqual(x.mean(-1, true).shape, [2, 3, 1]);
  assert.deepEqual(x.var(2).shape, [2, 3]);
  assert.deepEqual(x.var(2, { keepdim: true }).shape, [2, 3, 1]);
  assert.deepEqual(x.var().shape, []);
  assert.deepEqual(x.logsumexp(0).shape, [3, 4]);
  assert.deepEqual(x.logsumexp([1, 2], true).shape, [2, 1, 1]);
  assert.deepEqual(x.amax([0, 1]).shape, [4]);
  assert.deepEqual(values(sample().sum(0)), [8, 5, 5]);
  assert.deepEqual(values(sample().mean(1)), [8 / 3, 10 / 3].map(Math.fround));
});

tensorTest('max(dim) returns values and int64 indices; max() reduces everything', () => {
  const { values: v, indices: i } = sample().max(1);
  assert.deepEqual(values(v), [5, 7]);
  assert.deepEqual(values(i), [1, 0]);
  assert.equal(i.dtype, 'int64');
  const k = sample().max(0, true);
  assert.deepEqual(k.values.shape, [1, 3]);
  assert.deepEqual(values(k.indices), [1, 0, 1]);
  assert.equal(sample().max().item(), 7);
  assert.deepEqual(values(sample().min(1).indices), [0, 1]);
});

tensorTest('argmax over all elements (flat index) and along a dim', () => {
  assert.equal(sample().argmax().item(), 3);
  assert.deepEqual(values(sample().argmax(1)), [1, 0]);
  assert.deepEqual(sample().argmax(1, true).shape, [2, 1]);
  assert.deepEqual(values(sample().argmin(0)), [0, 1, 0]);
  assert.equal(sample().argmax(1).dtype, 'int64');
});

// ---- joins and splits ----

tensorTest('cat joins along an existing dim, stack along a new one', () => {
  const a = tensor([
    [1, 2],
    [3, 4],
  ]);
  const b = tensor([[5, 6]]);
  assert.deepEqual(cat([a, b]).shape, [3, 2]);
  assert.deepEqual(values(cat([a, b])), [1, 2, 3, 4, 5, 6]);
  assert.deepEqual(values(cat([a, a], 1)), [1, 2, 1, 2, 3, 4, 3, 4]);
  assert.deepEqual(cat([a, a], -1).shape, [2, 4]);
  assert.deepEqual(stack([a, a]).shape, [2, 2, 2]);
  assert.deepEqual(stack([a, a], 2).shape, [2, 2, 2]);
  assert.deepEqual(values(stack([a, a.neg()], 2)), [1, -1, 2, -2, 3, -3, 4, -4]);
  assert.throws(() => cat([a, b], 1), /aten::cat/);
});

tensorTest('chunk and split: equal parts with a short last one', () => {
  const x = arange(10);
  assert.deepEqual(
    x.chunk(3).map((c) => c.shape[0]),
    [4, 4, 2],
  );
  assert.deepEqual(
    x.split(4).map((c) => values(c)),
    [
      [0, 1, 2, 3],
      [4, 5, 6, 7],
      [8, 9],
    ],
  );
  const m = arange(12).reshape([3, 4]);
  assert.deepEqual(
    m.chunk(2, 1).map((c) => c.shape),
    [
      [3, 2],
      [3, 2],
    ],
  );
  assert.deepEqual(values(m.split(3, 1)[1]!), [3, 7, 11]);
});

// ---- indexing ----

tensorTest('index (advanced), indexSelect and gather', () => {
  const m = arange(12).reshape([3, 4]); // [[0..3], [4..7], [8..11]]
  const rows = tensor([2, 0], [2], { dtype: 'int64' });
  const cols = tensor([1, 3], [2], { dtype: 'int64' });
  assert.deepEqual(values(m.index([rows, cols])), [9, 3]); // pairs (2,1), (0,3)
  assert.deepEqual(m.index([null, cols]).shape, [3, 2]);
  assert.deepEqual(values(m.index([null, cols])), [1, 3, 5, 7, 9, 11]);
  assert.deepEqual(values(m.index([m.gt(8)])), [9, 10, 11]); // a boolean mask
  assert.deepEqual(values(m.indexSelect(0, rows)), [8, 9, 10, 11, 0, 1, 2, 3]);
  assert.deepEqual(values(m.indexSelect(1, cols)), [1, 3, 5, 7, 9, 11]);
  const g = tensor(
    [
      [3, 0],
      [1, 1],
      [2, 0],
    ],
    undefined,
    { dtype: 'int64' },
  );
  assert.deepEqual(values(m.gather(1, g)), [3, 0, 5, 5, 10, 8]);
  assert.deepEqual(values(m.select(0, 1)), [4, 5, 6, 7]);
  assert.deepEqual(values(m.slice(1, 1, null, 2)), [1, 3, 5, 7, 9, 11]);
  assert.deepEqual(values(m.narrow(0, 1, 2).sum(1)), [22, 38]);
});

tensorTest('where and maskedFill', () => {
  const x = tensor([-2, -1, 0, 1, 2]);
  const pos = x.gt(0);
  assert.equal(pos.dtype, 'bool');
  assert.deepEqual(values(x.where(pos, 0)), [0, 0, 0, 1, 2]);
  assert.deepEqual(values(x.where(pos, x.mul(10))), [-20, -10, 0, 1, 2]);
  assert.deepEqual(values(x.maskedFill(x.lt(0), -9)), [-9, -9, 0, 1, 2]);
  // a broadcast mask: zero the second column of every row
  const m = ones([2, 3]).maskedFill(tensor([0, 1, 0], [3], { dtype: 'bool' }), 0);
  assert.deepEqual(values(m), [1, 0, 1, 1, 0, 1]);
});

// ---- dtypes and factories ----

tensorTest('dtype conversions: float widths, truncation to int64, bool', () => {
  const x = tensor([1.75, -1.75, 0.1]);
  assert.equal(x.to('float64').dtype, 'float64');
  assert.equal(x.double().toFloat64Array()[2], Math.fround(0.1)); // widening is exact
  assert.deepEqual(values(x.long()), [1, -1, 0]); // truncates toward zero as torch
  assert.equal(x.long().dtype, 'int64');
  assert.deepEqual(values(x.gt(0).to('float32')), [1, 0, 1]);
  assert.deepEqual(values(tensor([0, 2, -3]).to('bool')), [0, 1, 1]);
  assert.equal(arange(3).float().dtype, 'float32');
  assert.equal(arange(3).add(tensor([0.5], [1], { dtype: 'float64' })).dtype, 'float64'); // promotion
  assert.equal(zeros([2], { dtype: 'int64' }).dtype, 'int64');
  assert.equal(ones([2], { dtype: 'bool' }).dtype, 'bool');
});

tensorTest('arange: int64 for integer arguments, float32 otherwise, end exclusive', () => {
  assert.deepEqual(values(arange(5)), [0, 1, 2, 3, 4]);
  assert.deepEqual(values(arange(2, 10, 3)), [2, 5, 8]);
  assert.deepEqual(values(arange(5, 0, -2)), [5, 3, 1]);
  const f = arange(0, 1, 0.25);
  assert.equal(f.dtype, 'float32');
  assert.deepEqual(values(f), [0, 0.25, 0.5, 0.75]);
  const d = arange(0, 3, 1, { dtype: 'float64' });
  assert.equal(d.dtype, 'float64');
  assert.deepEqual(values(d), [0, 1, 2]);
});

tensorTest('manualSeed makes randn and rand reproducible', () => {
  manualSeed(1234);
  const a = randn([64]).toArray();
  const u = rand([64]).toArray();
  manualSeed(1234);
  assert.deepEqual(randn([64]).toArray(), a);
  assert.deepEqual(rand([64]).toArray(), u);
  manualSeed(1235);
  assert.notDeepEqual(randn([64]).toArray(), a);
  assert.ok(u.every((v) => v >= 0 && v < 1));
  // standard normal: 64 samples of N(0, 1) have |mean| < 0.5 with overwhelming probability
  assert.ok(Math.abs(a.reduce((s, v) => s + v, 0) / a.length) < 0.5);
});

// ---- autograd bookkeeping ----

tensorTest('noGrad disables recording and restores the previous mode, even on throw', () => {
  const w = ones([3], { requiresGrad: true });
  assert.equal(w.mul(2).requiresGrad, true);
  const y = noGrad(() => {
    assert.equal(isGradEnabled(), false);
    return w.mul(2);
  });
  assert.equal(y.requiresGrad, false);
  assert.equal(isGradEnabled(), true);
  assert.throws(
    () =>
      noGrad(() => {
        throw new Error('inside');
      }),
    /inside/,
  );
  assert.equal(isGradEnabled(), true);
  noGrad(() => noGrad(() => undefined)); // nested: the outer mode comes back
  assert.equal(isGradEnabled(), true);
});

tensorTest('backward fills grad of leaves; gradients accumulate; setGrad(null) clears', () => {
  const x = tensor([1, 2, 3], [3], { requiresGrad: true });
  assert.equal(x.requiresGrad, true);
  assert.equal(x.grad, null);
  x.mul(x).sum().backward(); // d/dx sum(x^2) = 2x
  assert.deepEqual(values(x.grad!), [2, 4, 6]);
  x.mul(3).sum().backward(); // accumulates: 2x + 3
  assert.deepEqual(values(x.grad!), [5, 7, 9]);
  x.setGrad(null);
  assert.equal(x.grad, null);
  x.setGrad(tensor([1, 1, 1]));
  x.sum().backward();
  assert.deepEqual(values(x.grad!), [2, 2, 2]);
});

tensorTest('backward with an explicit gradient, and retainGraph for a second pass', () => {
  const x = tensor([1, 2], [2], { requiresGrad: true });
  const y = x.exp();
  y.backward(tensor([1, 0]), { retainGraph: true });
  assert.deepEqual(values(x.grad!), [Math.fround(Math.E), 0]);
  y.backward(tensor([0, 1]));
  assert.deepEqual(values(x.grad!), [Math.fround(Math.E), Math.fround(Math.exp(2))]);
  assert.throws(() => y.backward(tensor([1, 1])), /backward through the graph a second time/);
  assert.throws(() => x.mul(2).backward(), /grad can be implicitly created only for scalar outputs/);
});

tensorTest('detach shares storage but not history; requiresGrad_ toggles', () => {
  const x = tensor([1, 2, 3], [3], { requiresGrad: true });
  const d = x.detach();
  assert.equal(d.requiresGrad, false);
  noGrad(() => d.mul_(10)); // writes through to x's storage
  assert.deepEqual(values(x), [10, 20, 30]);
  x.mul(2).sum().backward();
  assert.deepEqual(values(x.grad!), [2, 2, 2]);
  const c = zeros([2]);
  assert.equal(c.requiresGrad, false);
  c.requiresGrad_();
  assert.equal(c.requiresGrad, true);
  c.requiresGrad_(false);
  assert.equal(c.requiresGrad, false);
  assert.throws(() => c.sum().backward(), /does not require grad/);
});

// ---- device ----

tensorTest("the 'cpu' device works everywhere", () => {
  const z = zeros([2], { device: 'cpu' });
  assert.equal(z.device, 'cpu');
  assert.equal(tensor([1, 2], [2], { device: 'cpu' }).device, 'cpu');
  assert.equal(randn([2]).to('cpu').device, 'cpu');
  assert.equal(arange(3, undefined, 1, { device: 'cpu' }).device, 'cpu');
});

test(
  "'cuda' without a CUDA libtorch throws an Error that names the device",
  { skip: cudaAvailable() ? 'this libtorch has CUDA' : false },
  () => {
    const before = memory().numTensors;
    assert.throws(
      () => zeros([2], { device: 'cuda' }),
      (e: unknown) => e instanceof Error && /cuda/i.test(e.message),
    );
    assert.throws(
      () => tidy(() => randn([2]).to('cuda')),
      (e: unknown) => e instanceof Error && /cuda/i.test(e.message),
    );
    assert.equal(memory().numTensors, before);
  },
);

// libtorch's own message is a dispatcher dump (~4 KB listing every backend); the factories check
// cudaAvailable() first and say what to do instead
test(
  "'cuda' without CUDA: the message is short and says how to fix it",
  {
    skip: cudaAvailable() ? 'this libtorch has CUDA' : false,
  },
  () => {
    let message = '';
    try {
      zeros([2], { device: 'cuda' }).dispose();
    } catch (e) {
      message = (e as Error).message;
    }
    assert.ok(
      /'cuda'/.test(message) && /cpu/i.test(message) && message.length < 400,
      `got ${message.length} characters starting: ${message.slice(0, 100)}`,
    );
  },
);

// tensor(data, shape, { device }) must throw, never abort the process (native/src/tensor.cc FromBuffer
// guards the move): run it in a child so an abort cannot kill the runner
test(
  "tensor(data, shape, { device: 'cuda' }) without CUDA throws instead of aborting the process",
  {
    skip: cudaAvailable() ? 'this libtorch has CUDA' : false,
  },
  () => {
    const index = new URL('../src/tensor/index.js', import.meta.url).href;
    const script = `import { tensor } from ${JSON.stringify(index)};
    try { tensor([1, 2], [2], { device: 'cuda' }); process.exit(3); }
    catch (e) { process.exit(e instanceof Error && /cuda/i.test(e.message) ? 0 : 4); }`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000 });
    assert.equal(r.signal, null, `the child was killed by ${r.signal}: ${r.stderr.split('\n')[0]}`);
    assert.equal(r.status, 0, r.stderr);
  },
);
