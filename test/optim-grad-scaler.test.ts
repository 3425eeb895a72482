// GradScaler, as torch.cuda.amp.GradScaler: with a power-of-two scale, scaled training equals unscaled
// training exactly; a step whose gradients hold inf or NaN is skipped and the scale backs off; after
// growthInterval finite steps the scale grows; unscale_ before clipping divides once; the state resumes.
// The logic is device-independent, so it is checked here in float32 on EARMARK_TEST_DEVICE (default cpu).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Linear } from '../src/nn/index.js';
import { GradScaler, SGD, clipGradNorm_ } from '../src/optim/index.js';
import { batchTo, manualSeed, memory, noGrad, randn, tidy, type Tensor } from '../src/tensor/index.js';
import { testDevice } from '../src/testing/device.js';

const device = testDevice();

function setup(): { m: Linear; opt: SGD; x: Tensor; weights: () => number[] } {
  manualSeed(9);
  const m = new Linear(4, 3).to(device);
  const x = tidy(() => batchTo(randn([8, 4]), device));
  const opt = new SGD(m.parameters(), { lr: 0.1, momentum: 0.9 });
  return { m, opt, x, weights: () => tidy(() => m.parameters().flatMap((p) => p.to('cpu').toArray())) };
}

/** One step; `poison` writes inf/NaN into the first gradient after backward (an fp16 overflow). */
function step(r: ReturnType<typeof setup>, scaler: GradScaler | null, poison?: number): boolean {
  return tidy(() => {
    r.opt.zeroGrad();
    const loss = r.m.forward(r.x).square().mean();
    (scaler === null ? loss : scaler.scale(loss)).backward();
    if (poison !== undefined) noGrad(() => r.m.parameters()[0]!.grad!.narrow(0, 0, 1).fill_(poison));
    if (scaler === null) {
      r.opt.step();
      return true;
    }
    const stepped = scaler.step(r.opt);
    scaler.update();
    return stepped;
  });
}

test('scaled training equals unscaled training exactly, and the scale grows every growthInterval finite steps', () => {
  const before = memory().numTensors;
  const a = setup();
  const b = setup();
  const scaler = new GradScaler({ initScale: 2 ** 10, growthInterval: 2 });
  const scales: number[] = [];
  for (let i = 0; i < 5; i++) {
    step(a, null);
    assert.equal(step(b, scaler), true);
    scales.push(scaler.getScale());
  }
  assert.deepEqual(b.weights(), a.weights());
  assert.deepEqual(scales, [2 ** 10, 2 ** 11, 2 ** 11, 2 ** 12, 2 ** 12]);
  for (const r of [a, b]) {
    r.opt.dispose();
    r.m.dispose();
    r.x.dispose();
  }
  assert.equal(memory().numTensors, before);
});

test('a step with inf or NaN gradients is skipped, the scale backs off and the growth count restarts', () => {
  const before = memory().numTensors;
  const r = setup();
  const scaler = new GradScaler({ initScale: 2 ** 16, growthInterval: 2, backoffFactor: 0.25 });
  assert.equal(step(r, scaler), true); // tracker 1
  const w = r.weights();
  assert.equal(step(r, scaler, Infinity), false);
  assert.deepEqual(r.weights(), w, 'no update from a poisoned step');
  assert.equal(scaler.getScale(), 2 ** 14);
  assert.equal(step(r, scaler, NaN), false);
  assert.equal(scaler.getScale(), 2 ** 12);
  assert.equal(step(r, scaler), true); // tracker restarted: 1, no growth yet
  assert.equal(scaler.getScale(), 2 ** 12);
  assert.equal(step(r, scaler), true);
  assert.equal(scaler.getScale(), 2 ** 13);
  assert.notDeepEqual(r.weights(), w);
  assert.deepEqual(scaler.stateDict(), {
    scale: 2 ** 13,
    growthFactor: 2,
    backoffFactor: 0.25,
    growthInterval: 2,
    growthTracker: 0,
  });
  r.opt.dispose();
  r.m.dispose();
  r.x.dispose();
  assert.equal(memory().numTensors, before);
});

test('unscale_ before clipping divides once; misuse is refused; disabled is a pass-through; state resumes', () => {
  const before = memory().numTensors;
  const r = setup();
  const scaler = new GradScaler({ initScale: 8 });
  tidy(() => {
    r.opt.zeroGrad();
    const loss = r.m.forward(r.x).square().mean();
    loss.backward();
    const g = r.m.parameters()[0]!.grad!.toArray();
    r.opt.zeroGrad();
    scaler.scale(r.m.forward(r.x).square().mean()).backward();
    scaler.unscale_(r.opt);
    assert.deepEqual(r.m.parameters()[0]!.grad!.toArray(), g);
    assert.throws(() => scaler.unscale_(r.opt), /already called/);
    clipGradNorm_(r.m.parameters(), 1e-3);
    assert.equal(scaler.step(r.opt), true);
    assert.throws(() => scaler.step(r.opt), /already called/);
    scaler.update();
  });
  assert.throws(() => scaler.update(), /no unscale_\(\) or step\(\) was recorded/);
  const resumed = new GradScaler();
  resumed.loadStateDict(scaler.stateDict());
  assert.deepEqual(resumed.stateDict(), scaler.stateDict());
  assert.throws(() => resumed.loadStateDict({ ...scaler.stateDict(), scale: 0 }), /scale must be a finite number > 0/);
  assert.throws(() => new GradScaler({ initScale: 1, growthfactor: 2 } as never), /unknown option 'growthfactor'/);
  const off = new GradScaler({ enabled: false });
  tidy(() => {
    const loss = r.m.forward(r.x).sum();
    assert.equal(off.scale(loss), loss);
    loss.backward();
    assert.equal(off.step(r.opt), true);
    off.update();
    assert.equal(off.getScale(), 1);
  });
  r.opt.dispose();
  r.m.dispose();
  r.x.dispose();
  assert.equal(memory().numTensors, before);
});
