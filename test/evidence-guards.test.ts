// Tests that catch the training failures issue 11 names, each with a tiny run of the real loop:
//  - the privacy term's sign: the obfuscator must RAISE L_p (λ_t = 0 isolates it): with λ_p = 1 its
//    L_p ends above the same run's with λ_p = 0, which a flipped sign (λ_t·L_t + λ_p·L_p) reverses;
//  - the frozen target stays frozen including its BatchNorm buffers (running mean and variance), not
//    only its parameters: a target left in train mode would drift its statistics on obfuscated audio;
//  - RDAL's weight replacement: after every replacement inside the loop the adversary D equals the fresh
//    classifier D^τ, and the replacements are counted (one per period once α > 0).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { manualSeed, memory, tidy } from '../src/tensor/index.js';
import { CycleGanVc2Generator } from '../src/models/cyclegan-vc2.js';
import { DeepSpeech2 } from '../src/models/deepspeech2.js';
import { resolveObfuscatorTrainConfig, trainObfuscator } from '../src/methods/obfuscator.js';
import { resolveRdalConfig, trainRdal } from '../src/methods/rdal/index.js';
import type { SoundscapeSet } from '../src/data/soundscape-set.js';
import { Rng } from '../src/util/rng.js';
import { toySet, tinyDs2, tinyGen } from './toy-obfuscator.js';

/** The chirps with a cosine on top, so that T has more than one cue. */
const wobble = { extra: (i: number, j: number) => 0.3 * Math.cos(j * 0.37 + i) };

test('the obfuscator raises L_p: λ_p = 1 ends with a larger privacy loss than λ_p = 0 (a flipped sign makes it smaller)', async () => {
  const before = memory().numTensors;
  manualSeed(21);
  const target = new DeepSpeech2(tinyDs2);
  const data = toySet(8, 32, wobble);
  const lp = async (lambdaP: number): Promise<number[]> => {
    manualSeed(4); // the same initial networks for both runs
    const r = await trainObfuscator({
      target,
      obfuscatorConfig: tinyGen,
      deobfuscatorConfig: tinyGen,
      train: data.set,
      val: data,
      quiet: true,
      config: resolveObfuscatorTrainConfig({
        epochs: 3,
        batchSize: 4,
        cropFrames: 16,
        optimizer: 'adam',
        lr: 3e-3,
        lambdaT: 0,
        lambdaP,
        selection: 'last',
        seed: 7,
      }),
    });
    r.obfuscator.dispose();
    r.deobfuscator.dispose();
    return r.history.map((e) => e.lp);
  };
  const pushed = await lp(1);
  const idle = await lp(0);
  target.dispose();
  assert.equal(memory().numTensors, before);
  assert.ok(
    pushed.at(-1)! > idle.at(-1)! + 0.01,
    `L_p per epoch with λ_p = 1: ${pushed.map((v) => v.toFixed(4))}; with λ_p = 0: ${idle.map((v) => v.toFixed(4))}`,
  );
  assert.ok(
    pushed.at(-1)! > pushed[0]!,
    `L_p must rise while the obfuscator maximises it: ${pushed.map((v) => v.toFixed(4))}`,
  );
});

test("obfuscator training leaves T's BatchNorm buffers (running mean and variance) bit-identical, not only its parameters", async () => {
  const before = memory().numTensors;
  manualSeed(22);
  const target = new DeepSpeech2(tinyDs2);
  const buffers = [...target.stateDict()].filter(([k]) => /running_(mean|var)|num_batches_tracked/.test(k));
  assert.ok(buffers.length >= 4, `T has BatchNorm buffers (${buffers.map(([k]) => k).join(', ')})`);
  const bytes = (t: (typeof buffers)[number][1]): Buffer =>
    tidy(() => Buffer.from(t.contiguous().float().toFloat32Array().buffer));
  const snapshot = new Map(buffers.map(([k, t]) => [k, bytes(t)]));
  const data = toySet(6, 24, wobble);
  const r = await trainObfuscator({
    target,
    obfuscatorConfig: tinyGen,
    deobfuscatorConfig: tinyGen,
    train: data.set,
    val: data,
    quiet: true,
    config: resolveObfuscatorTrainConfig({ epochs: 1, batchSize: 3, cropFrames: 16, identityWarmupSteps: 2, seed: 3 }),
  });
  for (const [k, t] of target.stateDict()) {
    if (snapshot.has(k)) assert.deepEqual(bytes(t), snapshot.get(k), `T's buffer ${k} changed`);
  }
  r.obfuscator.dispose();
  r.deobfuscator.dispose();
  target.dispose();
  assert.equal(memory().numTensors, before);
});

/** A synthetic soundscape split: 2 event classes, half the clips with a speech-like band (64 mels × 100 frames). */
function soundscapes(split: 'train' | 'val' | 'eval', n: number, seed: number): SoundscapeSet {
  const rng = new Rng(seed);
  const nMels = 64,
    frames = 100,
    row = nMels * frames;
  const logmel = new Float32Array(n * row);
  const event: number[] = [],
    speech: number[] = [],
    gender: number[] = [];
  for (let i = 0; i < n; i++) {
    event.push(i % 2);
    speech.push(Math.floor(i / 2) % 2);
    gender.push(speech[i] ? (i % 3 === 0 ? 0 : 1) : -1);
    for (let m = 0; m < nMels; m++)
      for (let t = 0; t < frames; t++) {
        logmel[i * row + m * frames + t] =
          rng.uniform(-1, 1) + (event[i] && m < 16 ? 2 : 0) + (speech[i] && m >= 30 && m < 40 && t % 10 < 5 ? 2 : 0);
      }
  }
  return {
    split,
    n,
    nMels,
    frames,
    logmel,
    melPower: logmel.map((v) => Math.exp(v)),
    eventPower: null,
    event,
    speech,
    gender,
    paths: Array.from({ length: n }, (_, i) => `${split}${i}`),
  };
}

test('RDAL: after every replacement inside the loop the adversary equals the fresh classifier, and the replacements are counted', () => {
  const before = memory().numTensors;
  const config = resolveRdalConfig({
    model: { channels: [4, 4, 4, 8], latent: 8, numClasses: 2 },
    train: {
      maxEpochs: 6,
      batchPairs: 4,
      alphaZeroEpochs: 1,
      alphaGamma: 100,
      period: 2,
      patienceEpochs: 10,
      patiencePeriods: 10,
      seed: 1,
    },
    attacker: { maxEpochs: 6, patience: 2, batchSize: 8 },
  });
  const seen: number[] = [];
  const run = trainRdal({
    method: 'rdal',
    config,
    train: soundscapes('train', 16, 1),
    val: soundscapes('val', 8, 2),
    quiet: true,
    onReplace: (epoch, adversary, fresh) => {
      seen.push(epoch);
      const d = adversary.stateDict();
      for (const [k, t] of fresh.stateDict())
        assert.deepEqual(
          Buffer.from(d.get(k)!.toFloat32Array().buffer),
          Buffer.from(t.toFloat32Array().buffer),
          `epoch ${epoch}: D's ${k} is not D^τ's`,
        );
    },
  });
  // period 2 → verifications at epochs 1, 3, 5; α > 0 from epoch 2 on (one zero epoch, then the schedule's 0 at its start)
  const expected = run.history.filter((h) => h.epoch % 2 === 1 && h.alpha > 0).map((h) => h.epoch);
  assert.ok(expected.length >= 2, `replacement epochs ${expected}`);
  assert.deepEqual(seen, expected);
  assert.equal(run.replacements, expected.length);
  assert.deepEqual(
    run.history.filter((h) => h.replaced).map((h) => h.epoch),
    expected,
  );
  for (const m of [run.encoder, run.head, run.adversary]) m.dispose();
  assert.equal(memory().numTensors, before);
});
