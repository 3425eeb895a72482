// PyTorch 1.13's default initialisations: bounds and spreads of each layer's fresh weights, and the init helpers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { empty, manualSeed, memory, tidy, type Tensor } from '../tensor/index.js';
import { BatchNorm2d, Conv2d, ConvTranspose2d, GRU, InstanceNorm2d, LayerNorm, Linear, LSTM } from './index.js';
import {
  calculateGain,
  fanInAndFanOut,
  kaimingNormal_,
  kaimingUniform_,
  xavierNormal_,
  xavierUniform_,
} from './init.js';

/** Max |v| and standard deviation of a tensor's values. */
function stats(t: Tensor): { maxAbs: number; std: number; mean: number } {
  const v = t.toFloat64Array();
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  const std = Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / v.length);
  return { maxAbs: v.reduce((a, b) => Math.max(a, Math.abs(b)), 0), std, mean };
}

/** Values fill U(−b, b): none beyond b, the spread of a uniform (std b/√3 within 5%). */
function assertUniform(t: Tensor, bound: number, what: string): void {
  const s = stats(t);
  assert.ok(s.maxAbs <= bound, `${what}: max |w| ${s.maxAbs} exceeds the bound ${bound}`);
  assert.ok(Math.abs(s.std / (bound / Math.sqrt(3)) - 1) < 0.05, `${what}: std ${s.std} vs ${bound / Math.sqrt(3)}`);
}

test('Linear and Conv2d: weight and bias U(±1/√fan_in) (kaiming_uniform_ with a = √5)', () => {
  manualSeed(1);
  const fc = new Linear(200, 300);
  assertUniform(fc.weight, 1 / Math.sqrt(200), 'Linear.weight');
  assertUniform(fc.bias!, 1 / Math.sqrt(200), 'Linear.bias');
  const conv = new Conv2d(8, 400, [3, 5]);
  assertUniform(conv.weight, 1 / Math.sqrt(8 * 15), 'Conv2d.weight');
  assertUniform(conv.bias!, 1 / Math.sqrt(8 * 15), 'Conv2d.bias');
  fc.dispose();
  conv.dispose();
});

test('ConvTranspose2d takes fan_in from weight dim 1 (outChannels/groups · k²) as torch', () => {
  manualSeed(2);
  const up = new ConvTranspose2d(300, 8, 3, { groups: 2 }); // weight (300, 4, 3, 3): fan_in 36
  assert.deepEqual(up.weight.shape, [300, 4, 3, 3]);
  assertUniform(up.weight, 1 / 6, 'ConvTranspose2d.weight');
  assert.ok(stats(up.bias!).maxAbs <= 1 / 6);
  up.dispose();
});

test('LSTM and GRU: every weight and bias U(±1/√hiddenSize)', () => {
  manualSeed(3);
  for (const m of [new LSTM(40, 64, { numLayers: 2, bidirectional: true }), new GRU(40, 64)]) {
    for (const [k, p] of m.namedParameters()) {
      if (k.startsWith('weight')) assertUniform(p, 1 / 8, k);
      else assert.ok(stats(p).maxAbs <= 1 / 8, k);
    }
    m.dispose();
  }
});

test('norms start at weight 1, bias 0, running mean 0 and variance 1', () => {
  for (const m of [
    new BatchNorm2d(3),
    new InstanceNorm2d(3, { affine: true, trackRunningStats: true }),
    new LayerNorm(3),
  ]) {
    for (const [k, t] of m.stateDict()) {
      const want = k === 'weight' || k === 'running_var' ? 1 : 0;
      assert.ok(
        t.toArray().every((v) => v === want),
        `${m.constructor.name}.${k} starts at ${want}`,
      );
    }
    m.dispose();
  }
});

test('init helpers: gains, fans, xavier and kaiming spreads', () => {
  const before = memory().numTensors;
  assert.equal(calculateGain('relu'), Math.SQRT2);
  assert.equal(calculateGain('tanh'), 5 / 3);
  assert.equal(calculateGain('leaky_relu', Math.sqrt(5)), Math.sqrt(1 / 3));
  assert.deepEqual(fanInAndFanOut([16, 4, 3, 5]), { fanIn: 60, fanOut: 240 });
  manualSeed(4);
  tidy(() => {
    const w = empty([500, 300]);
    assertUniform(xavierUniform_(w, 2), 2 * Math.sqrt(6 / 800), 'xavierUniform_');
    assert.ok(Math.abs(stats(xavierNormal_(w)).std / Math.sqrt(2 / 800) - 1) < 0.02, 'xavierNormal_ std');
    assertUniform(
      kaimingUniform_(w, { nonlinearity: 'relu' }),
      (Math.sqrt(3) * Math.SQRT2) / Math.sqrt(300),
      'kaimingUniform_',
    );
    assert.ok(
      Math.abs(
        stats(kaimingNormal_(w, { mode: 'fanOut', nonlinearity: 'relu' })).std / (Math.SQRT2 / Math.sqrt(500)) - 1,
      ) < 0.02,
      'kaimingNormal_ std',
    );
  });
  assert.equal(memory().numTensors, before);
});
