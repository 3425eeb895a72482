// λ_p's schedule (issue 14, item 5): the function itself, its validation, that an unset schedule leaves
// the obfuscator's identity (and so every older checkpoint) as it was, and, on a tiny run of the real
// loop, that a warm-up covering the whole run trains exactly what λ_p = 0 trains while a ramp does not.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalJson } from '../src/config/fingerprint.js';
import { memory, manualSeed } from '../src/tensor/index.js';
import { resolveCycleGanVc2Config } from '../src/models/cyclegan-vc2.js';
import { DeepSpeech2, resolveDeepSpeech2Config } from '../src/models/deepspeech2.js';
import { resolveObfuscatorTrainConfig, trainObfuscator } from '../src/methods/obfuscator.js';
import { competesInSelection, lambdaPAt } from '../src/methods/lambda-schedule.js';
import { toySet } from './toy-obfuscator.js';

test('lambdaPAt: constant without a schedule, 0 during warm-up, a linear ramp, then λ_p', () => {
  assert.equal(lambdaPAt(3, undefined, 0), 3);
  const s = { warmup: 1, ramp: 2 };
  assert.deepEqual(
    [0, 0.5, 1, 1.5, 2, 3, 9].map((t) => lambdaPAt(3, s, t)),
    [0, 0, 0, 0.75, 1.5, 3, 3],
  );
  assert.deepEqual(
    [0.9, 1, 5].map((t) => lambdaPAt(2, { warmup: 1, ramp: 0 }, t)),
    [0, 2, 2],
  );
});

test('only epochs that end at the full λ_p compete in the selection (or the last, for a schedule longer than the run)', () => {
  assert.deepEqual(
    [0, 1, 2, 3].map((e) => competesInSelection({ warmup: 1, ramp: 2 }, e, 4)),
    [false, false, true, true],
  );
  assert.deepEqual(
    [0, 1, 2].map((e) => competesInSelection({ warmup: 5, ramp: 5 }, e, 3)),
    [false, false, true],
  );
  assert.deepEqual(
    [0, 1].map((e) => competesInSelection(undefined, e, 2)),
    [true, true],
  );
});

test('lambdaPSchedule is validated, and an unset one is absent from the config identity', () => {
  for (const bad of [{ warmup: -1, ramp: 0 }, { warmup: 1 }, { warmup: 1, ramp: 1, extra: 2 }, 3])
    assert.throws(() => resolveObfuscatorTrainConfig({ lambdaPSchedule: bad }), /lambdaPSchedule/);
  assert.doesNotMatch(canonicalJson(resolveObfuscatorTrainConfig({})), /lambdaPSchedule/);
  assert.match(
    canonicalJson(resolveObfuscatorTrainConfig({ lambdaPSchedule: { warmup: 1, ramp: 1 } })),
    /"lambdaPSchedule":\{"ramp":1,"warmup":1\}/,
  );
});

test('a warm-up as long as the run trains what λ_p = 0 trains; a ramp that starts at once does not', async () => {
  const before = memory().numTensors;
  manualSeed(5);
  const target = new DeepSpeech2(
    resolveDeepSpeech2Config({ numClasses: 3, convChannels: 2, rnnLayers: 1, hiddenSize: 8 }),
  );
  const data = toySet(8, 32, { rate: 0.013, extra: (_i, j) => 0.2 * Math.cos(j) });
  let selected = -1;
  const weights = async (over: Record<string, unknown>): Promise<Float32Array[]> => {
    const r = await trainObfuscator({
      target,
      obfuscatorConfig: resolveCycleGanVc2Config({ channels: 4, residualBlocks: 1 }),
      deobfuscatorConfig: resolveCycleGanVc2Config({ channels: 4, residualBlocks: 1 }),
      train: data.set,
      val: data,
      quiet: true,
      config: resolveObfuscatorTrainConfig({
        epochs: 2,
        batchSize: 4,
        cropFrames: 16,
        optimizer: 'adam',
        lr: 3e-3,
        selection: 'last',
        seed: 3,
        ...over,
      }),
    });
    const w = r.obfuscator.parameters().map((p) => p.toFloat32Array());
    selected = r.selectedEpoch;
    r.obfuscator.dispose();
    r.deobfuscator.dispose();
    return w;
  };
  const zero = await weights({ lambdaP: 0 });
  const warm = await weights({ lambdaP: 5, lambdaPSchedule: { warmup: 2, ramp: 0 } });
  const ramp = await weights({ lambdaP: 5, lambdaPSchedule: { warmup: 0, ramp: 1 } });
  // selection on validation T accuracy only among epochs that end at the full λ_p: here the second
  await weights({ lambdaP: 5, lambdaPSchedule: { warmup: 1, ramp: 1 }, selection: 'val-target' });
  assert.equal(selected, 1, 'the warm-up epoch must not be selected');
  target.dispose();
  assert.equal(memory().numTensors, before);
  assert.deepEqual(warm, zero, 'λ_p is 0 throughout the warm-up');
  assert.notDeepEqual(ramp, zero, 'the ramp lets λ_p act');
});
