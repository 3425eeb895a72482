// The task-output attacker (the app's view, eval/optin/task-output.ts): T's mean log-posteriors by hand,
// the cache, and a classifier on them that reads an attribute T's outputs carry.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { LabelledSet } from '../src/data/spec-set.js';
import { taskOutputAttack, taskPosteriors } from '../src/eval/optin/task-output.js';
import { DeepSpeech2, resolveDeepSpeech2Config } from '../src/models/deepspeech2.js';
import { manualSeed, memory, noGrad, tensor, tidy } from '../src/tensor/index.js';

const tinyDs2 = resolveDeepSpeech2Config({ numClasses: 4, convChannels: 2, rnnLayers: 1, hiddenSize: 8 });

/** `n` utterances of 24 frames: label 1 is a louder, higher pattern than label 0, so T's posteriors differ. */
function toySet(n: number, offset: number): LabelledSet {
  const specs: Float32Array[] = [];
  const labels: number[] = [];
  for (let i = 0; i < n; i++) {
    const y = i % 2;
    labels.push(y);
    specs.push(
      Float32Array.from(
        { length: 161 * 24 },
        (_, j) => (1 + 2 * y) * Math.sin((j % 161) * (0.05 + 0.2 * y) + i + offset),
      ),
    );
  }
  return {
    set: { ids: specs.map((_, i) => `u${offset}-${i}`), specs, frames: specs.map(() => 24), nFreq: 161 },
    labels,
    numClasses: 2,
  };
}

test("T's posteriors are the mean over output steps of its log-softmax, and the cache is read back", () => {
  manualSeed(3);
  const target = new DeepSpeech2(tinyDs2);
  const before = memory().numTensors;
  const l = toySet(3, 0);
  const cache = new Map<string, Float32Array>();
  const v = taskPosteriors(target, l.set, cache);
  assert.equal(v.length, 3);
  assert.equal(v[0]!.length, 4);
  target.eval();
  const want = noGrad(() =>
    tidy(() =>
      target
        .forward(tensor(l.set.specs[1]!, [1, 161, 24]))
        .logSoftmax(-1)
        .mean(1)
        .squeeze(0)
        .toFloat32Array(),
    ),
  );
  for (let k = 0; k < 4; k++) assert.ok(Math.abs(v[1]![k]! - want[k]!) < 1e-5);
  // log-posteriors: their exponentials sum to at most 1 (a mean of log-softmaxes is a log of a geometric mean)
  assert.ok(v.every((x) => Array.from(x).reduce((s, y) => s + Math.exp(y), 0) <= 1 + 1e-5));
  assert.equal(cache.size, 3);
  assert.equal(taskPosteriors(target, l.set, cache)[2], cache.get('u0-2'), 'the cached vector is returned');
  assert.equal(memory().numTensors, before, 'no leaked tensors');
  target.dispose();
});

test('the task-output attacker reads an attribute from T posteriors, and not one they do not carry', () => {
  manualSeed(3);
  const target = new DeepSpeech2(tinyDs2);
  const sets = { train: toySet(48, 0), val: toySet(16, 100), test: toySet(16, 200) };
  const o = { seed: 0, bootstrapSeed: 0, speakers: undefined, stage: 'task-output-test' };
  const s = taskOutputAttack(target, sets, o);
  assert.equal(s.n, 16);
  assert.ok(s.accuracy >= 0.9, `the patterns' T posteriors separate the labels: ${s.accuracy}`);
  // labels unrelated to the audio: every utterance labelled by its index's third bit, not by its pattern
  const relabel = (l: LabelledSet): LabelledSet => ({ ...l, labels: l.labels.map((_, i) => (i >> 2) % 2) });
  const none = taskOutputAttack(
    target,
    { train: relabel(sets.train), val: relabel(sets.val), test: relabel(sets.test) },
    o,
  );
  assert.ok(none.accuracy <= 0.75, `labels T's outputs do not carry stay near chance: ${none.accuracy}`);
  const speakers = sets.test.labels.map((_, i) => `s${i % 4}`);
  assert.equal(taskOutputAttack(target, sets, { ...o, speakers }).speakers, 4);
  target.dispose();
});
