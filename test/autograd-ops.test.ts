// Finite-difference gradient checks (float64) for every differentiable Tensor op of the engine:
// libtorch computes the analytic gradient through our boxed dispatch, gradcheck compares it with
// central differences. Inputs are drawn by a fixed JS generator and kept away from kinks
// (abs/relu at 0, clamp/hardtanh at their bounds) where the derivative is undefined.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gradcheck } from '../src/testing/gradcheck.js';
import { cat, hannWindow, memory, stack, tensor, tidy, type Tensor } from '../src/tensor/index.js';

// ---- inputs ----

/** Deterministic uniform(-1, 1) values (a 32-bit LCG), so failures reproduce exactly. */
function uniform(n: number, seed: number): Float64Array {
  let s = seed >>> 0;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = (s / 2 ** 32) * 2 - 1;
  }
  return out;
}

/** A float64 leaf with requiresGrad whose values are `map(uniform(-1, 1))`. */
function leaf(shape: readonly number[], seed: number, map: (v: number) => number = (v) => v): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return tensor(uniform(n, seed).map(map), shape, { requiresGrad: true });
}

// magnitudes in [0.3, 1.3], either sign: no kink of abs/relu/leakyRelu is within eps
const awayFromZero = (v: number): number => Math.sign(v || 1) * (0.3 + Math.abs(v));
// strictly positive values in [0.2, 2.2] for log, sqrt, div and pow bases
const positive = (v: number): number => 1.2 + v;

/** Run each check in tidy and prove that nothing leaked. */
function checks(name: string, body: () => void): void {
  test(name, () => {
    const before = memory().numTensors;
    tidy(body);
    assert.equal(memory().numTensors, before);
  });
}

// ---- elementwise ----

checks('binary arithmetic: add, sub, mul, div (with broadcasting and scalars)', () => {
  const a = leaf([3, 4], 1);
  const b = leaf([4], 2); // broadcast over rows: gradient must be summed back to [4]
  const c = leaf([3, 4], 3, positive);
  gradcheck((x, y) => x.add(y, 0.5), [a, b]);
  gradcheck((x, y) => x.sub(y, 2), [a, b]);
  gradcheck((x, y) => x.mul(y), [a, b]);
  gradcheck((x, y) => x.div(y), [a, c]);
  gradcheck((x) => x.add(3).sub(1).mul(-2).div(4), [a]);
});

checks('unary: neg, abs, exp, log, log1p, sqrt', () => {
  const x = leaf([2, 5], 4, awayFromZero);
  const p = leaf([2, 5], 5, positive);
  gradcheck((t) => t.neg(), [x]);
  gradcheck((t) => t.abs(), [x]);
  gradcheck((t) => t.exp(), [x]);
  gradcheck((t) => t.log(), [p]);
  gradcheck((t) => t.log1p(), [p]);
  gradcheck((t) => t.sqrt(), [p]);
});

checks('pow with a scalar and with a tensor exponent', () => {
  const base = leaf([3, 3], 6, positive);
  const expo = leaf([3, 3], 7);
  gradcheck((t) => t.pow(3), [base]);
  gradcheck((t) => t.pow(-0.5), [base]);
  gradcheck((b, e) => b.pow(e), [base, expo]); // d/db and d/de = b^e log b
});

checks('clamp, hardtanh: gradients pass inside the bounds and stop outside', () => {
  // values in ±[0.3, 1.3]; bounds at ±0.8 and ±1 are never within eps of an input below
  const x = leaf([4, 6], 8, (v) => {
    const a = awayFromZero(v);
    return Math.abs(Math.abs(a) - 0.8) < 0.05 || Math.abs(Math.abs(a) - 1) < 0.05 ? a + 0.12 : a;
  });
  gradcheck((t) => t.clamp(-0.8, 0.8), [x]);
  gradcheck((t) => t.clamp(null, 0.8), [x]);
  gradcheck((t) => t.clamp(-0.8), [x]);
  gradcheck((t) => t.hardtanh(), [x]);
  gradcheck((t) => t.hardtanh(-0.8, 0.8), [x]);
});

checks('activations: sigmoid, tanh, relu, leakyRelu, softplus', () => {
  const x = leaf([3, 5], 9, awayFromZero);
  gradcheck((t) => t.sigmoid(), [x]);
  gradcheck((t) => t.tanh(), [x]);
  gradcheck((t) => t.relu(), [x]);
  gradcheck((t) => t.leakyRelu(0.2), [x]);
  gradcheck((t) => t.softplus(), [x]);
  gradcheck((t) => t.softplus(2, 1), [x.mul(3).detach().requiresGrad_()]); // both sides of the threshold
});

// ---- reductions ----

checks('sum and mean: all elements, over dims, keepdim', () => {
  const x = leaf([2, 3, 4], 10);
  gradcheck((t) => t.sum(), [x]);
  gradcheck((t) => t.sum(1), [x]);
  gradcheck((t) => t.sum([0, 2], true), [x]);
  gradcheck((t) => t.mean(), [x]);
  gradcheck((t) => t.mean(-1, true), [x]);
});

checks('max along a dim routes the gradient to the arg-max', () => {
  const x = leaf([3, 5], 11); // distinct values: no ties
  gradcheck((t) => t.max(1).values, [x]);
  gradcheck((t) => t.max(0, true).values, [x]);
});

checks('var (unbiased and biased) and logsumexp', () => {
  const x = leaf([3, 6], 12);
  gradcheck((t) => t.var(), [x]);
  gradcheck((t) => t.var(1), [x]);
  gradcheck((t) => t.var(0, { unbiased: false, keepdim: true }), [x]);
  gradcheck((t) => t.logsumexp(1), [x]);
  gradcheck((t) => t.logsumexp([0, 1], true), [x.mul(30).detach().requiresGrad_()]); // large values: the stable path
});

// ---- linear algebra ----

checks('matmul: matrix-matrix, matrix-vector, batched with broadcast', () => {
  const a = leaf([3, 4], 13);
  const b = leaf([4, 2], 14);
  const v = leaf([4], 15);
  const batch = leaf([2, 3, 4], 16);
  gradcheck((x, y) => x.matmul(y), [a, b]);
  gradcheck((x, y) => x.matmul(y), [a, v]);
  gradcheck((x, y) => x.matmul(y), [batch, b]);
});

// ---- shape ----

checks('reshape, permute, transpose', () => {
  const x = leaf([2, 3, 4], 17);
  const weights = leaf([4, 2, 3], 18).detach(); // a non-symmetric use of the permuted layout
  gradcheck((t) => t.reshape([6, 4]), [x]);
  gradcheck((t) => t.reshape([-1]), [x]);
  gradcheck((t) => t.permute([2, 0, 1]).mul(weights), [x]);
  gradcheck((t) => t.transpose(0, 2), [x]);
});

checks('narrow and slice (with a step) give gradients only to the selected elements', () => {
  const x = leaf([4, 6], 19);
  gradcheck((t) => t.narrow(1, 2, 3), [x]);
  gradcheck((t) => t.slice(0, 1, 4, 2), [x]);
  gradcheck((t) => t.slice(1, 3), [x]);
});

checks('cat and stack split the gradient back to each input', () => {
  const a = leaf([2, 3], 20);
  const b = leaf([1, 3], 21);
  const c = leaf([2, 3], 22);
  gradcheck((x, y) => cat([x, y], 0), [a, b]);
  gradcheck((x, y) => cat([x, y, x], 0).mul(2), [a, b]); // an input used twice accumulates
  gradcheck((x, y) => stack([x, y], 1), [a, c]);
});

checks('squeeze, unsqueeze and expand (expand sums the gradient over the broadcast dims)', () => {
  const x = leaf([3, 1, 2], 23);
  gradcheck((t) => t.squeeze(), [x]);
  gradcheck((t) => t.squeeze(1), [x]);
  gradcheck((t) => t.unsqueeze(0), [x]);
  gradcheck((t) => t.expand([4, 3, 5, 2]), [x]);
});

checks('pad: constant and reflect', () => {
  const x = leaf([2, 3, 5], 24);
  gradcheck((t) => t.pad([1, 2]), [x]);
  gradcheck((t) => t.pad([2, 1, 0, 1], 'constant', 0.5), [x]);
  gradcheck((t) => t.pad([3, 2], 'reflect'), [x]); // reflected elements receive two gradients
  gradcheck((t) => t.unsqueeze(0).pad([2, 2, 1, 1], 'reflect'), [x]);
});

checks('indexSelect and gather (repeated indices accumulate)', () => {
  const x = leaf([4, 5], 25);
  const idx = tensor([3, 0, 3, 1], [4], { dtype: 'int64' });
  const gidx = tensor([0, 4, 4, 1, 2, 2, 3, 0], [4, 2], { dtype: 'int64' });
  gradcheck((t) => t.indexSelect(0, idx), [x]);
  gradcheck((t) => t.indexSelect(1, idx), [x]);
  gradcheck((t) => t.gather(1, gidx), [x]);
});

// ---- spectral ----

checks('stft: real pairs and magnitude, centred with reflect padding and a Hann window', () => {
  const signal = leaf([2, 48], 26);
  const window = hannWindow(16, true, { dtype: 'float64' });
  const spec = (t: Tensor): Tensor => t.stft(16, { hopLength: 4, window }); // [2, 9, 13, 2]
  gradcheck(spec, [signal]);
  gradcheck((t) => spec(t).pow(2).sum(-1).add(1e-3).sqrt(), [signal]);
  gradcheck((t) => t.stft(8, { hopLength: 3, center: false }), [leaf([40], 27)]); // rectangular, uncentred
});

checks('istft of arbitrary real-pair spectra', () => {
  const window = hannWindow(16, true, { dtype: 'float64' });
  const spec = leaf([9, 7, 2], 28); // (freq = 16/2 + 1, frames, re/im)
  gradcheck((t) => t.istft(16, { hopLength: 4, window }), [spec]);
  gradcheck((t) => t.istft(16, { hopLength: 4, window, length: 20 }), [spec]);
});

// ---- the checker itself must be able to fail ----

test('gradcheck rejects a wrong gradient', () => {
  tidy(() => {
    const x = leaf([5], 29, positive);
    // exp(x) computed as exp(detached x) * x / detached x: the right value but the gradient of x * c
    const wrong = (t: Tensor): Tensor => t.detach().exp().mul(t).div(t.detach());
    assert.throws(() => gradcheck(wrong, [x]), /gradcheck: input 0 element \d+: analytic/);
  });
});
