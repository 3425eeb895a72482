// Window-aware training runs the deployed windowed rule (issue 14, item 3): windowNormalize on a crop of DS2's
// per-utterance normalised features equals the edge's per-window normalisation (normalizeInPlace) of the same
// frames of log1p|STFT|; obfuscateCrop's stitched windows equal the edge's windowed output (edge/obfuscate.ts);
// the sweep's window points train with it, and an unset windowsPerCrop leaves the obfuscator's identity as it was.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalJson } from '../src/config/fingerprint.js';
import { normalizeInPlace } from '../src/edge/spectrogram.js';
import { obfuscateCrop, windowNormalize } from '../src/methods/obfuscator-crop.js';
import { obfuscateSpectrogram } from '../src/edge/obfuscate.js';
import type { FloatArray } from '../src/edge/runtime.js';
import { resolveObfuscatorTrainConfig, trainObfuscator } from '../src/methods/obfuscator.js';
import { resolveCycleGanVc2Config } from '../src/models/cyclegan-vc2.js';
import { DeepSpeech2, resolveDeepSpeech2Config } from '../src/models/deepspeech2.js';
import { pointConfig } from '../src/eval/sweep/grid.js';
import { resolveExperimentConfig } from '../src/eval/optin/config.js';
import { manualSeed, memory, tensor, tidy } from '../src/tensor/index.js';
import { Rng } from '../src/util/rng.js';

test("windowNormalize of a crop of per-utterance features = the edge's per-window normalisation of log1p|STFT|", () => {
  const before = memory().numTensors;
  const F = 161;
  const N = 300;
  const rng = new Rng(3);
  const logMag = Float32Array.from({ length: F * N }, (_, i) => Math.log1p(rng.uniform(0, 2) * (1 + (i % N) / 50)));
  const utt = Float32Array.from(logMag);
  normalizeInPlace(utt); // DS2's per-utterance normalisation
  for (const [start, len] of [
    [0, 12],
    [137, 40],
    [172, 128],
  ] as const) {
    const crop = (s: Float32Array): Float32Array => {
      const out = new Float32Array(F * len);
      for (let f = 0; f < F; f++) for (let t = 0; t < len; t++) out[f * len + t] = s[f * N + start + t]!;
      return out;
    };
    const want = crop(logMag);
    normalizeInPlace(want); // the deployed window's input
    const got = tidy(() => windowNormalize(tensor(crop(utt), [1, F, len])).toFloat32Array());
    let err = 0;
    for (let i = 0; i < want.length; i++) err = Math.max(err, Math.abs(got[i]! - want[i]!));
    assert.ok(err < 1e-4, `window [${start}, ${start + len}): max |diff| ${err}`);
    // and it is not the identity: the utterance's normalisation differs from the window's
    const raw = crop(utt);
    assert.ok(
      raw.some((v, i) => Math.abs(v - want[i]!) > 0.05),
      'a window must be renormalised',
    );
  }
  assert.equal(memory().numTensors, before);
});

test("windowed training runs the deployed rule: obfuscateCrop's stitched centre = the edge's windowed output, normalised", async () => {
  const before = memory().numTensors;
  const F = 161;
  const [W, M, k] = [8, 2, 5];
  const N = k * W + 2 * M;
  const rng = new Rng(9);
  const crop = Float32Array.from({ length: F * N }, (_, i) => rng.uniform(-1, 1) * (1 + (i % N) / 7));
  // the edge: the same crop as an utterance, windows of W + 2M frames with M of look-ahead, forward = tanh
  const tanh = async (x: FloatArray): Promise<FloatArray> => ({ data: x.data.map(Math.tanh), dims: x.dims });
  const edge = await obfuscateSpectrogram(tanh, crop, F, N, {
    windowFrames: W + 2 * M,
    lookaheadFrames: M,
    outputMean: 0,
    outputStd: 1,
  });
  const want = new Float32Array(F * k * W);
  for (let f = 0; f < F; f++) for (let t = 0; t < k * W; t++) want[f * k * W + t] = edge[f * N + M + t]!;
  normalizeInPlace(want);
  const got = tidy(() =>
    obfuscateCrop((x) => x.tanh(), tensor(crop, [1, F, N]), {
      cropFrames: W,
      contextFrames: M,
      windowsPerCrop: k,
    }).toFloat32Array(),
  );
  assert.equal(got.length, want.length);
  let err = 0;
  for (let i = 0; i < want.length; i++) err = Math.max(err, Math.abs(got[i]! - want[i]!));
  assert.ok(err < 1e-4, `max |diff| ${err}`);
  assert.equal(memory().numTensors, before);
});

test("the sweep's window points train through the deployed rule; other points and older configs are as they were", () => {
  const base = resolveExperimentConfig('cpu', { experiment: 'fig4' });
  const w = pointConfig(base, { id: 'lp1-w8m2', lambdaP: 1, window: { w: 8, m: 2 } }).obfuscatorTrain;
  assert.deepEqual([w.cropFrames, w.contextFrames, w.windowsPerCrop], [8, 2, 12]);
  const w32 = pointConfig(base, { id: 'lp1-w32m4', lambdaP: 1, window: { w: 32, m: 4 } }).obfuscatorTrain;
  assert.equal(w32.windowsPerCrop, 3);
  assert.equal(pointConfig(base, { id: 'lp1', lambdaP: 1 }).obfuscatorTrain.windowsPerCrop, undefined);
  assert.doesNotMatch(canonicalJson(resolveObfuscatorTrainConfig({})), /windowsPerCrop/);
  for (const bad of [
    { windowsPerCrop: 2 },
    { windowsPerCrop: -1, contextFrames: 2 },
    { windowsPerCrop: 1.5, contextFrames: 2 },
  ])
    assert.throws(() => resolveObfuscatorTrainConfig({ cropFrames: 8, ...bad }), /windowsPerCrop/);
});
test('the trainer uses the windowed rule only when asked, and leaks no tensor doing so', async () => {
  const before = memory().numTensors;
  manualSeed(5);
  const target = new DeepSpeech2(
    resolveDeepSpeech2Config({ numClasses: 3, convChannels: 2, rnnLayers: 1, hiddenSize: 8 }),
  );
  const specs = Array.from({ length: 8 }, (_, i) =>
    Float32Array.from({ length: 161 * 32 }, (_, j) => Math.sin(i + j * 0.013 * (1 + (i % 3))) + 0.02 * (j % 32)),
  );
  const data = {
    set: { ids: specs.map((_, i) => `u${i}`), specs, frames: specs.map(() => 32), nFreq: 161 },
    labels: specs.map((_, i) => i % 3),
    numClasses: 3,
  };
  const gen = resolveCycleGanVc2Config({ channels: 4, residualBlocks: 1 });
  const weights = async (windowsPerCrop: number | undefined): Promise<Float32Array[]> => {
    const r = await trainObfuscator({
      target,
      obfuscatorConfig: gen,
      deobfuscatorConfig: gen,
      train: data.set,
      val: data,
      quiet: true,
      config: resolveObfuscatorTrainConfig({
        epochs: 1,
        batchSize: 4,
        cropFrames: 8,
        contextFrames: 2,
        windowsPerCrop,
        optimizer: 'adam',
        lr: 3e-3,
        selection: 'last',
        seed: 3,
      }),
    });
    const w = r.obfuscator.parameters().map((p) => p.toFloat32Array());
    r.obfuscator.dispose();
    r.deobfuscator.dispose();
    return w;
  };
  const unset = await weights(undefined);
  assert.deepEqual(await weights(0), unset);
  assert.notDeepEqual(await weights(2), unset);
  target.dispose();
  assert.equal(memory().numTensors, before);
});
