import { test } from 'node:test';
import assert from 'node:assert/strict';
import { memory, tensor, tidy } from '../tensor/index.js';
import { Adr } from '../models/adr.js';
import { adrTransform, autoencoderLoss, cosineLoss, resolveAdrTrainConfig, trainAdr } from './adr.js';

/** Unit-norm synthetic "x-vectors": speaker centres + a gender direction (±1.5) + noise, 8 speakers × 32. */
function synthetic(dim = 64): { x: Float32Array[]; y: number[] } {
  let s = 7;
  const u = (): number => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s + 0.5) / 4294967296;
  };
  const g = (): number => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
  const centres = Array.from({ length: 8 }, () => Float64Array.from({ length: dim }, g));
  const gdir = Float64Array.from({ length: dim }, g);
  const x: Float32Array[] = [];
  const y: number[] = [];
  for (let k = 0; k < 8; k++) {
    for (let j = 0; j < 32; j++) {
      const v = Float64Array.from(
        { length: dim },
        (_, i) => centres[k]![i]! + (k % 2 ? 1.5 : -1.5) * gdir[i]! + 0.5 * g(),
      );
      const n = Math.hypot(...v);
      x.push(Float32Array.from(v, (t) => t / n));
      y.push(k % 2);
    }
  }
  return { x, y };
}

test('losses: 1 − cos is 0 for identical rows and 2 for opposite; L_AE adds BCE(1 − D(z), y)', () => {
  const before = memory().numTensors;
  tidy(() => {
    const a = tensor(
      [
        [1, 0],
        [0, 2],
      ],
      [2, 2],
    );
    assert.ok(Math.abs(cosineLoss(a, a).item()) < 1e-7);
    assert.ok(Math.abs(cosineLoss(a, a.neg()).item() - 2) < 1e-6);
    // adversary logit 0 → D = 0.5 → BCE(0.5, y) = ln 2
    const l = autoencoderLoss(a, a, tensor([0, 0], [2]), tensor([1, 0], [2])).item();
    assert.ok(Math.abs(l - Math.LN2) < 1e-6);
    // confident and right (logit +5 for y = 1) is penalised: the encoder wants the wrong attribute
    assert.ok(autoencoderLoss(a, a, tensor([5], [1]).expand([2]), tensor([1, 1], [2])).item() > 4.9);
  });
  assert.equal(memory().numTensors, before);
});

test('ADR on a tiny run: the adversary learns gender, then falls to chance on the code, while cos(x̂, x) stays high', () => {
  const before = memory().numTensors;
  const { x, y } = synthetic();
  const r = trainAdr({
    x,
    y,
    modelConfig: { codeDim: 32, adversaryHidden: 32 },
    config: resolveAdrTrainConfig({ preEpochs: 10, preLr: 0.05, epochs: 300, lr: 1e-3, batchSize: 32, seed: 1 }),
  });
  assert.ok(r.preHistory.at(-1)! < 0.1, `pre-discriminator BCE ${r.preHistory.at(-1)}`);
  const early = Math.max(...r.history.slice(0, 60).map((e) => e.adversaryAcc));
  assert.ok(early >= 0.9, `the adversary should first find gender in the code (max acc ${early})`);
  const last = r.history.slice(-40);
  const mean = (k: 'adversaryLoss' | 'adversaryAcc' | 'cosine'): number =>
    last.reduce((s, e) => s + e[k], 0) / last.length;
  assert.ok(
    Math.abs(mean('adversaryLoss') - Math.LN2) < 0.15,
    `adversary BCE ${mean('adversaryLoss')} vs chance ${Math.LN2}`,
  );
  assert.ok(mean('adversaryAcc') > 0.3 && mean('adversaryAcc') < 0.7, `adversary accuracy ${mean('adversaryAcc')}`);
  assert.ok(mean('cosine') > 0.8, `cos(x̂, x) ${mean('cosine')}`);

  // inference: unit-norm outputs, random w reproducible for a seed and different across seeds
  const a = adrTransform(r.model, x.slice(0, 10), { seed: 3 });
  const b = adrTransform(r.model, x.slice(0, 10), { seed: 3 });
  const c = adrTransform(r.model, x.slice(0, 10), { seed: 4 });
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
  for (const v of a) assert.ok(Math.abs(Math.hypot(...v) - 1) < 1e-5);
  assert.equal(a[0]!.length, 64);
  r.model.dispose();
  assert.equal(memory().numTensors, before);
});

test('ADR refuses labels that are not 0/1 and mismatched lengths, naming the argument', () => {
  assert.throws(() => trainAdr({ x: [new Float32Array(4)], y: [2], config: resolveAdrTrainConfig({}) }), /'y'/);
  assert.throws(
    () => trainAdr({ x: [new Float32Array(4)], y: [0, 1], config: resolveAdrTrainConfig({}) }),
    /'x' has 1/,
  );
  const m = new Adr();
  assert.deepEqual(m.stateDict().has('encoder.bn.running_mean'), true);
  assert.equal(m.numParameters(), 513 + (512 * 128 + 128 + 256) + (129 * 512 + 512) + (128 * 128 + 128 + 129));
  m.dispose();
});
