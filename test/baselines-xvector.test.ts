// x-vector extractor shapes and normalisation, and the VoicePrivacy-style verification protocol on a
// synthetic corpus where each speaker has its own spectral profile.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ds2FeatureSpec, type Corpus, type Splits, type Utterance } from '../src/data/index.js';
import type { ExperimentData } from '../src/data/experiment-data.js';
import {
  evaluateVerification,
  extractXVectors,
  makeTrialList,
  resolveVerificationConfig,
  scoreTrials,
} from '../src/eval/verification.js';
import { trainCleanXVector } from '../src/methods/xvector.js';
import { resolveXVectorConfig, statsPooling, XVector, XVECTOR_MIN_FRAMES } from '../src/models/xvector.js';
import type { SpecSet } from '../src/data/spec-set.js';
import { memory, randn, tensor, tidy } from '../src/tensor/index.js';

test('x-vector shapes, unit length, parameter count of the paper size, and the context check', () => {
  const before = memory().numTensors;
  const paper = new XVector(resolveXVectorConfig({ nFeatures: 30, numSpeakers: 10 }));
  // Snyder et al. with 30-d MFCCs: frame layers 30·5·512 … + 2·1500→512 + 512→512 (+ BN) + softmax
  const frame = (30 * 5 + 1) * 512 + (512 * 3 + 1) * 512 + (512 * 3 + 1) * 512 + (512 + 1) * 512 + (512 + 1) * 1500;
  const bn = 2 * (512 * 4 + 1500) + 2 * 2 * 512;
  const seg = (3000 + 1) * 512 + (512 + 1) * 512 + (512 + 1) * 10;
  assert.equal(paper.numParameters(), frame + bn + seg);
  paper.dispose();

  const m = new XVector(
    resolveXVectorConfig({ nFeatures: 20, channels: 16, poolChannels: 24, embedDim: 12, numSpeakers: 3 }),
  );
  tidy(() => {
    const x = randn([4, 20, 40]);
    assert.deepEqual(m.forward(x).shape, [4, 3]);
    m.eval();
    const e = m.embed(x);
    assert.deepEqual(e.shape, [4, 12]);
    const norms = e.norm(2, 1).toFloat32Array();
    for (const v of norms) assert.ok(Math.abs(v - 1) < 1e-5);
    // eval-mode embeddings do not depend on the batch
    const one = m.embed(x.narrow(0, 1, 1)).toFloat32Array();
    const row = e.narrow(0, 1, 1).toFloat32Array();
    for (let i = 0; i < 12; i++) assert.ok(Math.abs(one[i]! - row[i]!) < 1e-5);
    assert.throws(() => m.embed(randn([1, 20, XVECTOR_MIN_FRAMES - 1])), /at least 15/);
    assert.throws(() => m.embed(randn([1, 19, 40])), /\(B, 20, T\)/);
    // statistics pooling: [mean, std] over time
    const p = statsPooling(tensor([1, 3, 2, 2], [1, 2, 2])).toFloat32Array();
    assert.deepEqual(
      Array.from(p, (v) => Math.round(v * 1000) / 1000),
      [2, 2, 1, 0.003],
    );
  });
  m.dispose();
  assert.equal(memory().numTensors, before);
});

/** 4 speakers (2 female, 2 male) × 24 utterances; each speaker has its own spectral profile over 20 bins. */
function syntheticData(): ExperimentData {
  let s = 99;
  const u = (): number => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
  const speakers = ['F1', 'F2', 'M1', 'M2'];
  const profiles = speakers.map(() => Float32Array.from({ length: 20 }, () => 2 * u() - 1));
  const utts: Utterance[] = [];
  const sets: Record<'train' | 'val' | 'test', SpecSet> = {
    train: { ids: [], specs: [], frames: [], nFreq: 20 },
    val: { ids: [], specs: [], frames: [], nFreq: 20 },
    test: { ids: [], specs: [], frames: [], nFreq: 20 },
  };
  speakers.forEach((spk, k) => {
    for (let j = 0; j < 24; j++) {
      const id = `${spk}_${String(j).padStart(2, '0')}`;
      utts.push({
        id,
        path: `/nonexistent/${id}.wav`,
        speaker: spk,
        gender: spk.startsWith('F') ? 'female' : 'male',
        corpus: 'synthetic',
      });
      const frames = 30 + Math.floor(20 * u());
      const spec = new Float32Array(20 * frames);
      for (let f = 0; f < 20; f++)
        for (let t = 0; t < frames; t++) spec[f * frames + t] = profiles[k]![f]! + 1.0 * (2 * u() - 1);
      const split = j < 14 ? sets.train : j < 16 ? sets.val : sets.test;
      split.ids.push(id);
      split.specs.push(spec);
      split.frames.push(frames);
    }
  });
  const corpus: Corpus = {
    name: 'synthetic',
    root: '/nonexistent',
    utterances: utts,
    labelNames: ['speaker', 'gender'],
  };
  return {
    corpus,
    splits: {} as Splits,
    sets,
    byId: new Map(utts.map((x) => [x.id, x])),
    stats: new Map(),
    skipped: [],
    featureSpec: ds2FeatureSpec(),
  };
}

test('trial lists: half of each speaker enrols, the rest are trials; same-gender scoring with known EERs', () => {
  const data = syntheticData();
  const list = makeTrialList(data, data.sets.test, 0);
  assert.equal(list.enrol.size, 4);
  for (const ids of list.enrol.values()) assert.equal(ids.length, 4);
  assert.equal(list.trials.length, 16);
  // x-vectors that are one-hot per speaker → perfect verification; identical vectors → chance
  const onehot = new Map(
    data.sets.test.ids.map((id) => {
      const v = new Float32Array(4);
      v[['F1', 'F2', 'M1', 'M2'].indexOf(id.slice(0, 2))] = 1;
      return [id, v];
    }),
  );
  const perfect = scoreTrials(list, onehot, onehot);
  assert.deepEqual(Object.keys(perfect), ['all', 'female', 'male']);
  assert.equal(perfect.all!.eer, 0);
  assert.equal(perfect.female!.targets, 8);
  assert.equal(perfect.female!.nonTargets, 8); // 8 female trials × the other female speaker
  const same = new Map(data.sets.test.ids.map((id) => [id, Float32Array.of(1, 1, 1, 1)]));
  assert.equal(scoreTrials(list, same, same).all!.eer, 0.5);
});

test('verification: a frequency flip fools the ignorant attacker, not the informed one (tiny run)', async () => {
  const before = memory().numTensors;
  const data = syntheticData();
  const config = resolveVerificationConfig('cpu', {
    xvector: { channels: 24, poolChannels: 32, embedDim: 16 },
    train: { epochs: 8, batchSize: 8, cropFrames: 24, lr: 3e-3 },
  });
  const clean = await trainCleanXVector(data, config);
  assert.equal(clean.history.length, 8);
  const xv = extractXVectors(clean.model, data.sets.test);
  assert.equal(xv.length, data.sets.test.ids.length);
  assert.equal(xv[0]!.length, 16);
  const r = await evaluateVerification({ data, system: 'flip', output: (x) => x.flip(1), clean: clean.model, config });
  clean.model.dispose();
  assert.ok(r.original.all!.eer < 0.1, `original EER ${r.original.all!.eer}`);
  assert.ok(
    r.ignorant.all!.eer > r.original.all!.eer + 0.2,
    `ignorant EER ${r.ignorant.all!.eer} vs original ${r.original.all!.eer}`,
  );
  assert.ok(r.informed.all!.eer < 0.15, `informed EER ${r.informed.all!.eer}`);
  assert.deepEqual(r.trials, { speakers: 4, enrolment: 16, trials: 16 });
  assert.equal(memory().numTensors, before);
});
