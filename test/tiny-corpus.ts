// A tiny synthetic corpus in the CSV manifest layout for tests that run whole commands in child
// processes: 4 speakers (2 female, 2 male) × 2 emotions × `sentences` (default 5) of harmonic tones, 0.5 s at 16 kHz.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { encodeWav } from '../src/audio/io.js';

/** Writes the corpus under `dir` and returns the path of its labels.csv. */
export function tinyCorpus(dir: string, sentences = 5): string {
  const rows = ['path,speaker,gender,emotion,sentence'];
  const speakers = [
    ['f1', 'female', 220],
    ['f2', 'female', 260],
    ['m1', 'male', 110],
    ['m2', 'male', 130],
  ] as const;
  mkdirSync(path.join(dir, 'wav'), { recursive: true });
  for (const [spk, gender, f0] of speakers) {
    for (const emotion of ['calm', 'tense']) {
      for (let s = 0; s < sentences; s++) {
        const x = new Float32Array(8000);
        const vibrato = emotion === 'tense' ? 12 : 2;
        for (let i = 0; i < x.length; i++) {
          const t = i / 16000;
          const f = f0 * (1 + 0.02 * s) + vibrato * Math.sin(2 * Math.PI * 5 * t);
          for (let h = 1; h <= 6; h++) x[i]! += (0.3 / h) * Math.sin(2 * Math.PI * f * h * t + s);
        }
        const rel = `wav/${spk}_${emotion}_${s}.wav`;
        writeFileSync(path.join(dir, rel), encodeWav(x, 16000));
        rows.push(`${rel},${spk},${gender},${emotion},s${s}`);
      }
    }
  }
  writeFileSync(path.join(dir, 'labels.csv'), rows.join('\n') + '\n');
  return path.join(dir, 'labels.csv');
}

/** The tiny model and schedules of these tests (ExperimentConfig overrides; seconds per stage). */
export const TINY_CONFIG = {
  model: { convChannels: 2, rnnLayers: 1, hiddenSize: 8 },
  targetTrain: { epochs: 2, batchSize: 4, cropFrames: 24, lr: 3e-3 },
  attackerTrain: { epochs: 2, batchSize: 4, cropFrames: 24, lr: 3e-3 },
  obfuscator: { channels: 4, residualBlocks: 1 },
  deobfuscator: { channels: 4, residualBlocks: 1 },
  obfuscatorTrain: { epochs: 2, batchSize: 4, cropFrames: 24, identityWarmupSteps: 2 },
  verification: {
    xvector: { channels: 8, poolChannels: 16, embedDim: 16 },
    train: { epochs: 2, batchSize: 4, cropFrames: 24 },
  },
  inversion: {
    formats: ['frames'],
    networks: [{ name: 'deobfuscator-size', channels: 0, residualBlocks: 0 }],
    train: { epochs: 2, batchSize: 4, cropFrames: 24, lr: 1e-3, maxNorm: 10 },
  },
};
