// The engine on EARMARK_TEST_DEVICE against the CPU: the same seeded models (CycleGAN-VC2 obfuscator,
// DeepSpeech2 with its BiLSTM) and the stft front-end give the same outputs and parameter gradients on
// the device as on the CPU, within float32 kernel differences. Only meaningful off the CPU, so it is
// skipped where the test device is 'cpu' (CI); scripts/device-check.sh runs it with EARMARK_TEST_DEVICE=cuda.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stft } from '../src/audio/functional.js';
import { CycleGanVc2Generator, CYCLEGAN_VC2_PRESETS, resolveCycleGanVc2Config } from '../src/models/cyclegan-vc2.js';
import { DeepSpeech2, DS2_PRESETS, resolveDeepSpeech2Config } from '../src/models/deepspeech2.js';
import type { Module } from '../src/nn/index.js';
import { hannWindow, manualSeed, memory, randn, tidy, type Tensor } from '../src/tensor/index.js';
import { testDevice } from '../src/testing/device.js';

const device = testDevice();
const skip = device === 'cpu' ? "EARMARK_TEST_DEVICE is 'cpu': nothing to compare against the CPU" : false;

/** Largest |a - b| relative to the largest |b| (b the CPU's), over every element. */
function relErr(a: Tensor, b: Tensor): number {
  return tidy(() => {
    const ad = a.to('cpu').double();
    const bd = b.to('cpu').double();
    return ad.sub(bd).abs().max().item() / Math.max(bd.abs().max().item(), 1e-12);
  });
}

/** Output and parameter gradients of `loss(model(x))` for a model built by `make` on `dev`. */
function run(
  make: () => Module & { forward(x: Tensor): Tensor },
  x: Tensor,
  dev: string,
): { y: Tensor; grads: Tensor[] } {
  manualSeed(0);
  const model = make().to(dev);
  const y = tidy(() => {
    const out = model.forward(x.to(dev));
    out.square().mean().backward();
    return out.to('cpu');
  });
  const grads = model.parameters().map((p) =>
    tidy(() => {
      const g = p.grad; // a new handle each read: inside tidy
      assert.ok(g, 'every parameter gets a gradient');
      return g.to('cpu');
    }),
  );
  model.zeroGrad(); // dispose() frees the parameters, not their gradients
  model.dispose();
  return { y, grads };
}

function same(name: string, make: () => Module & { forward(x: Tensor): Tensor }, x: Tensor, tol: number): void {
  const cpu = run(make, x, 'cpu');
  const dev = run(make, x, device);
  try {
    assert.ok(
      relErr(dev.y, cpu.y) < tol,
      `${name}: output on ${device} differs from the CPU's by ${relErr(dev.y, cpu.y)}`,
    );
    cpu.grads.forEach((g, i) => {
      const e = relErr(dev.grads[i]!, g);
      assert.ok(e < tol, `${name}: gradient of parameter ${i} on ${device} differs from the CPU's by ${e}`);
    });
  } finally {
    for (const t of [cpu.y, dev.y, ...cpu.grads, ...dev.grads]) t.dispose();
  }
}

test(`CycleGAN-VC2 and DeepSpeech2 (BiLSTM): outputs and gradients on ${device} = CPU`, { skip }, () => {
  const before = memory().numTensors;
  manualSeed(1);
  const x = randn([2, 161, 64]);
  const obf = (): CycleGanVc2Generator =>
    new CycleGanVc2Generator(resolveCycleGanVc2Config(CYCLEGAN_VC2_PRESETS['cpu-obfuscator']));
  const ds2 = (): DeepSpeech2 => new DeepSpeech2(resolveDeepSpeech2Config({ ...DS2_PRESETS.cpu, numClasses: 4 }));
  same('CycleGAN-VC2', obf, x, 1e-3);
  same('DeepSpeech2', ds2, x, 1e-3);
  x.dispose();
  assert.equal(memory().numTensors, before);
});

test(`stft (the DS2 front-end's n_fft 320, hop 160, Hann) on ${device} = CPU`, { skip }, () => {
  const before = memory().numTensors;
  tidy(() => {
    manualSeed(2);
    const wave = randn([2, 16000]);
    const p = { nFft: 320, hopLength: 160, center: true, padMode: 'reflect' as const };
    const cpu = stft(wave, hannWindow(320), p);
    const dev = stft(wave.to(device), hannWindow(320).to(device), p);
    assert.deepEqual(dev.shape, cpu.shape);
    assert.ok(relErr(dev, cpu) < 1e-4, `stft on ${device} differs from the CPU's by ${relErr(dev, cpu)}`);
  });
  assert.equal(memory().numTensors, before);
});
