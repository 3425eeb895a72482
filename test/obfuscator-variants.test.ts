// The obfuscator's opt-in variants of issue 14, item 5 (off by default): L_t on T's decision only ('hard') and
// the bounded distance between F_μ's reconstruction and X as L_p ('reconstruction'), against hand values,
// where their gradients go, and the config's errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { manualSeed, memory, noGrad, randn, tensor, tidy } from '../src/tensor/index.js';
import { CycleGanVc2Generator } from '../src/models/cyclegan-vc2.js';
import { DeepSpeech2 } from '../src/models/deepspeech2.js';
import { lossP, lossPRecon, lossT, lossTHard } from '../src/methods/losses.js';
import { obfuscatorObjective, resolveObfuscatorTrainConfig } from '../src/methods/obfuscator.js';
import { tinyDs2, tinyGen } from './toy-obfuscator.js';

test("the 'hard' L_t is the cross-entropy of every step against the crop's decision on clean input", () => {
  tidy(() => {
    // one crop, two steps, two classes: step 0 favours class 0 strongly, step 1 class 1 weakly, so the mean
    // posterior (and the decision) is class 0 for both steps
    const clean = tensor([3, 0, 0, 0.5], [1, 2, 2]);
    const obf = tensor([0, 1, 1, 1], [1, 2, 2]);
    const logSm0 = (v: [number, number]): number => v[0] - Math.log(Math.exp(v[0]) + Math.exp(v[1]));
    const want = -(logSm0([0, 1]) + logSm0([1, 1])) / 2;
    assert.ok(Math.abs(lossTHard(obf, clean).item() - want) < 1e-6);
    // it differs from the soft L_t, which keeps step 1's leaning to class 1
    assert.ok(Math.abs(lossT(obf, clean).item() - want) > 1e-3);
    const cl = clean.clone().requiresGrad_();
    const ob = obf.clone().requiresGrad_();
    lossTHard(ob, cl).backward();
    assert.equal(cl.grad, null);
    assert.notEqual(ob.grad, null);
  });
});

test("the 'reconstruction' L_p is the paper's D between F_μ(X̃) and X", () => {
  tidy(() => {
    const r = randn([2, 5, 8]);
    const x = randn([2, 5, 8]);
    assert.equal(lossPRecon(r, x).item(), lossP(r, x).item());
    assert.ok(Math.abs(lossPRecon(tensor([3, 3]), tensor([1, 1])).item() - 0.3807970779778823) < 1e-6);
  });
});

test('each variant changes the objective and still sends gradients to the obfuscator only', () => {
  const before = memory().numTensors;
  manualSeed(1);
  const target = new DeepSpeech2(tinyDs2).freeze();
  const obf = new CycleGanVc2Generator(tinyGen);
  const deobf = new CycleGanVc2Generator(tinyGen).requiresGrad_(false);
  const x = randn([2, 161, 16]);
  const base = { lambdaT: 1, lambdaP: 1, latentStage: 'conv2dto1d' } as const;
  const values = new Map<string, [number, number]>();
  for (const v of [
    {},
    { targetLoss: 'hard' },
    { privacyLoss: 'reconstruction' },
    { targetLoss: 'soft', privacyLoss: 'latent' },
  ] as const) {
    tidy(() => obf.parameters().forEach((p) => p.grad?.zero_()));
    tidy(() => {
      const { ls, lt, lp } = obfuscatorObjective(target, obf, deobf, x, { ...base, ...v });
      ls.backward();
      values.set(JSON.stringify(v), [lt.item(), lp.item()]);
    });
    assert.ok(
      obf.parameters().some((p) => tidy(() => p.grad !== null && p.grad.abs().sum().item() > 0)),
      `${JSON.stringify(v)}: the obfuscator has gradients`,
    );
    assert.ok(
      deobf.parameters().every((p) => p.grad === null),
      `${JSON.stringify(v)}: no deobfuscator gradient`,
    );
    assert.ok(
      target.parameters().every((p) => p.grad === null),
      `${JSON.stringify(v)}: no target gradient`,
    );
  }
  const [lt0, lp0] = values.get('{}')!;
  assert.notEqual(values.get('{"targetLoss":"hard"}')![0], lt0, "the 'hard' L_t differs from the soft one");
  assert.equal(values.get('{"targetLoss":"hard"}')![1], lp0);
  assert.notEqual(values.get('{"privacyLoss":"reconstruction"}')![1], lp0, "the 'reconstruction' L_p differs");
  // the explicit defaults are the paper's objective
  assert.deepEqual(values.get('{"targetLoss":"soft","privacyLoss":"latent"}'), [lt0, lp0]);
  // the reconstruction L_p by hand: D(F_μ(X̃), X)
  tidy(() => {
    const want = noGrad(() => lossP(deobf.forward(obf.forward(x)), x).item());
    assert.ok(Math.abs(values.get('{"privacyLoss":"reconstruction"}')![1] - want) < 1e-6);
  });
  for (const m of [target, obf, deobf]) m.dispose();
  x.dispose();
  assert.equal(memory().numTensors, before);
});

test('the variants are validated, and unset they stay out of the config (older checkpoints stay valid)', () => {
  assert.throws(() => resolveObfuscatorTrainConfig({ targetLoss: 'argmax' }), /targetLoss.*'soft' or 'hard'/);
  assert.throws(
    () => resolveObfuscatorTrainConfig({ privacyLoss: 'mse' }),
    /privacyLoss.*'latent' or 'reconstruction'/,
  );
  const c = resolveObfuscatorTrainConfig({});
  assert.equal(c.targetLoss, undefined);
  assert.equal(c.privacyLoss, undefined);
  assert.ok(!('targetLoss' in JSON.parse(JSON.stringify(c))));
});
