import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SpeechMlp } from '../../models/sed-cnn.js';
import { gradReverse } from '../../nn/index.js';
import { SGD } from '../../optim/index.js';
import { memory, randn, tensor, tidy } from '../../tensor/index.js';
import { Rng } from '../../util/rng.js';
import { alphaSchedule, replaceAdversary, resolveRdalConfig, trainAttacker } from './index.js';

test('gradient reversal: forward is the identity, backward is −α times the gradient', () => {
  const before = memory().numTensors;
  tidy(() => {
    const x = tensor([1, -2, 3, 0.5], [2, 2]).requiresGrad_(true);
    const w = tensor([0.3, -1, 2, 4], [2, 2]);
    const y = gradReverse(x, 0.7);
    assert.deepEqual(Array.from(y.toFloat32Array()), Array.from(x.toFloat32Array()));
    y.mul(w).sum().backward(); // d/dx of sum(x·w) is w; reversed: −0.7·w
    const g = x.grad!.toFloat32Array();
    Array.from(w.toFloat32Array()).forEach((wi, i) =>
      assert.ok(Math.abs(g[i]! - -0.7 * wi) < 1e-6, `grad[${i}] = ${g[i]}`),
    );
  });
  assert.equal(memory().numTensors, before);
});

test('SpeechMlp with GRL: same output as without, input gradient scaled by −α', () => {
  const before = memory().numTensors;
  tidy(() => {
    const d = new SpeechMlp(16, { grl: true });
    const plain = new SpeechMlp(16);
    plain.loadStateDict(d.stateDict()); // same keys: D^τ loads into D and back
    d.eval();
    plain.eval();
    d.alpha = 0.37;
    const z1 = randn([5, 16]).requiresGrad_(true);
    const z2 = z1.detach().clone().requiresGrad_(true);
    const a = d.forward(z1);
    const b = plain.forward(z2);
    assert.deepEqual(Array.from(a.toFloat32Array()), Array.from(b.toFloat32Array()));
    a.sum().backward();
    b.sum().backward();
    const g1 = z1.grad!.toFloat32Array();
    const g2 = z2.grad!.toFloat32Array();
    g2.forEach((v, i) => assert.ok(Math.abs(g1[i]! - -0.37 * v) < 1e-6));
    d.dispose();
    plain.dispose();
  });
  assert.equal(memory().numTensors, before);
});

test('α schedule: the reference values at epochs 0, 30, 100, 294 (5000 epochs, 30 zeros, γ 100)', () => {
  // numpy: calculate_grl(5000, 30, 100) from lndip/RDAL utils.py
  const a = alphaSchedule(5000, 30, 100);
  assert.equal(a.length, 5000);
  assert.equal(a[0], 0);
  assert.equal(a[29], 0);
  assert.equal(a[30], 0);
  assert.ok(Math.abs(a[31]! - 0.010062047200887214) < 1e-12);
  assert.ok(Math.abs(a[100]! - 0.6071324187157452) < 1e-12);
  assert.ok(Math.abs(a[200]! - 0.936721822089309) < 1e-12);
  assert.ok(Math.abs(a[294]! - 0.9901934854733134) < 1e-12);
  assert.ok(a[293]! < 0.99 && a[294]! >= 0.99); // the first epoch that may be selected
});

test("weight replacement copies the fresh classifier exactly; reset drops only D's momentum", () => {
  const before = memory().numTensors;
  const other = new SpeechMlp(8); // stands in for F and C in the optimiser
  const d = new SpeechMlp(8, { grl: true });
  const fresh = new SpeechMlp(8);
  const params = [...other.parameters(), ...d.parameters()];
  const opt = new SGD(params, { lr: 0.1, momentum: 0.9 });
  tidy(() => {
    const z = randn([4, 8]);
    other.forward(z).sum().add(d.forward(z).sum()).backward();
  });
  opt.step(); // creates a momentum buffer for every parameter
  replaceAdversary(d, fresh, opt, other.parameters().length, 'keep');
  for (const [k, t] of fresh.stateDict()) {
    assert.deepEqual(
      Buffer.from(d.stateDict().get(k)!.toFloat32Array().buffer),
      Buffer.from(t.toFloat32Array().buffer),
      k,
    );
  }
  assert.equal(opt.stateDict().tensors.size, params.length);
  replaceAdversary(d, fresh, opt, other.parameters().length, 'reset');
  const kept = [...opt.stateDict().tensors.keys()].map((k) => Number(k.split('.')[0]));
  assert.deepEqual(
    kept.sort((a, b) => a - b),
    other.parameters().map((_, i) => i),
  );
  opt.dispose();
  other.dispose();
  d.dispose();
  fresh.dispose();
  assert.equal(memory().numTensors, before);
});

test('trainAttacker: learns a separable latent, keeps its best validation state', () => {
  const before = memory().numTensors;
  const rng = new Rng(3);
  const make = (n: number): { z: Float32Array; y: number[] } => {
    const y = Array.from({ length: n }, (_, i) => i % 2);
    const z = Float32Array.from(
      { length: n * 8 },
      (_, j) => (j % 8 === 0 ? (y[Math.floor(j / 8)]! ? 2 : -2) : 0) + rng.uniform(-0.5, 0.5),
    );
    return { z, y };
  };
  const r = trainAttacker(
    make(64),
    make(32),
    8,
    { lr: 0.05, momentum: 0.9, maxEpochs: 200, patience: 20, batchSize: 16 },
    new Rng(1),
  );
  assert.ok(r.bestValBce < 0.2, `best val BCE ${r.bestValBce}`);
  assert.ok(r.bestEpoch >= 0 && r.epochs > r.bestEpoch);
  assert.equal(r.model.training, false);
  r.model.dispose();
  assert.equal(memory().numTensors, before);
});

test('resolveRdalConfig refuses unknown keys and bad values, naming them', () => {
  assert.throws(() => resolveRdalConfig({ train: { perod: 5 } }), /unknown key 'perod'/);
  assert.throws(() => resolveRdalConfig({ train: { momentumAfterReplace: 'forget' } }), /momentumAfterReplace/);
  assert.throws(() => resolveRdalConfig({ model: { channels: [8, 8] } }), /model\.channels/);
});
