// A quick sanity probe of a built-in speech corpus: how well a simple linear classifier tells gender,
// speaker and emotion apart. Features are per-utterance statistics of a 40-band log-mel spectrogram
// (mean and standard deviation over the active frames, 80 numbers), computed with the Tensor stft;
// the classifier is multinomial logistic regression trained by full-batch gradient descent.
//
// Protocols (held-out data only):
//   speaker: train on 2/3 of the sentences (all emotions), test on the other sentences;
//   gender, emotion: 4 folds over speaker families (a base voice with its twins), so the test voices
//   and their near-identical twins are never seen in training.
// The corpus should give gender well above chance, and speaker ID below 100 % at difficulty ≥ 1.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { hannWindow, memory, tensor, tidy, zeros, type Tensor } from '../../tensor/index.js';
import { decodeWav16, parseCsv } from './files.js';
import { seeded } from './seeded.js';

const N_FFT = 512;
const HOP = 160;
const N_MELS = 40;

export interface ProbeResult {
  corpus: string;
  clips: number;
  speakers: number;
  features: string;
  gender: { accuracy: number; chance: number; protocol: string };
  speaker: { accuracy: number; chance: number; protocol: string };
  emotion: { accuracy: number; chance: number; protocol: string };
}

/** HTK-style triangular mel filters, (nMels, nFft/2+1) row-major. */
function melFilters(sampleRate: number): Float32Array {
  const bins = N_FFT / 2 + 1;
  const mel = (f: number): number => 2595 * Math.log10(1 + f / 700);
  const hz = (m: number): number => 700 * (10 ** (m / 2595) - 1);
  const edges = Array.from({ length: N_MELS + 2 }, (_, i) => hz((mel(sampleRate / 2) * i) / (N_MELS + 1)));
  const fb = new Float32Array(N_MELS * bins);
  for (let m = 0; m < N_MELS; m++) {
    const [lo, mid, hi] = [edges[m]!, edges[m + 1]!, edges[m + 2]!];
    for (let k = 0; k < bins; k++) {
      const f = (k * sampleRate) / N_FFT;
      fb[m * bins + k] = Math.max(0, Math.min((f - lo) / (mid - lo), (hi - f) / (hi - mid)));
    }
  }
  return fb;
}

/** 80 features: mean and std over active frames (within 40 dB of the loudest) of the log-mel bands (`fb`: (40, 257) filters). */
export function utteranceFeatures(samples: Float32Array, fb: Tensor, window: Tensor): Float32Array {
  const logMel = tidy(() => {
    const spec = tensor(samples).stft(N_FFT, { hopLength: HOP, window, center: true }); // (257, frames, 2)
    const power = spec.square().sum(2); // (257, frames)
    return fb.matmul(power).add(1e-8).log().toFloat32Array(); // (40, frames)
  });
  const frames = logMel.length / N_MELS;
  const frameEnergy = Array.from({ length: frames }, (_, t) => {
    let e = 0;
    for (let m = 0; m < N_MELS; m++) e += Math.exp(logMel[m * frames + t]!);
    return 10 * Math.log10(e + 1e-12);
  });
  const top = Math.max(...frameEnergy);
  const active = frameEnergy.flatMap((e, t) => (e >= top - 40 ? [t] : []));
  const out = new Float32Array(2 * N_MELS);
  for (let m = 0; m < N_MELS; m++) {
    let s = 0;
    let s2 = 0;
    for (const t of active) {
      const v = logMel[m * frames + t]!;
      s += v;
      s2 += v * v;
    }
    const mean = s / active.length;
    out[m] = mean;
    out[N_MELS + m] = Math.sqrt(Math.max(0, s2 / active.length - mean * mean));
  }
  return out;
}

/**
 * Multinomial logistic regression (features standardised on the training rows, L2 1e-3, 600 steps of
 * gradient descent); returns the accuracy on the test rows.
 */
export function logisticAccuracy(
  x: Float32Array[],
  y: number[],
  train: number[],
  test: number[],
  classes: number,
): number {
  const d = x[0]!.length;
  const mu = new Float64Array(d);
  const sd = new Float64Array(d);
  for (const i of train) for (let j = 0; j < d; j++) mu[j]! += x[i]![j]! / train.length;
  for (const i of train) for (let j = 0; j < d; j++) sd[j]! += (x[i]![j]! - mu[j]!) ** 2 / train.length;
  const rows = (idx: number[]): Float32Array => {
    const m = new Float32Array(idx.length * (d + 1));
    idx.forEach((i, r) => {
      for (let j = 0; j < d; j++) m[r * (d + 1) + j] = (x[i]![j]! - mu[j]!) / Math.sqrt(sd[j]! + 1e-8);
      m[r * (d + 1) + d] = 1; // bias
    });
    return m;
  };
  return tidy(() => {
    const xTrain = tensor(rows(train), [train.length, d + 1]);
    const yTrain = tensor(
      train.map((i) => y[i]!),
      [train.length],
      { dtype: 'int64' },
    )
      .oneHot(classes)
      .float(); // (n, K)
    const w = zeros([d + 1, classes]);
    for (let step = 0; step < 600; step++) {
      tidy(() => {
        const p = xTrain.matmul(w).softmax(1); // (n, K)
        const grad = xTrain.transpose(0, 1).matmul(p.sub(yTrain)).div(train.length).add(w.mul(1e-3)); // (d+1, K)
        w.add_(grad, -0.5);
      });
    }
    const pred = tensor(rows(test), [test.length, d + 1])
      .matmul(w)
      .argmax(1)
      .data() as BigInt64Array;
    let ok = 0;
    test.forEach((i, r) => {
      if (Number(pred[r]) === y[i]) ok++;
    });
    return ok / test.length;
  });
}

/**
 * Measure gender, speaker and emotion accuracy on a built-in speech corpus folder.
 * @example const r = await probeSpeechCorpus('data/builtin/speech-1-0'); r.speaker.accuracy;
 */
export async function probeSpeechCorpus(dir: string, seed = 0): Promise<ProbeResult> {
  const labels = parseCsv(await readFile(path.join(dir, 'labels.csv'), 'utf8'), path.join(dir, 'labels.csv'));
  const manifest = JSON.parse(await readFile(path.join(dir, 'corpus.json'), 'utf8')) as {
    sampleRate: number;
    speakers: { id: string; parent?: string }[];
  };
  const family = new Map(manifest.speakers.map((s) => [s.id, s.parent ?? s.id]));
  const before = memory().numTensors;
  const fbT = tensor(melFilters(manifest.sampleRate), [N_MELS, N_FFT / 2 + 1]);
  const win = hannWindow(N_FFT);
  const x: Float32Array[] = [];
  try {
    for (const r of labels) {
      const { samples, sampleRate } = decodeWav16(await readFile(path.join(dir, r['path']!)), r['path']!);
      if (sampleRate !== manifest.sampleRate)
        throw new RangeError(`${r['path']}: ${sampleRate} Hz, but corpus.json says ${manifest.sampleRate} Hz`);
      x.push(utteranceFeatures(samples, fbT, win));
    }
  } finally {
    fbT.dispose();
    win.dispose();
  }

  const index = <T>(values: T[]): { ids: number[]; k: number } => {
    const names = [...new Set(values)].sort();
    return { ids: values.map((v) => names.indexOf(v)), k: names.length };
  };
  const gender = index(labels.map((r) => r['gender']!));
  const speaker = index(labels.map((r) => r['speaker']!));
  const emotion = index(labels.map((r) => r['emotion']!));
  const all = labels.map((_, i) => i);

  // Speaker ID on unseen sentences.
  const sentences = [...new Set(labels.map((r) => r['sentence']!))].sort();
  const heldSentences = new Set(
    seeded(seed, 'probe-sentences')
      .shuffle(sentences)
      .slice(0, Math.max(1, Math.round(sentences.length / 3))),
  );
  const sTest = all.filter((i) => heldSentences.has(labels[i]!['sentence']!));
  const sTrain = all.filter((i) => !heldSentences.has(labels[i]!['sentence']!));
  const speakerAcc = logisticAccuracy(x, speaker.ids, sTrain, sTest, speaker.k);

  // Gender and emotion on unseen speaker families (4 folds, genders balanced per fold).
  const families = [...new Set(labels.map((r) => family.get(r['speaker']!) ?? r['speaker']!))];
  const byGender = (g: string): string[] =>
    seeded(seed, 'probe-families', g).shuffle(
      families
        .filter((f) => labels.some((r) => (family.get(r['speaker']!) ?? r['speaker']) === f && r['gender'] === g))
        .sort(),
    );
  const folds = Math.min(4, byGender('female').length, byGender('male').length);
  const foldOf = new Map<string, number>();
  for (const g of ['female', 'male']) byGender(g).forEach((f, k) => foldOf.set(f, k % folds));
  let gOk = 0;
  let eOk = 0;
  for (let f = 0; f < folds; f++) {
    const inFold = (i: number): boolean =>
      foldOf.get(family.get(labels[i]!['speaker']!) ?? labels[i]!['speaker']!) === f;
    const test = all.filter(inFold);
    const train = all.filter((i) => !inFold(i));
    gOk += logisticAccuracy(x, gender.ids, train, test, gender.k) * test.length;
    eOk += logisticAccuracy(x, emotion.ids, train, test, emotion.k) * test.length;
  }
  if (memory().numTensors !== before) throw new Error(`probe leaked ${memory().numTensors - before} tensors`);
  return {
    corpus: dir,
    clips: labels.length,
    speakers: speaker.k,
    features: `mean+std of ${N_MELS} log-mel bands over active frames (n_fft ${N_FFT}, hop ${HOP})`,
    gender: {
      accuracy: gOk / labels.length,
      chance: 1 / gender.k,
      protocol: `${folds}-fold, speaker families held out`,
    },
    speaker: {
      accuracy: speakerAcc,
      chance: 1 / speaker.k,
      protocol: `${heldSentences.size} of ${sentences.length} sentences held out`,
    },
    emotion: {
      accuracy: eOk / labels.length,
      chance: 1 / emotion.k,
      protocol: `${folds}-fold, speaker families held out`,
    },
  };
}
