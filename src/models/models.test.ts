// Model shapes and parameter counts against the spec's tables (seed 000 §5, §6).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { memory, noGrad, randn, tensor, tidy } from '../tensor/index.js';
import { CycleGanVc2Generator, cycleGanVc2ParamCount, resolveCycleGanVc2Config } from './cyclegan-vc2.js';
import { DeepSpeech2, ds2OutputSteps, resolveDeepSpeech2Config, voteCount } from './deepspeech2.js';

test('CycleGAN-VC2 parameter counts match the spec table', () => {
  const cases: [number, number, number, number][] = [
    [256, 6, 36, 23_068_289],
    [128, 6, 161, 6_844_225],
    [32, 3, 161, 379_441],
    [16, 3, 161, 97_305],
    [46, 3, 161, 777_930],
  ];
  for (const [c, r, h, want] of cases) {
    const g = new CycleGanVc2Generator(resolveCycleGanVc2Config({ nFreq: h, channels: c, residualBlocks: r }));
    assert.equal(g.numParameters(), want, `C=${c} R=${r} H=${h}`);
    assert.equal(cycleGanVc2ParamCount(c, r, g.latentFreq), want);
    g.dispose();
  }
});

test('the generator maps (B, 161, T) to the same shape for T = 128, 100 and an odd length', () => {
  const before = memory().numTensors;
  const g = new CycleGanVc2Generator(resolveCycleGanVc2Config({ channels: 8, residualBlocks: 1 }));
  noGrad(() =>
    tidy(() => {
      for (const t of [128, 100, 37]) assert.deepEqual(g.forward(randn([2, 161, t])).shape, [2, 161, t]);
      assert.deepEqual(g.latent(randn([2, 161, 128])).shape, [2, 8, 32]);
      assert.deepEqual(g.latent(randn([2, 161, 128]), 'down2').shape, [2, 8, 41, 32]);
      assert.deepEqual(g.latent(randn([2, 161, 128]), 'residual1').shape, [2, 8, 32]);
      assert.throws(() => g.latent(randn([1, 161, 8]), 'residual5'), /residual1/);
      assert.throws(() => g.forward(randn([1, 160, 8])), /\(B, 161, T\)/);
    }),
  );
  g.dispose();
  assert.equal(memory().numTensors, before);
});

test('DeepSpeech2 parameter counts match the spec (LSTM: 703,120 for K=2; 1,086,608 for K=5,994) and its output is per step', () => {
  for (const [k, want] of [
    [2, 703_120],
    [5994, 1_086_608],
  ] as const) {
    const m = new DeepSpeech2(resolveDeepSpeech2Config({ numClasses: k }));
    assert.equal(m.numParameters(), want);
    m.dispose();
  }
  const m = new DeepSpeech2(resolveDeepSpeech2Config({ numClasses: 3, rnnLayers: 2, hiddenSize: 16, convChannels: 4 }));
  noGrad(() => tidy(() => assert.deepEqual(m.eval().forward(randn([2, 161, 101])).shape, [2, ds2OutputSteps(101), 3])));
  assert.equal(ds2OutputSteps(101), 51);
  m.dispose();
});

test('config resolution rejects unknown keys and wrong types, naming them', () => {
  assert.throws(() => resolveDeepSpeech2Config({ hidden: 3 }), /unknown key 'hidden'/);
  assert.throws(() => resolveDeepSpeech2Config({ hiddenSize: '64' }), /'hiddenSize' must be a number/);
  assert.throws(() => resolveCycleGanVc2Config({ channels: 15 }), /'channels' must be even/);
});

test('vote counting takes the most frequent step decision and breaks ties by summed probability', () => {
  tidy(() => {
    // utterance 0: steps vote 1, 1, 0 → class 1. utterance 1: votes 0, 2, 1 (a three-way tie); the summed
    // probabilities are ≈ 0.74 (class 0), 0.58 (class 1) and 1.69 (class 2) → class 2
    const logits = tensor([0, 1, 0, /**/ 0, 2, 0, /**/ 3, 0, 0, 5, 0, 4.9, /**/ 0, 0, 9, /**/ 0, 1, 0], [2, 3, 3]);
    assert.deepEqual(voteCount(logits), [1, 2]);
  });
});
