// A tiny synthetic corpus in the CSV manifest layout for tests that run whole commands in child
// processes and for the end-to-end runs: 4 speakers (2 female, 2 male) × 2 emotions × `sentences` (default 5) of
// harmonic tones, 0.5 s at 16 kHz.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { encodeWav } from '../src/audio/io.js';

/** One clip of the tiny corpus: its manifest id (path without .wav), speaker and sentence. */
export interface TinyClip {
  id: string;
  speaker: string;
  sentence: string;
}

/** The tiny corpus's options: sentences per speaker and emotion (default 5), and `silentLead`, which starts f1's
 * first calm clip with 0.5 s of exact zeros, then 0.25 s of a 1-LSB noise floor (as a real FLAC can start; where an
 * unguarded LPC diverges). */
export interface TinyCorpusOptions {
  sentences?: number;
  silentLead?: boolean;
}

/** Writes the corpus under `dir` and returns the path of its labels.csv and its clips. */
export function tinyCorpusWithClips(dir: string, o: TinyCorpusOptions = {}): { manifest: string; clips: TinyClip[] } {
  const sentences = o.sentences ?? 5;
  const rows = ['path,speaker,gender,emotion,sentence'];
  const clips: TinyClip[] = [];
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
        const silent = o.silentLead && spk === 'f1' && emotion === 'calm' && s === 0 ? 12000 : 0;
        const n = 8000;
        const x = new Float32Array(silent + n);
        for (let i = 8000; i < silent; i++) x[i] = (((i * 7919) % 3) - 1) / 32768;
        const vibrato = emotion === 'tense' ? 12 : 2;
        for (let i = 0; i < n; i++) {
          const t = i / 16000;
          const f = f0 * (1 + 0.02 * s) + vibrato * Math.sin(2 * Math.PI * 5 * t);
          for (let h = 1; h <= 6; h++) x[silent + i]! += (0.3 / h) * Math.sin(2 * Math.PI * f * h * t + s);
        }
        const rel = `wav/${spk}_${emotion}_${s}.wav`;
        writeFileSync(path.join(dir, rel), encodeWav(x, 16000));
        rows.push(`${rel},${spk},${gender},${emotion},s${s}`);
        clips.push({ id: `wav/${spk}_${emotion}_${s}`, speaker: spk, sentence: `s${s}` });
      }
    }
  }
  writeFileSync(path.join(dir, 'labels.csv'), rows.join('\n') + '\n');
  return { manifest: path.join(dir, 'labels.csv'), clips };
}

/** Writes the corpus under `dir` and returns the path of its labels.csv. */
export function tinyCorpus(dir: string, sentences = 5): string {
  return tinyCorpusWithClips(dir, { sentences }).manifest;
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
