// The linear probe of a built-in speech corpus (log-mel statistics through the Tensor stft, logistic
// regression): runs on a tiny corpus, reports sane numbers, separates two clearly different classes,
// and frees every tensor it makes.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { logisticAccuracy, probeSpeechCorpus } from '../src/data/builtin/probe.js';
import { buildSpeechCorpus } from '../src/data/builtin/speech.js';
import { Rng } from '../src/util/rng.js';
import { memory } from '../src/tensor/index.js';

const root = mkdtempSync(path.join(tmpdir(), 'earmark-probe-'));
after(() => rmSync(root, { recursive: true, force: true }));

describe('probe', () => {
  test('logistic regression separates two shifted Gaussian clouds and not random labels', () => {
    const before = memory().numTensors;
    const r = new Rng(1);
    const gauss = (): number => Math.sqrt(-2 * Math.log(1 - r.next())) * Math.cos(2 * Math.PI * r.next());
    const x: Float32Array[] = [];
    const y: number[] = [];
    for (let i = 0; i < 200; i++) {
      y.push(i % 2);
      x.push(Float32Array.from({ length: 5 }, (_, j) => gauss() + (j === 0 ? 4 * (i % 2) : 0)));
    }
    const idx = [...Array(200).keys()];
    const train = idx.filter((i) => i < 150);
    const test = idx.filter((i) => i >= 150);
    assert.ok(logisticAccuracy(x, y, train, test, 2) >= 0.96);
    const noise = y.map(() => r.int(2)); // labels unrelated to x
    assert.ok(logisticAccuracy(x, noise, train, test, 2) < 0.8);
    assert.equal(memory().numTensors, before);
  });

  test('runs on a tiny corpus and frees its tensors', async () => {
    const before = memory().numTensors;
    const { out } = await buildSpeechCorpus({
      seed: 3,
      speakers: ['F01', 'F02', 'M01', 'M02'],
      emotions: ['neutral', 'sad'],
      sentences: 2,
      out: path.join(root, 'tiny'),
    });
    const r = await probeSpeechCorpus(out);
    assert.equal(r.clips, 16);
    assert.equal(r.speakers, 4);
    for (const k of ['gender', 'speaker', 'emotion'] as const) assert.ok(r[k].accuracy >= 0 && r[k].accuracy <= 1);
    assert.equal(r.gender.chance, 0.5);
    assert.equal(r.speaker.chance, 0.25);
    assert.equal(memory().numTensors, before);
  });
});
