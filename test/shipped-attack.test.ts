// Attack what ships (issue 11, deliverable 2): with an exported obfuscator whose last convolution is
// zeroed, the magnitude carries nothing; an informed gender attacker retrained on the re-analysed
// phase-free PCM (shipped.ts, exactly as the experiments make it) must then be at chance within its 95%
// interval, and the re-analysed log1p|STFT| must not correlate with the input's (|r| < 0.05). The control
// is the same model with the unsafe original phase: the same attacker then recovers gender (the leak this
// test exists to catch), so the chance result is the synthesis's doing, not a weak attacker's.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { encodeWav, loadAudio } from '../src/audio/io.js';
import type { LabelledSet, SpecSet } from '../src/data/spec-set.js';
import type { Utterance } from '../src/data/types.js';
import { plainStateDict } from '../src/deploy/export.js';
import { exportGenerator } from '../src/edge/export-obfuscator.js';
import { encodeModel } from '../src/edge/onnx.js';
import { Ds2Frontend, normalizeInPlace } from '../src/edge/spectrogram.js';
import { resolveSynthesisConfig, type PhaseMethod } from '../src/edge/synthesis.js';
import { scoreClassification } from '../src/eval/metrics.js';
import { shippedFeatures } from '../src/eval/optin/shipped.js';
import { predict, resolveClassifierTrainConfig, trainClassifier } from '../src/methods/classifier.js';
import { CycleGanVc2Generator, resolveCycleGanVc2Config } from '../src/models/cyclegan-vc2.js';
import { resolveDeepSpeech2Config } from '../src/models/deepspeech2.js';
import { manualSeed, memory } from '../src/tensor/index.js';

const dir = mkdtempSync(path.join(tmpdir(), 'earmark-shipped-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** 12 speakers (6 female around 230 Hz, 6 male around 120 Hz) × 4 takes of a gliding harmonic tone, 0.6 s. */
function corpus(): (Utterance & { female: number })[] {
  const out: (Utterance & { female: number })[] = [];
  for (let s = 0; s < 12; s++) {
    const female = s % 2;
    const f0 = (female ? 210 : 105) + 6 * Math.floor(s / 2);
    for (let k = 0; k < 4; k++) {
      const x = new Float32Array(9600);
      for (let i = 0; i < x.length; i++) {
        const t = i / 16000;
        const f = f0 * (1 + 0.03 * k + 0.05 * t) + 3 * Math.sin(2 * Math.PI * 4 * t);
        for (let h = 1; h <= 8; h++)
          x[i]! += (0.25 / h) * Math.sin(2 * Math.PI * f * h * t + k) * (0.6 + 0.4 * Math.sin(2 * Math.PI * 3 * t + s));
      }
      const file = path.join(dir, `s${s}_${k}.wav`);
      writeFileSync(file, encodeWav(x, 16000));
      out.push({ id: `s${s}_${k}`, path: file, speaker: `s${s}`, corpus: 'tones', female });
    }
  }
  return out;
}

function zeroedModel(): string {
  manualSeed(12);
  const g = new CycleGanVc2Generator(resolveCycleGanVc2Config({ channels: 4, residualBlocks: 1 }));
  const w = plainStateDict(g);
  g.dispose();
  for (const k of ['lastConvLayer.weight', 'lastConvLayer.bias']) w.get(k)!.data.fill(0);
  const file = path.join(dir, 'zeroed.onnx');
  writeFileSync(file, encodeModel(exportGenerator({ nFreq: 161, channels: 4, residualBlocks: 1 }, w)));
  return file;
}

function corr(a: Float32Array, b: Float32Array): number {
  const n = a.length;
  let ma = 0,
    mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i]!;
    mb += b[i]!;
  }
  ma /= n;
  mb /= n;
  let ab = 0,
    aa = 0,
    bb = 0;
  for (let i = 0; i < n; i++) {
    const u = a[i]! - ma,
      v = b[i]! - mb;
    ab += u * v;
    aa += u * u;
    bb += v * v;
  }
  return ab / Math.sqrt(aa * bb);
}

/** The shipped PCM of every utterance, re-analysed (per-utterance normalised), through shipped.ts. */
async function shippedPcm(utts: Utterance[], onnx: string, method: PhaseMethod): Promise<Float32Array[]> {
  const options = {
    onnx,
    modelHash: `zeroed-${method}`,
    window: { windowFrames: 128, lookaheadFrames: 16, outputMean: 1, outputStd: 1 },
    synthesis: resolveSynthesisConfig({ method }),
    formats: ['pcm'],
  };
  return Promise.all(utts.map(async (u) => (await shippedFeatures(u, options)).data));
}

/** Informed gender attacker: trained on takes 0–1 (val: take 2) of every speaker, tested on take 3. */
async function informedAttack(
  utts: (Utterance & { female: number })[],
  specs: Float32Array[],
): Promise<ReturnType<typeof scoreClassification>> {
  const part = (takes: number[]): LabelledSet => {
    const idx = utts.map((u, i) => [u, i] as const).filter(([u]) => takes.includes(Number(u.id.split('_')[1])));
    const set: SpecSet = {
      ids: idx.map(([u]) => u.id),
      specs: idx.map(([, i]) => specs[i]!),
      frames: idx.map(([, i]) => specs[i]!.length / 161),
      nFreq: 161,
    };
    return { set, labels: idx.map(([u]) => u.female), numClasses: 2 };
  };
  const [train, val, test] = [part([0, 1]), part([2]), part([3])];
  manualSeed(5);
  const r = await trainClassifier({
    name: 'informed gender',
    modelConfig: resolveDeepSpeech2Config({ numClasses: 2, convChannels: 4, rnnLayers: 1, hiddenSize: 16 }),
    train,
    val,
    quiet: true,
    config: resolveClassifierTrainConfig({ epochs: 8, batchSize: 8, cropFrames: 32, lr: 3e-3, seed: 5 }),
  });
  const s = scoreClassification(predict(r.model, test.set), test.labels, 2, 0);
  r.model.dispose();
  return s;
}

test('a zeroed obfuscator: the re-analysed shipped PCM does not correlate with the input and an informed attacker trained on it is at chance; the original phase leaks', async (t) => {
  const before = memory().numTensors;
  const utts = corpus();
  const onnx = zeroedModel();
  const safe = await shippedPcm(utts, onnx, 'rtisi-la');
  const fe = new Ds2Frontend();
  const inputs = await Promise.all(
    utts.map(async (u, i) => {
      const x = fe.analyze((await loadAudio(u.path, { mono: true, sampleRate: 16000 })).samples).logMag;
      assert.equal(x.length, safe[i]!.length, `${u.id}: the output has the input's frames`);
      normalizeInPlace(x);
      return x;
    }),
  );
  const r = corr(Float32Array.from(inputs.flatMap((x) => [...x])), Float32Array.from(safe.flatMap((x) => [...x])));
  t.diagnostic(`correlation of the re-analysed shipped PCM with the input: ${r.toFixed(4)}`);
  assert.ok(Math.abs(r) < 0.05, `re-analysed PCM correlates ${r.toFixed(3)} with the input (limit 0.05)`);
  const attack = await informedAttack(utts, safe);
  const unsafe = await informedAttack(utts, await shippedPcm(utts, onnx, 'unsafe-original-phase'));
  t.diagnostic(
    `informed gender attacker on the shipped PCM: ${(100 * attack.accuracy).toFixed(1)}% [${(100 * attack.accuracyCI.lo).toFixed(1)}, ` +
      `${(100 * attack.accuracyCI.hi).toFixed(1)}]; with the original phase: ${(100 * unsafe.accuracy).toFixed(1)}% [${(100 * unsafe.accuracyCI.lo).toFixed(1)}, ${(100 * unsafe.accuracyCI.hi).toFixed(1)}]`,
  );
  assert.ok(
    attack.accuracyCI.lo <= 0.5 && 0.5 <= attack.accuracyCI.hi,
    `the informed attacker on phase-free PCM must be at chance within its interval: ${JSON.stringify(attack.accuracyCI)}`,
  );
  assert.ok(
    unsafe.accuracyCI.lo > 0.5,
    `control: with the original phase the attacker recovers gender (${JSON.stringify(unsafe.accuracyCI)})`,
  );
  assert.equal(memory().numTensors, before);
});
