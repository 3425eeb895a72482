// Optimiser state: save → fresh optimiser → load → step gives bit-identical parameters to an
// uninterrupted run; state dict keys and metadata; load errors; no leaks over many steps.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { EarmarkError } from '../src/errors.js';
import {
  Adam,
  AdamW,
  decodeOptimizerState,
  encodeOptimizerState,
  loadOptimizerStateSync,
  ReduceLROnPlateau,
  saveOptimizerState,
  loadOptimizerState,
  SGD,
  StepLR,
  type LRScheduler,
} from '../src/optim/index.js';
import { decodeRaw } from '../src/serialize/index.js';
import { keep, manualSeed, memory, randn, tensor, tidy, type Tensor } from '../src/tensor/index.js';

const dir = mkdtempSync(path.join(tmpdir(), 'earmark-optim-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

type AnyOpt = SGD | Adam | AdamW;
type Make = (params: Tensor[]) => { opt: AnyOpt; sched?: StepLR | ReduceLROnPlateau };

// a tiny regression problem: loss = mean((x·Wᵀ + b − y)²), gradients by autograd
manualSeed(7);
const X = keep(randn([16, 4]));
const Y = keep(randn([16, 3]));
const W0 = keep(randn([3, 4]));
const B0 = keep(randn([3]));

function freshParams(from: [Tensor, Tensor] = [W0, B0]): Tensor[] {
  return from.map((t) =>
    tensor(
      tidy(() => t.detach().toFloat32Array()),
      t.shape,
    ).requiresGrad_(true),
  );
}

/** One training step inside tidy: zeroGrad, forward, backward, clip-free step, schedule. */
function trainStep(params: Tensor[], opt: AnyOpt, sched: StepLR | ReduceLROnPlateau | undefined): void {
  tidy(() => {
    opt.zeroGrad();
    const [w, b] = params as [Tensor, Tensor];
    const loss = X.matmul(w.transpose(0, 1)).add(b).sub(Y).square().mean();
    loss.backward();
    opt.step();
    if (sched instanceof ReduceLROnPlateau) sched.step(loss.item());
    else sched?.step();
  });
}

const CASES: Record<string, Make> = {
  'SGD nesterov + StepLR': (p) => {
    const opt = new SGD(p, { lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 1e-3 });
    return { opt, sched: new StepLR(opt, { stepSize: 2, gamma: 0.7 }) };
  },
  'Adam amsgrad + ReduceLROnPlateau': (p) => {
    const opt = new Adam(p, { lr: 0.05, amsgrad: true, weightDecay: 0.01 });
    return { opt, sched: new ReduceLROnPlateau(opt, { patience: 0, factor: 0.5, threshold: 0.5 }) };
  },
  'AdamW two groups': (p) => ({
    opt: new AdamW([{ params: [p[0]!] }, { params: [p[1]!], lr: 0.01, betas: [0.8, 0.9] }], { lr: 0.03 }),
  }),
};

for (const [name, make] of Object.entries(CASES)) {
  test(`${name}: save, load into a fresh optimiser, resume = uninterrupted run, bit for bit`, async () => {
    const before = memory().numTensors;
    // uninterrupted: 6 steps
    const a = freshParams();
    const runA = make(a);
    for (let i = 0; i < 6; i++) trainStep(a, runA.opt, runA.sched);

    // interrupted: 3 steps, save params + optimiser state, rebuild everything, load, 3 more
    const b = freshParams();
    const runB = make(b);
    for (let i = 0; i < 3; i++) trainStep(b, runB.opt, runB.sched);
    const file = path.join(dir, `${name.replace(/\W+/g, '_')}.safetensors`);
    await saveOptimizerState(file, runB.opt, { scheduler: runB.sched as LRScheduler, metadata: { epoch: '3' } });
    const c = freshParams(b as [Tensor, Tensor]);
    runB.opt.dispose();
    for (const p of b) p.dispose();
    const runC = make(c);
    const md = await loadOptimizerState(file, runC.opt, { scheduler: runC.sched as LRScheduler });
    assert.equal(md.epoch, '3');
    for (let i = 0; i < 3; i++) trainStep(c, runC.opt, runC.sched);

    tidy(() =>
      a.forEach((p, i) => assert.deepEqual(p.detach().toFloat32Array(), c[i]!.detach().toFloat32Array(), `param ${i}`)),
    );
    assert.deepEqual(
      runC.opt.paramGroups.map((g) => g.lr),
      runA.opt.paramGroups.map((g) => g.lr),
    );
    assert.deepEqual(runC.sched?.stateDict(), runA.sched?.stateDict());
    for (const r of [runA, runC]) r.opt.dispose();
    for (const p of [...a, ...c]) p.dispose();
    assert.equal(memory().numTensors, before);
  });
}

test('state dict: torch-named state tensors by "<paramIndex>.<name>", hyperparameters and step counts', () => {
  const before = memory().numTensors;
  const p = freshParams();
  const opt = new Adam([{ params: [p[0]!] }, { params: [p[1]!], lr: 0.5 }], { amsgrad: true });
  trainStep(p, opt, undefined);
  trainStep(p, opt, undefined);
  const { tensors, meta } = opt.stateDict();
  assert.deepEqual(
    [...tensors.keys()],
    ['0.exp_avg', '0.exp_avg_sq', '0.max_exp_avg_sq', '1.exp_avg', '1.exp_avg_sq', '1.max_exp_avg_sq'],
  );
  assert.deepEqual(meta, {
    optimizer: 'Adam',
    paramGroups: [
      { lr: 0.001, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, amsgrad: true, maximize: false, params: [0] },
      { lr: 0.5, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, amsgrad: true, maximize: false, params: [1] },
    ],
    steps: { 0: 2, 1: 2 },
  });
  // the file is plain safetensors: readable by the format layer (and so by Python)
  const raw = decodeRaw(encodeOptimizerState(opt));
  assert.deepEqual(JSON.parse(raw.metadata!['earmark.optimizer']!), meta);
  assert.deepEqual([...raw.tensors.keys()].sort(), [...tensors.keys()].sort());
  opt.dispose();
  for (const t of p) t.dispose();
  assert.equal(memory().numTensors, before);
});

test('loading state into the wrong optimiser or parameters fails with EARMARK_STATE_DICT naming the problem', () => {
  const before = memory().numTensors;
  tidy(() => {
    const p = freshParams();
    const adam = new Adam(p);
    trainStep(p, adam, undefined);
    const bytes = encodeOptimizerState(adam);
    const stateErr = (re: RegExp) => (e: unknown) =>
      e instanceof EarmarkError && e.code === 'EARMARK_STATE_DICT' && re.test(e.message);
    assert.throws(() => decodeOptimizerState(bytes, new SGD(freshParams(), { lr: 1 })), stateErr(/saved by Adam/));
    assert.throws(
      () => decodeOptimizerState(bytes, new Adam([...freshParams()].reverse())),
      stateErr(/'0\.exp_avg' is float32 \[3, 4\] but parameter 0 is float32 \[3\]/),
    );
    const q = freshParams();
    assert.throws(
      () => decodeOptimizerState(bytes, new Adam([{ params: [q[0]!] }, { params: [q[1]!] }])),
      stateErr(/state has 1 parameter groups, this optimiser 2/),
    );
    assert.throws(() => loadOptimizerStateSync(path.join(dir, 'nope.safetensors'), adam), /ENOENT/);
    const plain = new Uint8Array([8, 0, 0, 0, 0, 0, 0, 0, 123, 125, 32, 32, 32, 32, 32, 32]); // "{}": no optimiser metadata
    assert.throws(
      () => decodeOptimizerState(plain, adam, {}, 'x.safetensors'),
      (e: unknown) =>
        e instanceof EarmarkError &&
        e.code === 'EARMARK_CHECKPOINT' &&
        /x\.safetensors: no 'earmark\.optimizer'/.test(e.message),
    );
    // a failed load leaves the optimiser's state as it was
    assert.equal(adam.stateDict().meta.steps[0], 1);
    adam.dispose();
  });
  assert.equal(memory().numTensors, before);
});

test('200 Adam training steps in tidy keep the tensor count flat', () => {
  const p = freshParams();
  const opt = new Adam(p, { amsgrad: true });
  trainStep(p, opt, undefined); // creates the state tensors
  const after1 = memory().numTensors;
  for (let i = 0; i < 200; i++) trainStep(p, opt, undefined);
  assert.equal(memory().numTensors, after1);
  opt.dispose();
  for (const t of p) t.dispose();
});
