// Finite-difference gradient checks (float64) of every differentiable nn layer and loss, inputs and parameters.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cat, manualSeed, memory, rand, randn, tensor, tidy, type Tensor } from '../src/tensor/index.js';
import { gradcheck } from '../src/testing/gradcheck.js';
import {
  AvgPool2d,
  BatchNorm1d,
  BatchNorm2d,
  Conv1d,
  Conv2d,
  ConvTranspose1d,
  ConvTranspose2d,
  Dropout,
  Dropout2d,
  ELU,
  GLU,
  GRU,
  GroupNorm,
  Hardtanh,
  InstanceNorm1d,
  InstanceNorm2d,
  LayerNorm,
  LeakyReLU,
  Linear,
  LSTM,
  MaxPool2d,
  PixelShuffle,
  PReLU,
  ReLU,
  Sigmoid,
  Softplus,
  Tanh,
  bceWithLogits,
  crossEntropy,
  gradReverse,
  l1Loss,
  mseLoss,
  nllLoss,
  smoothL1Loss,
  type Layer,
  type Module,
} from '../src/nn/index.js';

const f64 = { dtype: 'float64' as const };
const x64 = (shape: number[]): Tensor => randn(shape, { dtype: 'float64', requiresGrad: true });

/** gradcheck of m.forward w.r.t. x and every parameter; frees the module; no tensors may leak. */
function checkLayer(make: () => Module & Layer, shape: number[], train = true): void {
  const before = memory().numTensors;
  manualSeed(11);
  const m = make().train(train);
  try {
    tidy(() => gradcheck((x) => m.forward(x), [x64(shape), ...m.parameters()]));
  } finally {
    m.dispose();
  }
  assert.equal(memory().numTensors, before, 'no tensors leaked');
}

/** gradcheck of a loss built by `setup` (fixed weights made once, then the function and its inputs); no leaks. */
function checkFn(setup: () => [(...xs: Tensor[]) => Tensor, Tensor[]]): void {
  const before = memory().numTensors;
  manualSeed(12);
  tidy(() => gradcheck(...setup()));
  assert.equal(memory().numTensors, before, 'no tensors leaked');
}

test('Linear', () => checkLayer(() => new Linear(4, 3, f64), [2, 4]));
test('Conv1d with reflect padding and stride', () =>
  checkLayer(() => new Conv1d(2, 3, 3, { ...f64, stride: 2, padding: 1, paddingMode: 'reflect' }), [2, 2, 7]));
test('Conv2d with groups and dilation', () =>
  checkLayer(() => new Conv2d(4, 2, 3, { ...f64, groups: 2, dilation: [1, 2], padding: 1 }), [1, 4, 4, 5]));
test('ConvTranspose1d', () => checkLayer(() => new ConvTranspose1d(2, 3, 3, { ...f64, stride: 2 }), [1, 2, 4]));
test('ConvTranspose2d with outputPadding', () =>
  checkLayer(() => new ConvTranspose2d(2, 2, 3, { ...f64, stride: 2, padding: 1, outputPadding: 1 }), [1, 2, 3, 3]));
test('BatchNorm1d in training', () => checkLayer(() => new BatchNorm1d(3, f64), [4, 3, 2]));
test('BatchNorm2d in training', () => checkLayer(() => new BatchNorm2d(2, f64), [3, 2, 2, 3]));
test('BatchNorm2d in eval', () => checkLayer(() => new BatchNorm2d(2, f64), [2, 2, 2, 3], false));
test('InstanceNorm1d (affine)', () => checkLayer(() => new InstanceNorm1d(3, { ...f64, affine: true }), [2, 3, 5]));
test('InstanceNorm2d (affine)', () => checkLayer(() => new InstanceNorm2d(2, { ...f64, affine: true }), [2, 2, 3, 3]));
test('LayerNorm', () => checkLayer(() => new LayerNorm([3, 2], f64), [2, 3, 2]));
test('GroupNorm', () => checkLayer(() => new GroupNorm(2, 4, f64), [2, 4, 3]));
test('MaxPool2d', () => checkLayer(() => new MaxPool2d(2, { stride: 1 }), [1, 2, 3, 4]));
test('AvgPool2d', () => checkLayer(() => new AvgPool2d(2, { padding: 1 }), [1, 2, 3, 3]));
test('PixelShuffle', () => checkLayer(() => new PixelShuffle(2), [1, 4, 2, 3]));
test('GLU', () => checkLayer(() => new GLU(1), [2, 4, 3]));
test('PReLU', () => checkLayer(() => new PReLU(3, 0.25, f64), [2, 3, 4]));
test('activations: ReLU, LeakyReLU, Hardtanh, Tanh, Sigmoid, Softplus, ELU', () => {
  for (const make of [
    () => new ReLU(),
    () => new LeakyReLU(0.2),
    () => new Hardtanh(-0.5, 0.7),
    () => new Tanh(),
    () => new Sigmoid(),
    () => new Softplus(2, 3),
    () => new ELU(0.5),
  ])
    checkLayer(make, [3, 5]);
});

test('Dropout and Dropout2d (same mask each call from a fixed seed)', () => {
  for (const make of [() => new Dropout(0.4), () => new Dropout2d(0.5)]) {
    const m = make();
    const before = memory().numTensors;
    tidy(() =>
      gradcheck(
        (x) => {
          manualSeed(3);
          return m.forward(x);
        },
        [x64([2, 4, 2, 2])],
      ),
    );
    assert.equal(memory().numTensors, before);
  }
});

test('bidirectional 2-layer batch-first LSTM, w.r.t. input, weights and initial h, c', () => {
  const before = memory().numTensors;
  manualSeed(13);
  const m = new LSTM(3, 2, { ...f64, numLayers: 2, bidirectional: true, batchFirst: true });
  try {
    tidy(() => {
      const h0 = x64([4, 2, 2]);
      const c0 = x64([4, 2, 2]);
      gradcheck(
        (x) => {
          const { output, h, c } = m.forward(x, { h: h0, c: c0 });
          return cat([output.flatten(), h.flatten(), c.flatten()]);
        },
        [x64([2, 3, 3]), h0, c0, ...m.parameters()],
      );
    });
  } finally {
    m.dispose();
  }
  assert.equal(memory().numTensors, before);
});

test('bidirectional GRU, w.r.t. input, weights and initial h', () => {
  const before = memory().numTensors;
  manualSeed(14);
  const m = new GRU(3, 2, { ...f64, bidirectional: true });
  try {
    tidy(() => {
      const h0 = x64([2, 2, 2]);
      gradcheck(
        (x) => {
          const { output, h } = m.forward(x, { h: h0 });
          return cat([output.flatten(), h.flatten()]);
        },
        [x64([3, 2, 3]), h0, ...m.parameters()],
      );
    });
  } finally {
    m.dispose();
  }
  assert.equal(memory().numTensors, before);
});

test('crossEntropy with hard targets, weights, ignoreIndex and label smoothing', () =>
  checkFn(() => {
    const [t, weight] = [hardTargets(), rand([4], f64).add(0.5)];
    return [(x) => crossEntropy(x, t, { weight, labelSmoothing: 0.1, ignoreIndex: 2 }), [x64([5, 4])]];
  }));

test('crossEntropy with soft targets, w.r.t. logits and target probabilities', () =>
  checkFn(() => [
    (x, p) => crossEntropy(x, p, { labelSmoothing: 0.2 }),
    [x64([3, 4, 2]), rand([3, 4, 2], f64).softmax(1).requiresGrad_(true)],
  ]));

test('nllLoss', () =>
  checkFn(() => {
    const t = hardTargets();
    return [(x) => nllLoss(x.logSoftmax(1), t), [x64([5, 4])]];
  }));

test('bceWithLogits with weight and posWeight, w.r.t. logits and targets', () =>
  checkFn(() => {
    const [weight, posWeight] = [rand([3, 4], f64), rand([4], f64).add(0.5)];
    return [
      (x, y) => bceWithLogits(x, y, { weight, posWeight }),
      [x64([3, 4]), rand([3, 4], { ...f64, requiresGrad: true })],
    ];
  }));

test('mseLoss, l1Loss and smoothL1Loss, w.r.t. input and target', () => {
  checkFn(() => [(x, y) => mseLoss(x, y), [x64([3, 4]), x64([3, 4])]]);
  checkFn(() => [(x, y) => l1Loss(x, y, { reduction: 'sum' }), [x64([3, 4]), x64([3, 4])]]);
  checkFn(() => [(x, y) => smoothL1Loss(x, y, { beta: 0.5, reduction: 'none' }), [x64([3, 4]), x64([3, 4])]]);
});

test('gradReverse is the identity forward and multiplies the gradient by −alpha', () => {
  const before = memory().numTensors;
  tidy(() => {
    const x = x64([3, 4]);
    const probe = randn([3, 4], f64);
    const y = gradReverse(x, 0.7);
    assert.deepEqual(Array.from(y.toFloat64Array()), Array.from(x.toFloat64Array()));
    y.mul(probe).sum().backward();
    const want = probe.mul(-0.7).toFloat64Array();
    const got = x.grad!.toFloat64Array();
    for (let i = 0; i < want.length; i++)
      assert.ok(Math.abs(got[i]! - want[i]!) < 1e-12, `element ${i}: ${got[i]} vs ${want[i]}`);
    // and so it fails a finite-difference check: the checks above can catch a wrong backward
    assert.throws(() => gradcheck((v) => gradReverse(v, 1), [x64([2, 2])]), /analytic -?[0-9.e-]+ vs numeric/);
  });
  assert.equal(memory().numTensors, before);
});

/** Hard targets for 5 rows of 4 classes (one equal to the ignoreIndex 2 above). */
function hardTargets(): Tensor {
  return tensor([0, 3, 2, 1, 3], [5], { dtype: 'int64' });
}
