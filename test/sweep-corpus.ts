// A tiny synthetic corpus in the CSV manifest layout for end-to-end tests: harmonic tones per speaker
// (2 female, 2 male), two emotions (vibrato depth), `sentences` pitch offsets, 0.5 s at 16 kHz.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { encodeWav } from '../src/audio/io.js';

/** Write the corpus under `dir` and return its labels.csv. */
export function toneCorpus(dir: string, sentences = 5): string {
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
        const n = 8000;
        const x = new Float32Array(n);
        const vib = emotion === 'tense' ? 12 : 2;
        for (let i = 0; i < n; i++) {
          const t = i / 16000;
          const f = f0 * (1 + 0.02 * s) + vib * Math.sin(2 * Math.PI * 5 * t);
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
