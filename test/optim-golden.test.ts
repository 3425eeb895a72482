// Optimisers, clipping and schedules against torch 1.13 (fixture from scripts/goldens/optim.py):
// parameters after each of 3 steps, clip_grad_norm_/clip_grad_value_, and lr sequences.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Adam, AdamW, clipGradNorm_, clipGradValue_, ReduceLROnPlateau, SGD, StepLR } from '../src/optim/index.js';
import { memory, tensor, tidy, zeros, type Tensor } from '../src/tensor/index.js';
import { repoRoot } from '../src/util/paths.js';

interface OptimCase {
  class: 'SGD' | 'Adam' | 'AdamW';
  kwargs: Record<string, unknown>;
  groups: Record<string, unknown>[] | null;
  after: number[][][];
}
interface Golden {
  torch: string;
  shapes: number[][];
  init: number[][];
  grads: number[][][];
  optimizers: Record<string, OptimCase>;
  clip: {
    grads: number[][];
    shapes: number[][];
    norm: { maxNorm: number; normType: number | 'inf'; total: number; clipped: number[][] }[];
    value: { clipValue: number; clipped: number[][] }[];
  };
  stepLR: { lrs: number[]; stepSize: number; gamma: number; sequence: number[][] };
  plateau: { lr: number; metrics: number[]; cases: { config: Record<string, number | string>; sequence: number[] }[] };
}
const golden = JSON.parse(readFileSync(path.join(repoRoot(), 'test/fixtures/optim/optim.json'), 'utf8')) as Golden;

/** torch kwargs → our camelCase options. */
function camel(kw: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(kw).map(([k, v]) => [k.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase()), v]),
  );
}

/** float32 results: |a − b| ≤ 1e-6·|b| + 1e-7 elementwise. */
function close(actual: ArrayLike<number>, expected: readonly number[], what: string): number {
  assert.equal(actual.length, expected.length, what);
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    const err = Math.abs(actual[i]! - expected[i]!);
    worst = Math.max(worst, err / (Math.abs(expected[i]!) + 1e-1));
    assert.ok(err <= 1e-6 * Math.abs(expected[i]!) + 1e-7, `${what}[${i}]: ${actual[i]} vs torch ${expected[i]}`);
  }
  return worst;
}

const leaf = (values: number[], shape: number[]): Tensor =>
  tensor(Float32Array.from(values), shape).requiresGrad_(true);

for (const [name, c] of Object.entries(golden.optimizers)) {
  test(`${name} matches torch ${golden.torch} after each of 3 steps`, () => {
    const before = memory().numTensors;
    const params = golden.init.map((v, i) => leaf(v, golden.shapes[i]!));
    const opts = camel(c.kwargs);
    const groups = c.groups === null ? params : c.groups.map((g, i) => ({ params: [params[i]!], ...camel(g) }));
    const Cls = { SGD, Adam, AdamW }[c.class];
    const opt = new (Cls as new (p: unknown, o: unknown) => SGD | Adam)(groups, opts);
    golden.grads.forEach((gs, step) => {
      params.forEach((p, i) => {
        const g = tensor(Float32Array.from(gs[i]!), golden.shapes[i]!);
        p.setGrad(g);
        g.dispose();
      });
      opt.step();
      tidy(() =>
        params.forEach((p, i) =>
          close(p.detach().toFloat32Array(), c.after[step]![i]!, `${name} step ${step + 1} param ${i}`),
        ),
      );
    });
    opt.zeroGrad();
    assert.equal(params[0]!.grad, null, 'zeroGrad drops gradients');
    opt.dispose();
    for (const p of params) p.dispose();
    assert.equal(memory().numTensors, before);
  });
}

test('clipGradNorm_ matches torch for norm types 2, 1, inf, 3 and an unclipped case', () => {
  const before = memory().numTensors;
  const { grads, shapes } = golden.clip;
  for (const c of golden.clip.norm) {
    tidy(() => {
      const params = shapes.map((s) => zeros(s, { requiresGrad: true }));
      params.forEach((p, i) => p.setGrad(tensor(Float32Array.from(grads[i]!), shapes[i]!)));
      const total = clipGradNorm_(params, c.maxNorm, c.normType === 'inf' ? Infinity : c.normType);
      close([total], [c.total], `total norm (p=${c.normType})`);
      params.forEach((p, i) => close(p.grad!.toFloat32Array(), c.clipped[i]!, `clipped grad ${i} (p=${c.normType})`));
    });
  }
  tidy(() => {
    const params = shapes.map((s) => zeros(s, { requiresGrad: true }));
    params.forEach((p, i) => p.setGrad(tensor(Float32Array.from(grads[i]!), shapes[i]!)));
    clipGradValue_(params, golden.clip.value[0]!.clipValue);
    params.forEach((p, i) =>
      close(p.grad!.toFloat32Array(), golden.clip.value[0]!.clipped[i]!, `value-clipped grad ${i}`),
    );
    assert.equal(clipGradNorm_([zeros([2])], 1), 0, 'no gradients: norm 0');
  });
  assert.equal(memory().numTensors, before);
});

test('StepLR gives torch’s lr sequence for two groups', () => {
  tidy(() => {
    const [a, b] = [zeros([1], { requiresGrad: true }), zeros([1], { requiresGrad: true })];
    const { lrs, stepSize, gamma, sequence } = golden.stepLR;
    const opt = new SGD([{ params: [a] }, { params: [b], lr: lrs[1] }], { lr: lrs[0]! });
    const sched = new StepLR(opt, { stepSize, gamma });
    for (const expected of sequence) {
      opt.step();
      sched.step();
      assert.deepEqual(sched.getLastLr(), expected); // the same double arithmetic: exact
    }
  });
});

test('ReduceLROnPlateau gives torch’s lr sequence (min/rel with cooldown, max/abs with minLr, patience 0)', () => {
  tidy(() => {
    for (const { config, sequence } of golden.plateau.cases) {
      const p = zeros([1], { requiresGrad: true });
      const opt = new SGD([p], { lr: golden.plateau.lr });
      const sched = new ReduceLROnPlateau(opt, camel(config) as ConstructorParameters<typeof ReduceLROnPlateau>[1]);
      const got = golden.plateau.metrics.map((m) => {
        opt.step();
        sched.step(m);
        return opt.paramGroups[0]!.lr;
      });
      assert.deepEqual(got, sequence, JSON.stringify(config));
    }
  });
});
