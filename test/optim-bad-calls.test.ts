// Bad calls into src/optim raise TypeError/RangeError naming the argument, as torch's ValueErrors do.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Adam, AdamW, clipGradNorm_, clipGradValue_, ReduceLROnPlateau, SGD, StepLR } from '../src/optim/index.js';
import { memory, tidy, zeros, type Tensor } from '../src/tensor/index.js';

const bad = (name: 'TypeError' | 'RangeError', message: RegExp) => ({ name, message });

test('optimiser constructors reject bad hyperparameters, naming them', () => {
  const before = memory().numTensors;
  tidy(() => {
    const w = zeros([2], { requiresGrad: true });
    assert.throws(() => new SGD([w], { lr: -1 }), bad('RangeError', /'options\.lr' must be >= 0, got -1/));
    assert.throws(() => new SGD([w], {} as { lr: number }), bad('TypeError', /'lr' is required/));
    assert.throws(() => new SGD([w], { lr: 0.1, momentum: -0.5 }), bad('RangeError', /'options\.momentum'/));
    assert.throws(() => new SGD([w], { lr: 0.1, weightDecay: -1 }), bad('RangeError', /'options\.weightDecay'/));
    assert.throws(
      () => new SGD([w], { lr: 0.1, nesterov: true }),
      bad('RangeError', /'options\.nesterov' needs 'momentum' > 0/),
    );
    assert.throws(
      () => new SGD([w], { lr: 0.1, momentum: 0.9, dampening: 0.1, nesterov: true }),
      bad('RangeError', /dampening 0\.1/),
    );
    assert.throws(() => new SGD([w], { lr: Number.NaN }), bad('TypeError', /'options\.lr' must be a finite number/));
    assert.throws(
      () => new SGD([w], { lr: 0.1, nesterov: 'yes' as unknown as boolean }),
      bad('TypeError', /'options\.nesterov' must be true or false/),
    );
    assert.throws(
      () => new Adam([w], { betas: [1, 0.999] }),
      bad('RangeError', /'options\.betas\[0\]' must be in \[0, 1\), got 1/),
    );
    assert.throws(() => new Adam([w], { betas: [0.9, -0.1] }), bad('RangeError', /'options\.betas\[1\]'/));
    assert.throws(() => new Adam([w], { eps: -1e-8 }), bad('RangeError', /'options\.eps'/));
    assert.throws(() => new AdamW([w], { weightDecay: -0.01 }), bad('RangeError', /'options\.weightDecay'/));
    assert.throws(
      () => new Adam([w], { momentum: 0.9 } as unknown as { lr: number }),
      bad('TypeError', /unknown key 'momentum'/),
    );
  });
  assert.equal(memory().numTensors, before);
});

test('parameter lists: empty, not tensors, duplicated, or groups with bad options', () => {
  tidy(() => {
    const w = zeros([2], { requiresGrad: true });
    const b = zeros([1], { requiresGrad: true });
    assert.throws(() => new SGD([], { lr: 0.1 }), bad('RangeError', /'params' is an empty list/));
    assert.throws(() => new Adam(w as unknown as Tensor[]), bad('TypeError', /'params' must be an array/));
    assert.throws(() => new Adam([{ params: [] }]), bad('RangeError', /'paramGroups\[0\]\.params' is an empty list/));
    assert.throws(
      () => new Adam([w, 3 as unknown as Tensor]),
      bad('TypeError', /'paramGroups\[0\]\.params\[1\]' must be a Tensor/),
    );
    assert.throws(
      () => new Adam([{ params: [w] }, { params: [b, w] }]),
      bad('RangeError', /'paramGroups\[1\]\.params\[1\]' already appears/),
    );
    assert.throws(
      () => new Adam([{ params: [w] }, { params: [b], lr: -2 }]),
      bad('RangeError', /'paramGroups\[1\]\.lr' must be >= 0/),
    );
    assert.throws(
      () => new Adam([{ params: [w], gamma: 2 } as unknown as { params: Tensor[] }]),
      bad('TypeError', /'paramGroups\[0\]' has unknown option 'gamma'/),
    );
    // per-group overrides fall back to the defaults; undefined keeps a default
    const opt = new SGD([{ params: [w] }, { params: [b], lr: 0.5, momentum: undefined }], { lr: 0.1, momentum: 0.9 });
    assert.deepEqual(
      opt.paramGroups.map((g) => [g.lr, g.momentum]),
      [
        [0.1, 0.9],
        [0.5, 0.9],
      ],
    );
    assert.equal(new AdamW([w], { weightDecay: undefined }).paramGroups[0]!.weightDecay, 0.01);
  });
});

test('clipping and schedules reject bad arguments, naming them', () => {
  tidy(() => {
    const w = zeros([2], { requiresGrad: true });
    const opt = new SGD([w], { lr: 0.1 });
    assert.throws(() => clipGradNorm_([w], -1), bad('RangeError', /'maxNorm' must be a number >= 0, got -1/));
    assert.throws(() => clipGradNorm_([w], 1, 0), bad('RangeError', /'normType'/));
    assert.throws(
      () => clipGradNorm_([3 as unknown as Tensor], 1),
      bad('TypeError', /'parameters\[0\]' must be a Tensor/),
    );
    assert.throws(() => clipGradValue_([w], -0.5), bad('RangeError', /'clipValue'/));
    assert.throws(() => new StepLR(opt, { stepSize: 0 }), bad('RangeError', /'stepSize' must be an integer >= 1/));
    assert.throws(() => new StepLR(opt, { stepSize: 2, gamma: -1 }), bad('RangeError', /'gamma'/));
    assert.throws(() => new StepLR({} as SGD, { stepSize: 2 }), bad('TypeError', /'optimizer'/));
    assert.throws(
      () => new ReduceLROnPlateau(opt, { factor: 1 }),
      bad('RangeError', /'factor' must be in \[0, 1\), got 1/),
    );
    assert.throws(
      () => new ReduceLROnPlateau(opt, { mode: 'median' as 'min' }),
      bad('RangeError', /'mode' must be 'min' or 'max'/),
    );
    assert.throws(
      () => new ReduceLROnPlateau(opt, { thresholdMode: 'pct' as 'rel' }),
      bad('RangeError', /'thresholdMode'/),
    );
    assert.throws(
      () => new ReduceLROnPlateau(opt, { patience: 1.5 }),
      bad('RangeError', /'patience' must be an integer >= 0/),
    );
    assert.throws(
      () => new ReduceLROnPlateau(opt, { minLr: [0, 0] }),
      bad('RangeError', /'minLr' has 2 entries but the optimiser has 1/),
    );
    assert.throws(
      () => new ReduceLROnPlateau(opt).step(w as unknown as number),
      bad('TypeError', /'metric' must be a number/),
    );
    w.setGrad(zeros([2]).add(Number.NaN));
    assert.throws(
      () => clipGradNorm_([w], 1, 2, { errorIfNonfinite: true }),
      bad('RangeError', /total norm of order 2 is NaN/),
    );
  });
});
