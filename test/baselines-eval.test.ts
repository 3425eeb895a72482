// The baselines' evaluation functions end to end on tiny data: McAdams spectrogram sets from real WAV
// files through the feature cache, a spectrogram system judged by T and DS2 attackers, and ADR judged by
// classifiers on x-vectors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { encodeWav } from '../src/audio/io.js';
import { testSignal } from '../src/audio/testing.js';
import { ds2FeatureSpec, type Corpus, type Splits, type Utterance } from '../src/data/index.js';
import { mcadamsSpecSets } from '../src/data/features-mcadams.js';
import { evaluateAdr, evaluateSpecSystem, resolveAdrEvalConfig } from '../src/eval/baselines.js';
import { loadExperimentData, labelled, DATASET_DEFAULTS, type ExperimentData } from '../src/data/experiment-data.js';
import { trainCleanXVector } from '../src/methods/xvector.js';
import { resolveVerificationConfig } from '../src/eval/verification.js';
import type { SpecSet } from '../src/data/spec-set.js';
import { resolveClassifierTrainConfig, trainClassifier } from '../src/methods/classifier.js';
import { resolveDeepSpeech2Config } from '../src/models/deepspeech2.js';
import { memory } from '../src/tensor/index.js';

/** 4 speakers (2 f, 2 m) × 10 clips of 0.4 s in a temporary CSV corpus. */
function wavCorpus(): { dir: string; manifest: string } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'earmark-baselines-'));
  mkdirSync(path.join(dir, 'wav'));
  const rows = ['path,speaker,gender'];
  for (const [k, spk] of ['F1', 'F2', 'M1', 'M2'].entries()) {
    for (let j = 0; j < 10; j++) {
      const file = `wav/${spk}_${j}.wav`;
      writeFileSync(path.join(dir, file), encodeWav(testSignal(6400, 16000, 100 * k + j), 16000));
      rows.push(`${file},${spk},${spk.startsWith('F') ? 'female' : 'male'}`);
    }
  }
  const manifest = path.join(dir, 'labels.csv');
  writeFileSync(manifest, rows.join('\n') + '\n');
  return { dir, manifest };
}

test('McAdams spectrogram sets: twins of every split, alpha 1 ≈ clean, per-utterance alpha in range; T and attackers judge them', async () => {
  const before = memory().numTensors;
  const { dir, manifest } = wavCorpus();
  try {
    const data = await loadExperimentData(
      { ...DATASET_DEFAULTS, layout: 'csv', manifest },
      path.join(dir, 'run'),
      false,
    );
    const same = await mcadamsSpecSets(data, { alpha: 1 }, path.join(dir, 'run', 'features'), {
      workers: 0,
      progress: false,
    });
    for (const k of ['train', 'val', 'test'] as const) {
      const c = data.sets[k];
      const a = same.sets[k];
      assert.deepEqual(a.ids, c.ids);
      assert.deepEqual(a.frames, c.frames);
      assert.equal(same.twin.get(c), a);
    }
    // alpha 1: the un-normalised log spectrogram matches the clean one away from the edges
    const c = data.sets.train;
    const a = same.sets.train;
    for (let i = 0; i < 3; i++) {
      const id = c.ids[i]!;
      const sc = data.stats.get(id)!;
      const frames = c.frames[i]!;
      let maxErr = 0;
      const anonStats = { mean: 0, std: 1 };
      // mean/std of the anonymised utterance: recover from its normalised values and the clean log-magnitude
      const clean = c.specs[i]!.map((v) => v * sc.std + sc.mean);
      const an = a.specs[i]!;
      // least-squares fit an = (clean − m)/s over interior columns gives the anonymised stats
      let sx = 0,
        sy = 0,
        sxx = 0,
        sxy = 0,
        n = 0;
      for (let f = 0; f < 161; f++)
        for (let t = 4; t < frames - 4; t++) {
          const x = an[f * frames + t]!;
          const y = clean[f * frames + t]!;
          sx += x;
          sy += y;
          sxx += x * x;
          sxy += x * y;
          n++;
        }
      anonStats.std = (n * sxy - sx * sy) / (n * sxx - sx * sx);
      anonStats.mean = (sy - anonStats.std * sx) / n;
      for (let f = 0; f < 161; f++)
        for (let t = 4; t < frames - 4; t++) {
          maxErr = Math.max(
            maxErr,
            Math.abs(an[f * frames + t]! * anonStats.std + anonStats.mean - clean[f * frames + t]!),
          );
        }
      assert.ok(maxErr < 1e-3, `utterance ${id}: max log-magnitude error ${maxErr}`);
    }
    const anon = await mcadamsSpecSets(data, { alpha: null, seed: 3 }, path.join(dir, 'run', 'features'), {
      workers: 0,
      progress: false,
    });
    assert.notEqual(anon.file, same.file);
    for (const v of anon.alphas.values()) assert.ok(v >= 0.5 && v < 0.9);
    assert.ok(new Set(anon.alphas.values()).size > 10);

    // judged like the obfuscator: T (gender) and a speaker attacker, one epoch each (structure only)
    const model = { ...resolveDeepSpeech2Config({ convChannels: 2, rnnLayers: 1, hiddenSize: 8 }) } as Record<
      string,
      unknown
    >;
    delete model.numClasses;
    const train = resolveClassifierTrainConfig({ epochs: 1, batchSize: 8, cropFrames: 32 });
    const tSets = { train: labelled(data, data.sets.train, 'gender'), val: labelled(data, data.sets.val, 'gender') };
    const T = await trainClassifier({
      name: 'T',
      modelConfig: resolveDeepSpeech2Config({ ...model, numClasses: 2 }),
      train: tSets.train,
      val: tSets.val,
      config: train,
      quiet: true,
    });
    const r = await evaluateSpecSystem({
      data,
      system: 'mcadams',
      task: 'gender',
      attacks: ['speaker'],
      target: T.model,
      twin: anon.twin,
      model: model as never,
      attackerTrain: train,
    });
    T.model.dispose();
    assert.equal(r.target.transformed.n, data.sets.test.ids.length);
    assert.equal(r.attacks.length, 1);
    assert.equal(r.attacks[0]!.attribute, 'speaker');
    assert.deepEqual(r.attacks[0]!.classes, ['F1', 'F2', 'M1', 'M2']);
    assert.equal(r.attacks[0]!.informed.chanceUniform, 0.25);
    assert.equal(r.attacks[0]!.informedHistory.length, 1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  assert.equal(memory().numTensors, before);
});

/** Spectral profiles: speaker (4), plus an emotion profile (2 emotions) that ADR is not told about. */
function syntheticData(): ExperimentData {
  let s = 5;
  const u = (): number => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
  const speakers = ['F1', 'F2', 'M1', 'M2'];
  const prof = speakers.map(() => Float32Array.from({ length: 20 }, () => 2 * u() - 1));
  const gprof = Float32Array.from({ length: 20 }, () => 2 * u() - 1);
  const eprof = Float32Array.from({ length: 20 }, () => 2 * u() - 1);
  const utts: Utterance[] = [];
  const mk = (): SpecSet => ({ ids: [], specs: [], frames: [], nFreq: 20 });
  const sets = { train: mk(), val: mk(), test: mk() };
  speakers.forEach((spk, k) => {
    for (let j = 0; j < 40; j++) {
      const id = `${spk}_${String(j).padStart(2, '0')}`;
      const emo = j % 2;
      utts.push({
        id,
        path: `/nonexistent/${id}.wav`,
        speaker: spk,
        gender: k < 2 ? 'female' : 'male',
        emotion: emo ? 'happy' : 'sad',
        corpus: 'synthetic',
      });
      const frames = 30;
      const spec = new Float32Array(20 * frames);
      for (let f = 0; f < 20; f++) {
        for (let t = 0; t < frames; t++)
          spec[f * frames + t] =
            prof[k]![f]! + (k < 2 ? 1 : -1) * gprof[f]! + (emo ? 1.5 : -1.5) * eprof[f]! + 0.8 * (2 * u() - 1);
      }
      const split = j < 24 ? sets.train : j < 28 ? sets.val : sets.test;
      split.ids.push(id);
      split.specs.push(spec);
      split.frames.push(frames);
    }
  });
  const corpus: Corpus = {
    name: 'synthetic',
    root: '/nonexistent',
    utterances: utts,
    labelNames: ['speaker', 'gender', 'emotion'],
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

test('ADR judged on x-vectors: report shape, and the unhidden attribute (emotion) stays recoverable by an informed attacker', async () => {
  const before = memory().numTensors;
  const data = syntheticData();
  const vc = resolveVerificationConfig('cpu', {
    xvector: { channels: 24, poolChannels: 32, embedDim: 32 },
    train: { epochs: 6, batchSize: 16, cropFrames: 24, lr: 3e-3 },
  });
  const ex = await trainCleanXVector(data, vc);
  const r = await evaluateAdr({
    data,
    task: 'speaker',
    attacks: ['gender', 'emotion'],
    extractor: ex.model,
    config: resolveAdrEvalConfig('cpu', {
      adr: { codeDim: 16, adversaryHidden: 16 },
      adrTrain: { preEpochs: 10, preLr: 0.05, epochs: 40, lr: 1e-3, batchSize: 16 },
      classifier: { hidden: 32, epochs: 30 },
    }),
  });
  ex.model.dispose();
  assert.equal(r.system, 'adr');
  assert.equal(r.hidden, 'gender');
  assert.equal(r.target.clean.n, 48);
  assert.deepEqual(
    r.attacks.map((a) => a.attribute),
    ['gender', 'emotion'],
  );
  assert.equal(r.training.history.length, 40);
  const emo = r.attacks[1]!;
  assert.ok(emo.clean.accuracy > 0.8, `clean emotion accuracy ${emo.clean.accuracy}`);
  assert.ok(emo.informed.accuracy > 0.7, `informed emotion accuracy on ADR x-vectors ${emo.informed.accuracy}`);
  assert.ok(r.verification.original.all!.eer < 0.25, `x-vector EER ${r.verification.original.all!.eer}`);
  assert.equal(memory().numTensors, before);
});
