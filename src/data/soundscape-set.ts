// The soundscape layout (RDAL's data: 1-s 44.1 kHz clips, half of each event class mixed with speech) as
// in-memory log-mel sets, one per split. Reads `<root>/labels.csv` (columns path, split, event,
// event_index, speech, gender, …, event_path) as written by `earmark corpus soundscapes`
// (src/data/builtin/soundscapes.ts) and by buildFsd50kMix (src/data/fsd50k-mix.ts).
//
// Features are RDAL's (specs/seed003-rdal.md §1): |STFT|² (n_fft 1411, hop 441, periodic Hamming, centred)
// → 64 Slaney mels → dB floored 80 dB below each clip's max. A 44,100-sample clip gives 100 frames, not
// the 101 quoted by the reference (which needs ≥ 44,101 samples); we keep 100 — the encoder ends in a true
// global max pool, so the frame count does not matter to it.
//
// Every set also keeps the mel *power* (before dB) so the RDAL+M mask can act before the dB step, and,
// on request, the mel power of each mixture's event part (the mask's training target).
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { loadAudio } from '../audio/io.js';
import { amplitudeToDB, complexPower, melScale, melscaleFbanks, RDAL_LOGMEL, stft } from '../audio/functional.js';
import { EarmarkError } from '../errors.js';
import { hammingWindow, keep, noGrad, tensor, tidy, type Tensor } from '../tensor/index.js';
import { parseCsvRecords } from '../util/csv.js';
import { Progress } from '../util/progress.js';

export const SOUNDSCAPE_SPLITS = ['train', 'val', 'eval'] as const;
export type SoundscapeSplit = (typeof SOUNDSCAPE_SPLITS)[number];

/** One split as flat (n, nMels, frames) arrays plus labels. */
export interface SoundscapeSet {
  split: SoundscapeSplit;
  n: number;
  nMels: number;
  frames: number;
  /** (n, nMels, frames) log-mel dB, row-major. */
  logmel: Float32Array;
  /** (n, nMels, frames) mel power before dB (RDAL+M masks this). */
  melPower: Float32Array;
  /** (n, nMels, frames) mel power of each mixture's event part (clean clips: the clip itself); only with `eventParts`. */
  eventPower: Float32Array | null;
  /** Event class index per clip. */
  event: number[];
  /** 1 = speech, 0 = no speech. */
  speech: number[];
  /** 0 = female, 1 = male, −1 = no speech. */
  gender: number[];
  paths: string[];
}

export interface SoundscapeData {
  root: string;
  classes: string[];
  train: SoundscapeSet;
  val: SoundscapeSet;
  eval: SoundscapeSet;
}

export interface LoadSoundscapeOptions {
  /** Also load each mixture's event part (needed by RDAL+M's mask pre-training). */
  eventParts?: boolean;
  /** Clips per STFT batch (default 32). */
  batchSize?: number;
  progress?: boolean;
}

const CLIP = RDAL_LOGMEL.sampleRate; // 1 s

/** Mel power (B, 64, frames) of 1-s clips (B, 44100); caller owns the result. */
function melPowerOf(clips: Tensor, window: Tensor, fb: Tensor): Tensor {
  return tidy(() => melScale(complexPower(stft(clips, window, RDAL_LOGMEL)), fb));
}

/**
 * RDAL's dB step on mel power (B, 64, T): 10·log10(max(x, 1e-10)) floored at each clip's max − topDb.
 * @example const x = powerToDb(melPower); // (B, 64, T)
 */
export function powerToDb(power: Tensor, topDb = RDAL_LOGMEL.topDb): Tensor {
  return tidy(() => {
    const [b, m, t] = power.shape as [number, number, number];
    return amplitudeToDB(power.reshape([b, 1, m, t]), 10, 1e-10, 0, topDb).reshape([b, m, t]); // one floor per clip
  });
}

async function loadClip(file: string): Promise<Float32Array> {
  const a = await loadAudio(file, { mono: true, sampleRate: CLIP });
  const out = new Float32Array(CLIP); // exactly 1 s: cut or zero-pad
  out.set(a.samples.subarray(0, CLIP));
  return out;
}

/**
 * Load a soundscape-layout folder into log-mel sets (all three splits).
 * @example const data = await loadSoundscapes('data/builtin/soundscapes-0'); data.train.n // 432
 */
export async function loadSoundscapes(root: string, opts: LoadSoundscapeOptions = {}): Promise<SoundscapeData> {
  const csv = path.join(root, 'labels.csv');
  if (!existsSync(csv)) {
    throw new EarmarkError(
      'EARMARK_DATASET',
      `${csv} not found: --data must be a soundscape folder with labels.csv ` +
        '(build one with `earmark corpus soundscapes`, or from FSD50K + LibriSpeech with buildFsd50kMix)',
    );
  }
  const { header, records } = parseCsvRecords(readFileSync(csv, 'utf8'));
  for (const col of ['path', 'split', 'event', 'event_index', 'speech', 'gender']) {
    if (!header.includes(col))
      throw new EarmarkError(
        'EARMARK_DATASET',
        `${csv}: column '${col}' is missing; expected path,split,event,event_index,speech,gender,…`,
      );
  }
  const classes: string[] = [];
  for (const r of records) classes[Number(r['event_index'])] = r['event']!;
  const window = keep(hammingWindow(RDAL_LOGMEL.nFft, true));
  const fb = keep(
    melscaleFbanks(
      Math.floor(RDAL_LOGMEL.nFft / 2) + 1,
      RDAL_LOGMEL.fMin,
      RDAL_LOGMEL.fMax,
      RDAL_LOGMEL.nMels,
      RDAL_LOGMEL.sampleRate,
      'slaney',
      'slaney',
    ),
  );
  const bs = opts.batchSize ?? 32;
  const bar = opts.progress
    ? new Progress({ total: records.length * (opts.eventParts ? 2 : 1), label: 'log-mels' })
    : null;
  try {
    const sets = {} as Record<SoundscapeSplit, SoundscapeSet>;
    for (const split of SOUNDSCAPE_SPLITS) {
      const rows = records.filter((r) => r['split'] === split);
      if (rows.length === 0)
        throw new EarmarkError(
          'EARMARK_DATASET',
          `${csv}: no clips in split '${split}'; every soundscape folder needs train, val and eval`,
        );
      const files = rows.map((r) => path.join(root, r['path']!));
      const eventFiles = rows.map((r) => path.join(root, r['event_path'] || r['path']!));
      const power = await melPowers(files, window, fb, bs, bar);
      const eventPower = opts.eventParts ? (await melPowers(eventFiles, window, fb, bs, bar)).data : null;
      const logmel = noGrad(() =>
        tidy(() => powerToDb(tensor(power.data, [rows.length, power.nMels, power.frames])).toFloat32Array()),
      );
      sets[split] = {
        split,
        n: rows.length,
        nMels: power.nMels,
        frames: power.frames,
        logmel,
        melPower: power.data,
        eventPower,
        event: rows.map((r) => Number(r['event_index'])),
        speech: rows.map((r) => (r['speech'] === 'speech' || r['speech'] === '1' ? 1 : 0)),
        gender: rows.map((r) => (r['gender'] === 'female' ? 0 : r['gender'] === 'male' ? 1 : -1)),
        paths: rows.map((r) => r['path']!),
      };
    }
    bar?.done();
    return { root, classes, ...sets };
  } finally {
    window.dispose();
    fb.dispose();
  }
}

async function melPowers(
  files: string[],
  window: Tensor,
  fb: Tensor,
  bs: number,
  bar: Progress | null,
): Promise<{ data: Float32Array; nMels: number; frames: number }> {
  let out: Float32Array | null = null;
  let nMels = 0;
  let frames = 0;
  for (let i = 0; i < files.length; i += bs) {
    const chunk = files.slice(i, i + bs);
    const wav = new Float32Array(chunk.length * CLIP);
    for (const [j, f] of chunk.entries()) wav.set(await loadClip(f), j * CLIP);
    const p = noGrad(() =>
      tidy(() => {
        const m = melPowerOf(tensor(wav, [chunk.length, CLIP]), window, fb); // (B, 64, frames)
        nMels = m.size(1);
        frames = m.size(2);
        return m.contiguous().toFloat32Array();
      }),
    );
    out ??= new Float32Array(files.length * nMels * frames);
    out.set(p, i * nMels * frames);
    bar?.tick(chunk.length);
  }
  return { data: out ?? new Float32Array(0), nMels, frames };
}

/** Rows `idx` of a flat (n, …) array of `rowSize` floats as a (B, 1, nMels, frames) tensor. */
export function gatherClips(
  s: SoundscapeSet,
  which: 'logmel' | 'melPower' | 'eventPower',
  idx: readonly number[],
): Tensor {
  const src = s[which];
  if (src === null)
    throw new EarmarkError(
      'EARMARK_DATASET',
      `the ${s.split} set was loaded without event parts; pass { eventParts: true } to loadSoundscapes`,
    );
  const row = s.nMels * s.frames;
  const out = new Float32Array(idx.length * row);
  for (const [b, i] of idx.entries()) out.set(src.subarray(i * row, (i + 1) * row), b * row);
  return tensor(out, [idx.length, 1, s.nMels, s.frames]);
}
