// Where the trainers run (src/methods/placement.ts): device and --amp checks with errors naming the flag,
// bf16 autocast training of the obfuscator and of DeepSpeech2 on CPU, and checkpoints written from host
// copies (the path a GPU run takes; the devices come from EARMARK_TEST_DEVICE, 'cpu' by default).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { EarmarkError } from '../src/errors.js';
import { loadCheckpoint, saveCheckpoint } from '../src/methods/checkpoint.js';
import { resolveClassifierTrainConfig, trainClassifier } from '../src/methods/classifier.js';
import { resolveObfuscatorTrainConfig, trainObfuscator } from '../src/methods/obfuscator.js';
import { resolvePlacement } from '../src/methods/placement.js';
import { DeepSpeech2 } from '../src/models/deepspeech2.js';
import { SGD } from '../src/optim/index.js';
import { cudaDeviceCount, deviceOf, manualSeed, memory, randn, tidy } from '../src/tensor/index.js';
import { testDevice } from '../src/testing/device.js';
import { toySet, tinyDs2, tinyGen } from './toy-obfuscator.js';

const noCuda = cudaDeviceCount() === 0;

test('resolvePlacement: the default device, and errors naming --device and --amp with the fix', () => {
  assert.equal(resolvePlacement({}).device, noCuda ? 'cpu' : 'cuda:0');
  assert.deepEqual(resolvePlacement({ device: 'cpu', amp: 'bfloat16' }), {
    device: 'cpu',
    amp: 'bfloat16',
    pg: null,
    rank: 0,
    worldSize: 1,
  });
  assert.throws(
    () => resolvePlacement({ device: 'gpu' }),
    (e: Error) => e instanceof TypeError && /--device/.test(e.message),
  );
  assert.throws(
    () => resolvePlacement({ device: 'cpu', amp: 'float16' }),
    (e: Error) =>
      e instanceof EarmarkError &&
      e.code === 'EARMARK_DEVICE' &&
      /--amp fp16/.test(e.message) &&
      /--amp bf16/.test(e.message),
  );
  assert.throws(
    () => resolvePlacement({ device: 'cpu', amp: 'int8' as never }),
    (e: Error) => e instanceof TypeError && /--amp/.test(e.message),
  );
  if (noCuda) {
    assert.throws(
      () => resolvePlacement({ device: 'cuda' }),
      (e: Error) =>
        e instanceof EarmarkError &&
        e.code === 'EARMARK_DEVICE' &&
        /--device/.test(e.message) &&
        /no CUDA device/.test(e.message),
    );
  }
});

test(
  'trainObfuscator and trainClassifier refuse a CUDA device on a CPU-only libtorch before training, naming --device',
  { skip: !noCuda },
  async () => {
    const data = toySet(3, 24);
    const before = memory().numTensors;
    const target = new DeepSpeech2(tinyDs2);
    const config = resolveObfuscatorTrainConfig({ epochs: 1, batchSize: 3, cropFrames: 16 });
    await assert.rejects(
      trainObfuscator({
        target,
        obfuscatorConfig: tinyGen,
        deobfuscatorConfig: tinyGen,
        train: data.set,
        val: data,
        config,
        device: 'cuda:0',
        quiet: true,
      }),
      (e: Error) => e instanceof EarmarkError && /--device/.test(e.message),
    );
    await assert.rejects(
      trainClassifier({
        name: 'T',
        modelConfig: tinyDs2,
        train: data,
        val: data,
        config: resolveClassifierTrainConfig({ epochs: 1 }),
        device: 'cuda',
        quiet: true,
      }),
      (e: Error) => e instanceof EarmarkError && /--device/.test(e.message),
    );
    target.dispose();
    assert.equal(memory().numTensors, before);
  },
);

test('bf16 autocast trains the obfuscator (through the frozen DS2) and DS2 itself on the CPU: finite losses, float32 weights, no leaks', async () => {
  manualSeed(2);
  const target = new DeepSpeech2(tinyDs2);
  const targetTensors = target.stateDict().size;
  const data = toySet(4, 24);
  const before = memory().numTensors;
  const config = resolveObfuscatorTrainConfig({ epochs: 1, batchSize: 2, cropFrames: 16, seed: 5 });
  const o = await trainObfuscator({
    target,
    obfuscatorConfig: tinyGen,
    deobfuscatorConfig: tinyGen,
    train: data.set,
    val: data,
    config,
    device: 'cpu',
    amp: 'bfloat16',
    quiet: true,
  });
  const [e] = o.history;
  assert.ok([e!.la, e!.lt, e!.lp, e!.valLa].every(Number.isFinite), JSON.stringify(e));
  assert.ok(o.obfuscator.parameters().every((p) => p.dtype === 'float32'));
  const own = o.obfuscator.stateDict().size + o.deobfuscator.stateDict().size;
  assert.equal(memory().numTensors - before, own, 'only the returned networks stay alive');
  o.obfuscator.dispose();
  o.deobfuscator.dispose();
  const c = await trainClassifier({
    name: 'T',
    modelConfig: tinyDs2,
    train: data,
    val: data,
    device: 'cpu',
    amp: 'bfloat16',
    quiet: true,
    config: resolveClassifierTrainConfig({ epochs: 1, batchSize: 2, cropFrames: 16 }),
  });
  assert.ok(Number.isFinite(c.history[0]!.trainLoss));
  c.model.dispose();
  target.dispose();
  assert.equal(memory().numTensors, before - targetTensors);
});

test('a checkpoint is written from host copies (freed after) and loads into a model on the host', () => {
  const device = testDevice();
  const dir = mkdtempSync(path.join(tmpdir(), 'earmark-place-'));
  try {
    manualSeed(4);
    const model = new DeepSpeech2(tinyDs2).to(device);
    const opt = new SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
    tidy(() => {
      model
        .forward(randn([2, 161, 16], { device }))
        .sum()
        .backward();
    });
    opt.step(); // momentum buffers on the device
    const before = memory().numTensors;
    const file = path.join(dir, 'ckpt.safetensors');
    saveCheckpoint(file, { modules: { model }, optimizers: { model: opt } }, { epoch: 1 });
    assert.equal(memory().numTensors, before, 'the host copies are freed');
    const host = new DeepSpeech2(tinyDs2);
    const hostOpt = new SGD(host.parameters(), { lr: 0.1, momentum: 0.9 });
    assert.deepEqual(loadCheckpoint(file, { modules: { model: host }, optimizers: { model: hostOpt } }), { epoch: 1 });
    assert.equal(deviceOf(host.parameters()[0]!), 'cpu');
    const want = [...model.stateDict().values()].map((t) => t.toFloat32Array());
    [...host.stateDict().values()].forEach((t, i) => assert.deepEqual(t.toFloat32Array(), want[i]));
    for (const m of [model, host]) m.dispose();
    opt.dispose();
    hostOpt.dispose();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
