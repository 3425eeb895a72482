// nn state: PyTorch's state-dict keys, loadStateDict errors, train/eval of Dropout and BatchNorm, no leaked tensors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { EarmarkError } from '../src/errors.js';
import { manualSeed, memory, noGrad, ones, randn, tensor, tidy, zeros } from '../src/tensor/index.js';
import { repoRoot } from '../src/util/paths.js';
import {
  BatchNorm1d,
  BatchNorm2d,
  Conv2d,
  ConvTranspose2d,
  Dropout,
  Dropout2d,
  GRU,
  InstanceNorm1d,
  InstanceNorm2d,
  LayerNorm,
  Linear,
  LSTM,
  MaxPool2d,
  PReLU,
  ReLU,
  Sequential,
  crossEntropy,
  type Module,
} from '../src/nn/index.js';

const expectedKeys = JSON.parse(
  readFileSync(path.join(repoRoot(), 'test', 'fixtures', 'nn', 'keys.json'), 'utf8'),
) as Record<string, Record<string, number[]>>;

/** The same module configurations scripts/goldens/nn.py lists under keys.json. */
const configs: Record<string, () => Module> = {
  sequential: () =>
    new Sequential(
      new Conv2d(1, 4, 3),
      new BatchNorm2d(4),
      new ReLU(),
      new Dropout2d(0.1),
      new Conv2d(4, 2, 1, { bias: false }),
    ),
  instance_norm1d_tracked: () => new InstanceNorm1d(3, { affine: true, trackRunningStats: true }),
  instance_norm2d_plain: () => new InstanceNorm2d(3),
  batch_norm1d_noaffine: () => new BatchNorm1d(3, { affine: false }),
  lstm_nobias: () => new LSTM(3, 4, { bias: false }),
  gru_bidir2: () => new GRU(3, 4, { numLayers: 2, bidirectional: true }),
  conv_transpose2d: () => new ConvTranspose2d(2, 3, 3),
  layer_norm_noaffine: () => new LayerNorm(4, { elementwiseAffine: false }),
  prelu: () => new PReLU(3),
};

test("state-dict keys, order and shapes are PyTorch's", () => {
  const before = memory().numTensors;
  assert.deepEqual(Object.keys(configs).sort(), Object.keys(expectedKeys).sort());
  for (const [name, make] of Object.entries(configs)) {
    const m = make();
    const got = Object.fromEntries([...m.stateDict()].map(([k, t]) => [k, t.shape]));
    assert.deepEqual(Object.keys(got), Object.keys(expectedKeys[name]!), `${name}: keys in torch's order`);
    assert.deepEqual(got, expectedKeys[name], `${name}: shapes`);
    m.dispose();
  }
  assert.equal(memory().numTensors, before);
});

test('num_batches_tracked is an int64 scalar and parameters require grad while buffers do not', () => {
  const bn = new BatchNorm2d(3);
  const sd = bn.stateDict();
  assert.equal(sd.get('num_batches_tracked')!.dtype, 'int64');
  assert.deepEqual(sd.get('num_batches_tracked')!.shape, []);
  assert.deepEqual(
    bn.namedParameters().map(([k]) => k),
    ['weight', 'bias'],
  );
  assert.ok(bn.parameters().every((p) => p.requiresGrad));
  assert.ok(bn.namedBuffers().every(([, b]) => !b.requiresGrad));
  bn.dispose();
});

test('loadStateDict names a missing key, an unexpected key and a mis-shaped key', () => {
  const before = memory().numTensors;
  const m = new Sequential(new Linear(3, 2), new BatchNorm1d(2));
  tidy(() => {
    const sd = new Map([...m.stateDict()].map(([k, t]) => [k, t.clone()]));
    sd.delete('1.running_var');
    assert.throws(
      () => m.loadStateDict(sd, { source: 'ckpt.safetensors' }),
      (e: unknown) =>
        e instanceof EarmarkError &&
        e.code === 'EARMARK_STATE_DICT' &&
        /missing key\(s\) '1\.running_var'/.test(e.message) &&
        /ckpt\.safetensors/.test(e.message),
    );
    sd.set('1.running_var', ones([2]));
    sd.set('2.weight', ones([2]));
    assert.throws(() => m.loadStateDict(sd), { name: 'EarmarkError', message: /unexpected key\(s\) '2\.weight'/ });
    sd.delete('2.weight');
    sd.set('0.weight', zeros([3, 2]));
    assert.throws(() => m.loadStateDict(sd), {
      name: 'EarmarkError',
      message: /'0\.weight' has shape \[3, 2\] but the model expects \[2, 3\]/,
    });
    sd.set('0.weight', tensor([1, 2, 3, 4, 5, 6], [2, 3]));
    assert.deepEqual(m.loadStateDict(sd), { missing: [], unexpected: [] });
    assert.deepEqual(Array.from(m.stateDict().get('0.weight')!.toFloat32Array()), [1, 2, 3, 4, 5, 6]);
    assert.ok(m.parameters()[0]!.requiresGrad, 'loading keeps requiresGrad');
  });
  m.dispose();
  assert.equal(memory().numTensors, before);
});

test('Dropout and Dropout2d drop in training and are the identity in eval', () => {
  const before = memory().numTensors;
  tidy(() => {
    const x = ones([8, 16, 4, 4]);
    const model = new Sequential(new Dropout(0.25), new Dropout2d(0.5));
    manualSeed(0);
    const d = new Dropout(0.25);
    const y = d.forward(x).toFloat32Array();
    const kept = y.filter((v) => v !== 0);
    assert.ok(
      kept.every((v) => Math.abs(v - 1 / 0.75) < 1e-6),
      'survivors are scaled by 1/(1 − p)',
    );
    assert.ok(Math.abs(kept.length / y.length - 0.75) < 0.03, `kept fraction ${kept.length / y.length}`);
    // Dropout2d: every 4×4 map is all zeros or all 2
    const z = new Dropout2d(0.5).forward(x).toFloat32Array();
    for (let m = 0; m < 8 * 16; m++) {
      const map = z.subarray(m * 16, m * 16 + 16);
      assert.ok(map.every((v) => v === map[0]) && (map[0] === 0 || map[0] === 2), `map ${m} is dropped or kept whole`);
    }
    model.eval();
    assert.ok(
      model.layers.every((l) => !l.training),
      'eval() reaches children',
    );
    assert.deepEqual(Array.from(model.forward(x).toFloat32Array()), Array.from(x.toFloat32Array()));
    model.train();
    assert.ok(
      model
        .forward(x)
        .toFloat32Array()
        .some((v) => v === 0),
    );
  });
  assert.equal(memory().numTensors, before);
});

test('BatchNorm updates running stats only in training and normalises with them in eval', () => {
  const before = memory().numTensors;
  const bn = new BatchNorm1d(2, { momentum: 0.5 });
  tidy(() => {
    // channel 0: values 1, 3 (mean 2, unbiased var 2); channel 1: 0, 4 (mean 2, var 8)
    const x = tensor([1, 0, 3, 4], [2, 2]);
    bn.forward(x);
    assert.deepEqual(Array.from(bn.runningMean!.toFloat32Array()), [1, 1]);
    assert.deepEqual(Array.from(bn.runningVar!.toFloat32Array()), [1.5, 4.5]);
    assert.equal(bn.numBatchesTracked!.item(), 1);
    bn.eval();
    const y = bn.forward(tensor([1, 1], [1, 2])).toFloat32Array();
    assert.ok(Math.abs(y[0]!) < 1e-6 && Math.abs(y[1]!) < 1e-6, 'eval subtracts the running mean');
    assert.deepEqual(Array.from(bn.runningMean!.toFloat32Array()), [1, 1], 'eval leaves running stats alone');
    assert.equal(bn.numBatchesTracked!.item(), 1);
    bn.resetRunningStats();
    assert.deepEqual(Array.from(bn.runningVar!.toFloat32Array()), [1, 1]);
  });
  bn.dispose();
  assert.equal(memory().numTensors, before);
});

test('a training step in tidy leaves memory().numTensors unchanged', () => {
  manualSeed(5);
  const model = new Sequential(
    new Conv2d(1, 4, 3, { padding: 1 }),
    new BatchNorm2d(4),
    new ReLU(),
    new MaxPool2d(2),
    new Dropout(0.1),
  );
  const head = new Linear(4 * 4 * 4, 3);
  const rnn = new LSTM(4, 5, { numLayers: 2, bidirectional: true, batchFirst: true, dropout: 0.2 });
  const before = memory().numTensors;
  for (let step = 0; step < 3; step++) {
    tidy(() => {
      const x = randn([2, 1, 8, 8]);
      const h = model.forward(x).flatten(1); // (2, 64)
      const seq = rnn.forward(h.reshape([2, 16, 4])).output; // (2, 16, 10)
      const loss = crossEntropy(head.forward(h), tensor([0, 2], [2], { dtype: 'int64' })).add(seq.square().mean());
      loss.backward();
      noGrad(() => {
        for (const p of [...model.parameters(), ...head.parameters(), ...rnn.parameters()])
          tidy(() => p.add_(p.grad!, -0.01));
      });
      model.zeroGrad();
      head.zeroGrad();
      rnn.zeroGrad();
    });
    assert.equal(memory().numTensors, before, `after step ${step}`);
  }
  for (const m of [model, head, rnn]) m.dispose();
});
