// The opt-in obfuscator's method (seed 000): losses against hand-computed values, the frozen target,
// where gradients go, and resuming a run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { manualSeed, memory, noGrad, randn, tensor, tidy } from '../src/tensor/index.js';
import { CycleGanVc2Generator } from '../src/models/cyclegan-vc2.js';
import { DeepSpeech2 } from '../src/models/deepspeech2.js';
import { lossP, lossT } from '../src/methods/losses.js';
import {
  obfuscatorObjective,
  resolveObfuscatorTrainConfig,
  trainObfuscator,
  warmUpObfuscator,
} from '../src/methods/obfuscator.js';
import type { LabelledSet } from '../src/data/spec-set.js';
import { toySet, tinyDs2, tinyGen } from './toy-obfuscator.js';

test('L_p equals the identity D = 0.5·|tanh(Δ/2)|, is 0 for equal latents and is bounded by 0.5', () => {
  tidy(() => {
    const a = randn([2, 4, 8]).mul(3);
    const b = randn([2, 4, 8]);
    const viaTanh = a.sub(b).mul(0.5).tanh().abs().mul(0.5).mean().item();
    assert.ok(Math.abs(lossP(a, b).item() - viaTanh) < 1e-6);
    assert.equal(lossP(a, a).item(), 0);
    assert.ok(lossP(a, b).item() < 0.5);
    // σ saturates to exactly 1 in float32 for huge differences, so the float bound is ≤ 0.5
    assert.ok(lossP(a.mul(100), b.mul(-100)).item() <= 0.5);
    // hand value: Δ = 2 everywhere → |σ(2) − 0.5| = 0.3807970779778823
    assert.ok(Math.abs(lossP(tensor([3, 3]), tensor([1, 1])).item() - 0.3807970779778823) < 1e-6);
  });
});

test('L_t is the soft-target cross-entropy mean over steps of −Σ p(X) log q(X̃)', () => {
  tidy(() => {
    // one utterance, two steps, two classes
    const clean = tensor([2, 0, 0, 1], [1, 2, 2]);
    const obf = tensor([0, 1, 1, 1], [1, 2, 2]);
    const sm = (v: number[]): number[] => {
      const e = v.map(Math.exp);
      const s = e[0]! + e[1]!;
      return e.map((x) => x / s);
    };
    let want = 0;
    for (const [c, o] of [
      [
        [2, 0],
        [0, 1],
      ],
      [
        [0, 1],
        [1, 1],
      ],
    ] as const) {
      const p = sm([...c]);
      const q = sm([...o]);
      want += -(p[0]! * Math.log(q[0]!) + p[1]! * Math.log(q[1]!));
    }
    assert.ok(Math.abs(lossT(obf, clean).item() - want / 2) < 1e-6);
    // no gradient flows into the clean side
    const cl = clean.clone().requiresGrad_();
    const ob = obf.clone().requiresGrad_();
    lossT(ob, cl).backward();
    assert.equal(cl.grad, null);
    assert.notEqual(ob.grad, null);
  });
});

test('the obfuscator objective sends gradients to the obfuscator only', () => {
  const before = memory().numTensors;
  manualSeed(1);
  const target = new DeepSpeech2(tinyDs2).freeze();
  const obf = new CycleGanVc2Generator(tinyGen);
  const deobf = new CycleGanVc2Generator(tinyGen).requiresGrad_(false);
  tidy(() => {
    const { ls } = obfuscatorObjective(target, obf, deobf, randn([2, 161, 16]), {
      lambdaT: 1,
      lambdaP: 1,
      latentStage: 'conv2dto1d',
    });
    ls.backward();
  });
  assert.ok(
    obf.parameters().every((p) => tidy(() => p.grad !== null && p.grad.abs().sum().item() > 0)),
    'every obfuscator parameter has a gradient',
  );
  assert.ok(
    deobf.parameters().every((p) => p.grad === null),
    'no deobfuscator gradient',
  );
  assert.ok(
    target.parameters().every((p) => p.grad === null),
    'no target gradient',
  );
  for (const m of [target, obf, deobf]) m.dispose();
  assert.equal(memory().numTensors, before);
});

/** trainObfuscator's options for the toy runs below: tiny T, F_σ and F_μ, quiet. */
const trainOptions = (target: DeepSpeech2, data: LabelledSet) => ({
  target,
  obfuscatorConfig: tinyGen,
  deobfuscatorConfig: tinyGen,
  train: data.set,
  val: data,
  quiet: true,
});

test('training leaves the frozen target bit-identical, frees its temporaries, and resuming repeats the same run', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'earmark-obf-'));
  try {
    manualSeed(2);
    const target = new DeepSpeech2(tinyDs2);
    const snapshot = target.parameters().map((p) => p.toFloat32Array());
    const data = toySet(6, 24);
    const cfg = (epochs: number) => resolveObfuscatorTrainConfig({ epochs, batchSize: 3, cropFrames: 16, seed: 5 });
    const base = trainOptions(target, data);
    const before = memory().numTensors;

    manualSeed(3);
    const straight = await trainObfuscator({ ...base, config: cfg(2) });
    const own = straight.obfuscator.stateDict().size + straight.deobfuscator.stateDict().size;
    assert.equal(memory().numTensors - before, own, 'only the returned models stay alive');
    assert.equal(straight.history.length, 2);
    // the returned networks are those of the epoch with the best validation T accuracy (later wins ties)
    const accs = straight.history.map((e) => e.valTargetAcc);
    assert.equal(straight.selectedEpoch, accs.lastIndexOf(Math.max(...accs)));
    target
      .parameters()
      .forEach((p, i) => assert.deepEqual(p.toFloat32Array(), snapshot[i], `target parameter ${i} changed`));

    const ckpt = path.join(dir, 'obf.safetensors');
    manualSeed(3);
    const first = await trainObfuscator({ ...base, config: cfg(1), checkpointPath: ckpt });
    manualSeed(99); // a different global seed: the resumed run must not depend on it
    const resumed = await trainObfuscator({ ...base, config: cfg(2), checkpointPath: ckpt, resume: true });
    assert.equal(resumed.history.length, 2);
    const a = straight.obfuscator.parameters().map((p) => p.toFloat32Array());
    const b = resumed.obfuscator.parameters().map((p) => p.toFloat32Array());
    a.forEach((v, i) => assert.deepEqual(b[i], v, `obfuscator parameter ${i} differs after resume`));
    for (const r of [straight, first, resumed]) {
      r.obfuscator.dispose();
      r.deobfuscator.dispose();
    }
    target.dispose();
    noGrad(() => undefined);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an identity warm-up kept in a file is loaded by an obfuscator with another λ_p and gives the same run; another warm-up is redone', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'earmark-warmup-'));
  try {
    manualSeed(2);
    const target = new DeepSpeech2(tinyDs2);
    const data = toySet(6, 24);
    const cfg = (lambdaP: number, cropFrames = 16) =>
      resolveObfuscatorTrainConfig({ epochs: 1, batchSize: 3, cropFrames, seed: 5, identityWarmupSteps: 3, lambdaP });
    const base = trainOptions(target, data);
    const plain = await trainObfuscator({ ...base, config: cfg(3) }); // warms up itself, keeps no file
    // a sweep's shared stage warms up once, at its first point's λ_p
    const warmupPath = path.join(dir, 'obfuscator-warmup.safetensors');
    await warmUpObfuscator({ obfuscatorConfig: tinyGen, train: data.set, config: cfg(1), warmupPath, quiet: true });
    assert.ok(existsSync(warmupPath));
    const logs: string[] = [];
    const shared = await trainObfuscator({ ...base, config: cfg(3), warmupPath, log: (l) => logs.push(l) });
    assert.ok(
      logs.some((l) => /identity warm-up: loaded/.test(l)),
      logs.join('\n'),
    );
    for (const k of ['obfuscator', 'deobfuscator'] as const) {
      const a = plain[k].parameters().map((p) => p.toFloat32Array());
      shared[k]
        .parameters()
        .forEach((p, i) => assert.deepEqual(p.toFloat32Array(), a[i], `${k} parameter ${i} differs`));
    }
    // other crops make another warm-up: the file is not used, and it is replaced by this run's
    const logs2: string[] = [];
    const other = await trainObfuscator({ ...base, config: cfg(3, 12), warmupPath, log: (l) => logs2.push(l) });
    assert.ok(!logs2.some((l) => /identity warm-up: loaded/.test(l)));
    assert.ok(
      logs2.some((l) =>
        /identity warm-up: .* was made with other settings or data \(differs: config\.warmup\.cropFrames\)/.test(l),
      ),
      logs2.join('\n'),
    );
    for (const r of [plain, shared, other]) {
      r.obfuscator.dispose();
      r.deobfuscator.dispose();
    }
    target.dispose();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
