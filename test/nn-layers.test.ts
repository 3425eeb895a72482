// nn layer properties: output sizes, batch consistency, unbatched and batch-first layouts, RNN dropout, float64.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cat, manualSeed, memory, randn, tidy, type Tensor } from '../src/tensor/index.js';
import {
  Conv1d,
  Conv2d,
  ConvTranspose2d,
  GRU,
  InstanceNorm1d,
  LSTM,
  MaxPool2d,
  Sequential,
  ReLU,
  Linear,
} from '../src/nn/index.js';

function assertAllClose(a: Tensor, b: Tensor, what: string, tol = 1e-5): void {
  assert.deepEqual(a.shape, b.shape, `${what}: shape`);
  const x = a.toFloat64Array();
  const y = b.toFloat64Array();
  for (let i = 0; i < x.length; i++)
    assert.ok(Math.abs(x[i]! - y[i]!) <= tol * (1 + Math.abs(y[i]!)), `${what}: element ${i}: ${x[i]} vs ${y[i]}`);
}

/** Wraps a test body: fixed seed, tidy, and no tensors left behind. */
function clean(fn: () => void): () => void {
  return () => {
    manualSeed(21);
    const before = memory().numTensors;
    tidy(fn);
    assert.equal(memory().numTensors, before, 'no tensors leaked');
  };
}

test(
  "output sizes follow torch's formulas",
  clean(() => {
    const c = new Conv2d(2, 3, [5, 3], { stride: [2, 1], padding: [2, 0], dilation: [1, 2] });
    assert.deepEqual(c.forward(randn([1, 2, 11, 9])).shape, [1, 3, 6, 5]);
    const same = new Conv1d(2, 2, 4, { padding: 'same', dilation: 2 });
    assert.deepEqual(same.forward(randn([3, 2, 10])).shape, [3, 2, 10]);
    const up = new ConvTranspose2d(2, 3, 4, { stride: 2, padding: 1 });
    assert.deepEqual(up.forward(randn([1, 2, 5, 7])).shape, [1, 3, 10, 14]);
    assert.deepEqual(new MaxPool2d(3, { stride: 2, ceilMode: true }).forward(randn([1, 1, 8, 8])).shape, [1, 1, 4, 4]);
    for (const m of [c, same, up]) m.dispose();
  }),
);

test(
  "Conv1d 'same' with reflect padding equals explicit reflect padding then a valid conv",
  clean(() => {
    const a = new Conv1d(2, 3, 5, { padding: 'same', paddingMode: 'reflect' });
    const x = randn([2, 2, 9]);
    const want = new Conv1d(2, 3, 5);
    want.loadStateDict(a.stateDict());
    assertAllClose(a.forward(x), want.forward(x.pad([2, 2], 'reflect')), 'same/reflect');
    a.dispose();
    want.dispose();
  }),
);

test(
  'a batch equals its samples run one at a time (Conv2d, LSTM in eval)',
  clean(() => {
    const model = new Sequential(new Conv2d(1, 2, 3, { padding: 1 }), new ReLU());
    const x = randn([3, 1, 4, 5]);
    const batch = model.forward(x);
    const singles = cat(
      [0, 1, 2].map((i) => model.forward(x.narrow(0, i, 1))),
      0,
    );
    assertAllClose(batch, singles, 'conv batch');
    const rnn = new LSTM(3, 4, { numLayers: 2, bidirectional: true, dropout: 0.5 }).eval();
    const s = randn([6, 3, 3]); // (T, B, I)
    const all = rnn.forward(s).output;
    for (let b = 0; b < 3; b++)
      assertAllClose(all.narrow(1, b, 1), rnn.forward(s.narrow(1, b, 1)).output, `lstm sample ${b}`);
    model.dispose();
    rnn.dispose();
  }),
);

test(
  'batchFirst only changes the layout, and unbatched input equals a batch of one',
  clean(() => {
    const seqFirst = new GRU(3, 4, { numLayers: 2, bidirectional: true });
    const batchFirst = new GRU(3, 4, { numLayers: 2, bidirectional: true, batchFirst: true });
    batchFirst.loadStateDict(seqFirst.stateDict());
    const x = randn([5, 2, 3]); // (T, B, I)
    const a = seqFirst.forward(x);
    const b = batchFirst.forward(x.transpose(0, 1));
    assertAllClose(b.output.transpose(0, 1), a.output, 'output');
    assertAllClose(b.h, a.h, 'h');
    const one = seqFirst.forward(x.select(1, 0)); // unbatched (T, I)
    assertAllClose(one.output, a.output.select(1, 0), 'unbatched output');
    assertAllClose(one.h, a.h.select(1, 0), 'unbatched h');
    const norm = new InstanceNorm1d(3);
    assertAllClose(
      norm.forward(x.select(1, 0).transpose(0, 1)),
      norm.forward(x.permute([1, 2, 0])).select(0, 0),
      'unbatched InstanceNorm1d',
    );
    seqFirst.dispose();
    batchFirst.dispose();
  }),
);

test(
  'LSTM dropout between layers applies in training only',
  clean(() => {
    const rnn = new LSTM(3, 8, { numLayers: 2, dropout: 0.5 });
    const x = randn([4, 2, 3]);
    const t1 = rnn.forward(x).output;
    const t2 = rnn.forward(x).output;
    assert.ok(t1.sub(t2).abs().max().item() > 1e-4, 'two training forwards draw different masks');
    rnn.eval();
    assertAllClose(rnn.forward(x).output, rnn.forward(x).output, 'eval is deterministic', 0);
    rnn.dispose();
  }),
);

test(
  'dtype float64 builds float64 parameters whose forward stays float64',
  clean(() => {
    const m = new Sequential(new Linear(3, 2, { dtype: 'float64' }), new ReLU());
    assert.ok(m.parameters().every((p) => p.dtype === 'float64'));
    assert.equal(m.forward(randn([4, 3], { dtype: 'float64' })).dtype, 'float64');
    const r = new LSTM(2, 3, { dtype: 'float64' });
    assert.equal(r.forward(randn([5, 1, 2], { dtype: 'float64' })).h.dtype, 'float64');
    m.dispose();
    r.dispose();
  }),
);
