// Every training loop builds its models right after manualSeed(stageSeed(seed, stage)) (issues 11, 12):
// whatever the global generator did before (features computed or loaded, other stages), a stage trains
// the same weights. Each loop runs twice after two different perturbations of the global generator.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { SoundscapeSet } from '../src/data/soundscape-set.js';
import { resolveAdrTrainConfig, trainAdr } from '../src/methods/adr.js';
import { resolveClassifierTrainConfig, trainClassifier } from '../src/methods/classifier.js';
import { resolveObfuscatorTrainConfig, trainObfuscator } from '../src/methods/obfuscator.js';
import { resolveRdalConfig, trainAttacker, trainMask, trainRdal } from '../src/methods/rdal/index.js';
import { moduleFingerprint } from '../src/methods/stage.js';
import { resolveVectorClassifierConfig, trainVectorClassifier } from '../src/methods/vector-classifier.js';
import { resolveXVectorTrainConfig, trainXVector } from '../src/methods/xvector.js';
import { DeepSpeech2 } from '../src/models/deepspeech2.js';
import type { Module } from '../src/nn/index.js';
import { manualSeed, memory, rand, randn } from '../src/tensor/index.js';
import { Rng } from '../src/util/rng.js';
import { toySet, tinyDs2, tinyGen } from './toy-obfuscator.js';

/** Runs `train` after two different states of the global generator; its models must be bit-identical. */
async function sameTwice<R>(
  name: string,
  train: () => Promise<R> | R,
  models: (r: R) => Module[],
  dispose: (r: R) => void = (r) => models(r).forEach((m) => m.dispose()),
): Promise<void> {
  const before = memory().numTensors;
  const prints: string[][] = [];
  for (const perturb of [1, 2]) {
    manualSeed(perturb);
    rand([perturb * 13]).dispose(); // what "ran before" differs between the two runs
    const r = await train();
    prints.push(models(r).map(moduleFingerprint));
    dispose(r);
  }
  assert.deepEqual(
    prints[1],
    prints[0],
    `${name}: the same stage trained different weights after another global RNG state`,
  );
  assert.equal(memory().numTensors, before, `${name}: no leaked tensors`);
}

test('classifier, obfuscator and x-vector: the same weights whatever the global generator did before', async () => {
  const data = toySet(6, 32, { classes: 3 });
  const config = resolveClassifierTrainConfig({ epochs: 1, batchSize: 3, cropFrames: 16, seed: 4 });
  await sameTwice(
    'trainClassifier',
    () => trainClassifier({ name: 'T', modelConfig: tinyDs2, train: data, val: data, config, quiet: true }),
    (r) => [r.model],
  );
  manualSeed(7);
  const target = new DeepSpeech2(tinyDs2);
  const oc = resolveObfuscatorTrainConfig({ epochs: 1, batchSize: 3, cropFrames: 16, identityWarmupSteps: 1, seed: 4 });
  await sameTwice(
    'trainObfuscator',
    () =>
      trainObfuscator({
        target,
        obfuscatorConfig: tinyGen,
        deobfuscatorConfig: tinyGen,
        train: data.set,
        val: data,
        config: oc,
        quiet: true,
      }),
    (r) => [r.obfuscator, r.deobfuscator],
  );
  target.dispose();
  const xc = resolveXVectorTrainConfig({ epochs: 1, batchSize: 3, cropFrames: 24, seed: 4 });
  await sameTwice(
    'trainXVector',
    () => trainXVector({ train: data, modelConfig: { channels: 8, poolChannels: 16, embedDim: 8 }, config: xc }),
    (r) => [r.model],
  );
});

test('ADR and the vector classifiers: the same weights and predictions whatever ran before', async () => {
  const rng = new Rng(2);
  const x = Array.from({ length: 24 }, (_, i) => Float32Array.from({ length: 16 }, () => rng.uniform(-1, 1) + (i % 2)));
  const y = x.map((_, i) => i % 2);
  await sameTwice(
    'trainAdr',
    () =>
      trainAdr({
        x,
        y,
        modelConfig: { codeDim: 8, adversaryHidden: 8 },
        config: resolveAdrTrainConfig({ preEpochs: 1, epochs: 2, batchSize: 8 }),
      }),
    (r) => [r.model],
  );
  const c = resolveVectorClassifierConfig({ hidden: 8, epochs: 2, batchSize: 8 });
  const probe = Array.from({ length: 64 }, () => Float32Array.from({ length: 16 }, () => rng.uniform(-3, 3)));
  const runs = [1, 2].map((perturb) => {
    manualSeed(perturb);
    randn([perturb * 5]).dispose();
    const clf = trainVectorClassifier({ x, y }, { x, y }, 2, c, 'adr-clean-gender');
    // the logits' argmax on 64 far-apart probes: a fingerprint of the weights that only predictions expose
    const p = clf.predict(probe);
    clf.dispose();
    return p;
  });
  assert.deepEqual(runs[1], runs[0], 'trainVectorClassifier: other predictions after another global RNG state');
});

/** An in-memory soundscape split: n clips of 64 mels × 64 frames, half with "speech". */
function toySoundscapes(split: 'train' | 'val', n: number): SoundscapeSet {
  const rng = new Rng(split === 'train' ? 1 : 2);
  const size = n * 64 * 64;
  const melPower = Float32Array.from({ length: size }, () => rng.uniform(0.01, 1));
  const speech = Array.from({ length: n }, (_, i) => i % 2);
  const logmel = melPower.map((v, j) => 10 * Math.log10(v) + 3 * speech[Math.floor(j / (64 * 64))]!);
  return {
    split,
    n,
    nMels: 64,
    frames: 64,
    logmel,
    melPower,
    eventPower: melPower.map((v) => v / 2),
    event: speech.map((_, i) => (i >> 1) % 2),
    speech,
    gender: speech.map((s, i) => (s ? (i >> 2) % 2 : -1)),
    paths: speech.map((_, i) => `${split}/${i}.wav`),
  };
}

test('RDAL: encoder, head, adversary, D^τ and the mask are built after seeding from (seed, stage)', async () => {
  const train = toySoundscapes('train', 8);
  const val = toySoundscapes('val', 8);
  const config = resolveRdalConfig({
    model: { channels: [2, 2, 2, 4], latent: 8, numClasses: 2 },
    train: { maxEpochs: 2, batchPairs: 2, alphaZeroEpochs: 0, period: 1, patienceEpochs: 2, patiencePeriods: 1 },
    attacker: { maxEpochs: 2, patience: 1, batchSize: 4 },
  });
  await sameTwice(
    'trainRdal',
    () => trainRdal({ method: 'rdal', config, train, val, quiet: true }),
    (r) => [r.encoder, r.head, r.adversary],
  );
  await sameTwice(
    'trainMask',
    () =>
      trainMask(train, val, { channels: [2], dropout: 0.5 }, { lr: 1e-3, batchSize: 4, maxEpochs: 1, patience: 1 }, 3),
    (r) => [r.mask],
  );
  const z = (s: SoundscapeSet): { z: Float32Array; y: number[] } => ({ z: s.logmel.slice(0, s.n * 8), y: s.speech });
  await sameTwice(
    'trainAttacker',
    () => trainAttacker(z(train), z(val), 8, config.attacker, new Rng(3).derive('speech')),
    (r) => [r.model],
  );
});
