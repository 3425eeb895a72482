// Bad calls into nn layers and ops raise TypeError/RangeError naming the argument (or the input's shape).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { memory, randn, tensor, tidy } from '../tensor/index.js';
import {
  AvgPool2d,
  BatchNorm1d,
  BatchNorm2d,
  Conv1d,
  Conv2d,
  ConvTranspose2d,
  Dropout,
  Dropout2d,
  GLU,
  GroupNorm,
  GRU,
  Hardtanh,
  InstanceNorm2d,
  LayerNorm,
  Linear,
  LSTM,
  MaxPool2d,
  PixelShuffle,
  Softplus,
  bceWithLogits,
  crossEntropy,
  l1Loss,
  mseLoss,
} from './index.js';
import { conv2d, dropout, gradReverse, maxPool2d } from './functional.js';
import { kaimingUniform_ } from './init.js';

const range = (arg: string): { name: string; message: RegExp } => ({
  name: 'RangeError',
  message: new RegExp(`'${arg}'`),
});
const type = (arg: string): { name: string; message: RegExp } => ({
  name: 'TypeError',
  message: new RegExp(`'${arg}'`),
});

test('constructors reject bad sizes naming the argument', () => {
  const before = memory().numTensors;
  assert.throws(() => new Conv2d(0, 3, 3), range('inChannels'));
  assert.throws(() => new Conv2d(3, 2.5, 3), range('outChannels'));
  assert.throws(() => new Conv2d(3, 4, [3, 3, 3]), range('kernelSize'));
  assert.throws(() => new Conv2d(3, 4, 3, { stride: 0 }), range('stride'));
  assert.throws(() => new Conv2d(3, 4, 3, { padding: -1 }), range('padding'));
  assert.throws(() => new Conv2d(3, 4, 3, { padding: 'same', stride: 2 }), {
    name: 'RangeError',
    message: /'same' needs 'stride' 1/,
  });
  assert.throws(() => new Conv2d(3, 4, 3, { padding: 'full' as 'same' }), range('padding'));
  assert.throws(() => new Conv2d(3, 4, 3, { groups: 2 }), {
    name: 'RangeError',
    message: /'inChannels' \(3\) must be divisible by 'groups' \(2\)/,
  });
  assert.throws(() => new Conv2d(3, 4, 3, { paddingMode: 'mirror' as 'reflect' }), range('paddingMode'));
  assert.throws(() => new Conv1d(2, 2, 3, { dilation: [1, 1] }), range('dilation'));
  assert.throws(() => new ConvTranspose2d(2, 2, 3, { stride: 2, outputPadding: 2 }), range('outputPadding'));
  assert.throws(() => new Linear(0, 3), range('inFeatures'));
  assert.throws(() => new Linear('4' as unknown as number, 3), type('inFeatures'));
  assert.throws(() => new Linear(4, 3, { dtype: 'int64' }), type('dtype'));
  assert.throws(() => new BatchNorm2d(0), range('numFeatures'));
  assert.throws(() => new BatchNorm1d(4, { eps: 0 }), range('eps'));
  assert.throws(() => new BatchNorm1d(4, { momentum: 1.5 }), range('momentum'));
  assert.throws(() => new InstanceNorm2d(4, { momentum: null }), range('momentum'));
  assert.throws(() => new LayerNorm([]), range('normalizedShape'));
  assert.throws(() => new GroupNorm(3, 4), range('numChannels'));
  assert.throws(() => new LSTM(0, 4), range('inputSize'));
  assert.throws(() => new GRU(4, 4, { numLayers: 0 }), range('numLayers'));
  assert.throws(() => new LSTM(4, 4, { dropout: 1.5 }), range('dropout'));
  assert.throws(() => new Dropout(-0.1), range('p'));
  assert.throws(() => new Dropout2d(2), range('p'));
  assert.throws(() => new MaxPool2d(0), range('kernelSize'));
  assert.throws(() => new MaxPool2d(2, { padding: 2 }), range('padding'));
  assert.throws(() => new AvgPool2d([2, 2], { stride: [1] }), range('stride'));
  assert.throws(() => new PixelShuffle(0), range('upscaleFactor'));
  assert.throws(() => new Hardtanh(1, -1), range('maxVal'));
  assert.throws(() => new Softplus(0), range('beta'));
  assert.throws(() => new GLU(0.5), type('dim'));
  assert.equal(memory().numTensors, before, 'a rejected constructor allocates nothing');
});

test('forward rejects inputs of the wrong rank or channel count, quoting the shape', () => {
  const before = memory().numTensors;
  const conv = new Conv2d(3, 4, 3);
  const bn = new BatchNorm2d(3);
  const lstm = new LSTM(5, 4, { numLayers: 2 });
  tidy(() => {
    assert.throws(() => conv.forward(randn([3, 8])), {
      name: 'RangeError',
      message: /Conv2d: expected input of shape \(N, C, H, W\).*got \[3, 8\]/,
    });
    assert.throws(() => conv.forward(randn([1, 2, 8, 8])), /aten::conv2d/); // libtorch's message names the op and shapes
    assert.throws(() => bn.forward(randn([2, 3, 4])), { name: 'RangeError', message: /BatchNorm2d.*\[2, 3, 4\]/ });
    assert.throws(() => bn.forward(randn([2, 5, 4, 4])), {
      name: 'RangeError',
      message: /5 channels.*'numFeatures' 3/,
    });
    assert.throws(() => bn.forward(randn([1, 3, 1, 1])), {
      name: 'RangeError',
      message: /more than 1 value per channel/,
    });
    assert.throws(() => lstm.forward(randn([7, 2, 6])), { name: 'RangeError', message: /'inputSize' 5/ });
    assert.throws(() => lstm.forward(randn([7, 2, 5]), { h: randn([1, 2, 4]) }), {
      name: 'RangeError',
      message: /'h' has shape \[1, 2, 4\], expected \[2, 2, 4\]/,
    });
    assert.throws(() => new GLU(1).forward(randn([2, 5, 3])), { name: 'RangeError', message: /odd size 5/ });
    assert.throws(() => new PixelShuffle(2).forward(randn([1, 6, 2, 2])), range('upscaleFactor'));
  });
  for (const m of [conv, bn, lstm]) m.dispose();
  assert.equal(memory().numTensors, before);
});

test('functional ops and losses reject bad arguments naming them', () => {
  const before = memory().numTensors;
  tidy(() => {
    const x = randn([2, 3]);
    assert.throws(() => dropout(x, 1.5), range('p'));
    assert.throws(() => gradReverse(x, Number.NaN), range('alpha'));
    assert.throws(() => conv2d(randn([1, 1, 4, 4]), randn([1, 1, 3, 3]), null, { stride: [1, 1, 1] }), range('stride'));
    assert.throws(() => maxPool2d(randn([1, 1, 4, 4]), -2), range('kernelSize'));
    assert.throws(() => crossEntropy(x, tensor([0, 1], [2], { dtype: 'int32' })), type('target'));
    assert.throws(() => crossEntropy(x, randn([2, 4])), range('target'));
    assert.throws(
      () => crossEntropy(x, tensor([0, 1], [2], { dtype: 'int64' }), { labelSmoothing: 2 }),
      range('labelSmoothing'),
    );
    assert.throws(() => mseLoss(x, randn([3])), {
      name: 'RangeError',
      message: /'target' has shape \[3\] but 'input' has \[2, 3\]/,
    });
    assert.throws(() => l1Loss(x, x, { reduction: 'avg' as 'mean' }), range('reduction'));
    assert.throws(() => bceWithLogits(x, randn([2, 1])), range('target'));
    assert.throws(() => kaimingUniform_(randn([3])), /fan in and fan out need a tensor with >= 2 dims/);
  });
  assert.equal(memory().numTensors, before);
});
