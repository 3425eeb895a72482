// RDAL's data rebuilt from FSD50K events and LibriSpeech speech, in the soundscape layout that
// loadSoundscapes (src/data/soundscape-set.ts) reads — the same as the built-in corpus:
//
//   <out>/<split>/<event>/no_speech/<stem>.wav                  clean 1-s event clip
//   <out>/<split>/<event>/speech/<stem>_<gender>_<speaker>.wav  event + speech at the labelled SNR
//   <out>/events/<split>/<event>/<stem>.wav                     the event part of that mixture
//   <out>/labels.csv  corpus.json
//
// Inputs, as distributed (Fonseca et al. 2022, Zenodo 4060432; Panayotov et al. 2015, OpenSLR 12):
//   <fsd50k>/FSD50K.dev_audio/<fname>.wav, FSD50K.eval_audio/<fname>.wav,
//   <fsd50k>/FSD50K.ground_truth/dev.csv (fname,labels,mids,split — split train|val) and eval.csv
//   <librispeech>/SPEAKERS.TXT, <librispeech>/<subset>/<speaker>/<chapter>/*.flac (or .wav)
// Splits follow the reference (specs/seed003-rdal.md §1): FSD50K dev/train → train, dev/val → val,
// eval → eval. The pre-mixed Zenodo set (10378145) does not state its SNR, so it is a parameter here
// (default 0 dB ± 5 dB, as the built-in corpus). A clip is the loudest 1-s window of an FSD50K file
// carrying the class label and no other class's label; in each (split, class), clips alternate clean /
// speech, and speech clips alternate female / male speakers. Speakers are split 60/20/20 between
// train/val/eval per gender, so no speaker is in two splits. Every written clip peaks at −1 dBFS.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { encodeWav, loadAudio } from '../audio/io.js';
import { check, resolveConfig } from '../config/resolve.js';
import { EarmarkError } from '../errors.js';
import { parseCsvRecords } from '../util/csv.js';
import { Progress } from '../util/progress.js';
import { hashString, Rng } from '../util/rng.js';
import { mixAtSnr } from './builtin/mix.js';
import { parseSpeakersTxt } from './librispeech.js';

/** The reference's 12 classes (lndip/RDAL utils.py) and the FSD50K label most likely behind each (spec §1 [I]). */
export const RDAL_FSD50K_CLASSES: Record<string, string> = {
  dog_barking: 'Bark',
  glass_breaking: 'Shatter',
  gun_shot: 'Gunshot_and_gunfire',
  cough: 'Cough',
  slam: 'Slam',
  applause: 'Applause',
  dishes_pot_pan: 'Dishes_and_pots_and_pans',
  toilet_flush: 'Toilet_flush',
  cat_meowing: 'Meow',
  doorbell: 'Doorbell',
  crying: 'Crying_and_sobbing',
  drill: 'Drill',
};

export interface Fsd50kMixConfig {
  /** Folder holding FSD50K.dev_audio, FSD50K.eval_audio and FSD50K.ground_truth. */
  fsd50k: string;
  /** LibriSpeech root (SPEAKERS.TXT and the subset folders). */
  librispeech: string;
  out: string;
  /** Class name → FSD50K label, in index order; default RDAL_FSD50K_CLASSES. */
  classes: Record<string, string> | null;
  /** At most this many clips per (split, class); 0 for all. */
  maxClipsPerClass: number;
  /** Speech-to-event SNR (dB, energy over the clip), drawn uniformly from snrDb ± snrSpreadDb. */
  snrDb: number;
  snrSpreadDb: number;
  seed: number;
  progress: boolean;
}

export const FSD50K_MIX_DEFAULTS: Fsd50kMixConfig = {
  fsd50k: '',
  librispeech: '',
  out: '',
  classes: null,
  maxClipsPerClass: 0,
  snrDb: 0,
  snrSpreadDb: 5,
  seed: 0,
  progress: false,
};

const RATE = 44100;
const CLIP = RATE;
const PEAK = 10 ** (-1 / 20);
type Split = 'train' | 'val' | 'eval';

interface SpeechSource {
  speaker: string;
  gender: 'female' | 'male';
  files: string[];
}

function energyAt(x: Float32Array, start: number, n: number): number {
  let e = 0;
  for (let i = start; i < start + n && i < x.length; i++) e += x[i]! * x[i]!;
  return e;
}

/** The loudest `CLIP`-sample window (hop 0.1 s); shorter inputs are zero-padded. */
function loudestSecond(x: Float32Array): { clip: Float32Array; start: number } {
  let best = 0;
  let bestE = -1;
  for (let s = 0; s + CLIP <= Math.max(CLIP, x.length); s += RATE / 10) {
    const e = energyAt(x, s, CLIP);
    if (e > bestE) {
      bestE = e;
      best = s;
    }
  }
  const clip = new Float32Array(CLIP);
  clip.set(x.subarray(best, best + CLIP));
  return { clip, start: best };
}

function peakScale(x: Float32Array): number {
  let p = 0;
  for (const v of x) p = Math.max(p, Math.abs(v));
  return p > 0 ? PEAK / p : 1;
}

const scaled = (x: Float32Array, g: number): Float32Array => x.map((v) => v * g);

function walk(dir: string, exts: string[], out: string[] = []): string[] {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) walk(p, exts, out);
    else if (exts.includes(path.extname(e.name).toLowerCase())) out.push(p);
  }
  return out.sort();
}

/** Speakers found on disk, split 60/20/20 per gender by a seeded shuffle. */
function speechBySplit(root: string, seed: number): Record<Split, SpeechSource[]> {
  const spk = path.join(root, 'SPEAKERS.TXT');
  if (!existsSync(spk))
    throw new EarmarkError(
      'EARMARK_DATASET',
      `${spk} not found: 'librispeech' must be the LibriSpeech root (with SPEAKERS.TXT and e.g. train-clean-100/)`,
    );
  const meta = parseSpeakersTxt(readFileSync(spk, 'utf8'), spk);
  const files = new Map<string, string[]>();
  for (const f of walk(root, ['.flac', '.wav'])) {
    const id = path.basename(f).split('-')[0]!;
    if (meta.has(id)) files.set(id, [...(files.get(id) ?? []), f]);
  }
  const out: Record<Split, SpeechSource[]> = { train: [], val: [], eval: [] };
  for (const gender of ['female', 'male'] as const) {
    const ids = new Rng(seed)
      .derive(`speakers-${gender}`)
      .shuffle([...files.keys()].filter((id) => meta.get(id)!.gender === gender).sort());
    if (ids.length < 3)
      throw new EarmarkError(
        'EARMARK_DATASET',
        `${root}: only ${ids.length} ${gender} speaker(s) with audio; need at least 3 (one per split)`,
      );
    const nVal = Math.max(1, Math.round(ids.length * 0.2));
    const nTrain = ids.length - nVal - Math.max(1, Math.round(ids.length * 0.2)); // ≥ 1 because ≥ 3 speakers
    ids.forEach((id, i) => {
      const split: Split = i < nTrain ? 'train' : i < nTrain + nVal ? 'val' : 'eval';
      out[split].push({ speaker: id, gender, files: files.get(id)! });
    });
  }
  return out;
}

/**
 * Build the FSD50K + LibriSpeech soundscape folder; returns the number of clips per split.
 * @example await buildFsd50kMix({ fsd50k: '/data/FSD50K', librispeech: '/data/LibriSpeech', out: 'data/fsd50k-mix' });
 */
export async function buildFsd50kMix(partial: Partial<Fsd50kMixConfig>): Promise<Record<Split, number>> {
  const c = resolveConfig('Fsd50kMixConfig', FSD50K_MIX_DEFAULTS, partial);
  for (const k of ['fsd50k', 'librispeech', 'out'] as const) check(c[k] !== '', 'Fsd50kMixConfig', k, 'a folder', c[k]);
  check(
    Number.isInteger(c.maxClipsPerClass) && c.maxClipsPerClass >= 0,
    'Fsd50kMixConfig',
    'maxClipsPerClass',
    'an integer >= 0',
    c.maxClipsPerClass,
  );
  check(Number.isInteger(c.seed) && c.seed >= 0, 'Fsd50kMixConfig', 'seed', 'an integer >= 0', c.seed);
  const classes = Object.entries(c.classes ?? RDAL_FSD50K_CLASSES);
  const labelOf = new Map(classes.map(([name, label], i) => [label, { name, index: i }]));
  const gt = path.join(c.fsd50k, 'FSD50K.ground_truth');
  const readGt = (file: string): Record<string, string>[] => {
    const p = path.join(gt, file);
    if (!existsSync(p))
      throw new EarmarkError(
        'EARMARK_DATASET',
        `${p} not found: 'fsd50k' must hold FSD50K.ground_truth/{dev,eval}.csv (columns fname,labels,mids[,split])`,
      );
    return parseCsvRecords(readFileSync(p, 'utf8')).records;
  };
  // (split, class) → files carrying exactly one of our class labels
  const pool = new Map<string, { file: string; fname: string }[]>();
  const add = (split: Split, dir: string, r: Record<string, string>): void => {
    const hits = (r['labels'] ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter((l) => labelOf.has(l));
    if (hits.length !== 1) return;
    const key = `${split}/${labelOf.get(hits[0]!)!.index}`;
    pool.set(key, [
      ...(pool.get(key) ?? []),
      { file: path.join(c.fsd50k, dir, `${r['fname']}.wav`), fname: r['fname']! },
    ]);
  };
  for (const r of readGt('dev.csv')) add(r['split'] === 'val' ? 'val' : 'train', 'FSD50K.dev_audio', r);
  for (const r of readGt('eval.csv')) add('eval', 'FSD50K.eval_audio', r);
  const speech = speechBySplit(c.librispeech, c.seed);

  const jobs: { split: Split; ci: number; file: string; fname: string; withSpeech: boolean; k: number }[] = [];
  for (const split of ['train', 'val', 'eval'] as const) {
    for (const [ci, [name]] of classes.entries()) {
      let items = new Rng(c.seed).derive(`${split}/${name}`).shuffle([...(pool.get(`${split}/${ci}`) ?? [])]);
      if (items.length < 2)
        throw new EarmarkError(
          'EARMARK_DATASET',
          `${gt}: class '${name}' (${classes[ci]![1]}) has ${items.length} clip(s) in split ${split}; need at least 2 (one clean, one with speech)`,
        );
      if (c.maxClipsPerClass > 0) items = items.slice(0, c.maxClipsPerClass);
      items.forEach((it, k) => jobs.push({ split, ci, ...it, withSpeech: k % 2 === 1, k }));
    }
  }
  const bar = c.progress ? new Progress({ total: jobs.length, label: 'fsd50k mix' }) : null;
  const header = [
    'path',
    'split',
    'event',
    'event_index',
    'speech',
    'gender',
    'speaker',
    'snr_db',
    'source',
    'source_start_s',
    'speech_source',
    'speech_start_s',
    'event_path',
  ];
  const rows: string[][] = [];
  const counts: Record<Split, number> = { train: 0, val: 0, eval: 0 };
  const speechTurn: Record<Split, number> = { train: 0, val: 0, eval: 0 };
  for (const j of jobs) {
    const name = classes[j.ci]![0];
    const stem = `e${String(j.ci).padStart(2, '0')}_${j.fname}`;
    const ev = loudestSecond((await loadAudio(j.file, { mono: true, sampleRate: RATE })).samples);
    const rel = (...p: string[]): string => p.join('/');
    const write = async (r: string, x: Float32Array): Promise<void> => {
      await mkdir(path.join(c.out, path.dirname(r)), { recursive: true });
      await writeFile(path.join(c.out, r), encodeWav(x, RATE));
    };
    const source = path.relative(c.fsd50k, j.file);
    if (!j.withSpeech) {
      const r = rel(j.split, name, 'no_speech', `${stem}.wav`);
      await write(r, scaled(ev.clip, peakScale(ev.clip)));
      rows.push([
        r,
        j.split,
        name,
        String(j.ci),
        'no_speech',
        '',
        '',
        '',
        source,
        (ev.start / RATE).toFixed(4),
        '',
        '',
        '',
      ]);
    } else {
      // alternate genders: speakers of this split taken round-robin within each gender
      const turn = speechTurn[j.split]++;
      const gender = turn % 2 === 0 ? 'female' : 'male';
      const spk = speech[j.split].filter((s) => s.gender === gender);
      const src = spk[Math.floor(turn / 2) % spk.length]!;
      const rng = new Rng(hashString(`${j.split}/${j.fname}`, c.seed));
      const utt = src.files[rng.int(src.files.length)]!;
      const audio = (await loadAudio(utt, { mono: true, sampleRate: RATE })).samples;
      const start = audio.length > CLIP ? rng.int(audio.length - CLIP + 1) : 0;
      const sp = new Float32Array(CLIP);
      sp.set(audio.subarray(start, start + CLIP));
      const snr = c.snrDb + rng.uniform(-c.snrSpreadDb, c.snrSpreadDb);
      const { mix } = mixAtSnr(ev.clip, sp, snr);
      const g = peakScale(mix); // the same gain on the mixture and its event part: mixture = event part + speech part
      const r = rel(j.split, name, 'speech', `${stem}_${gender}_${src.speaker}.wav`);
      const er = rel('events', j.split, name, `${stem}.wav`);
      await write(r, scaled(mix, g));
      await write(er, scaled(ev.clip, g));
      rows.push([
        r,
        j.split,
        name,
        String(j.ci),
        'speech',
        gender,
        src.speaker,
        snr.toFixed(2),
        source,
        (ev.start / RATE).toFixed(4),
        path.relative(c.librispeech, utt),
        (start / RATE).toFixed(4),
        er,
      ]);
    }
    counts[j.split]++;
    bar?.tick();
  }
  bar?.done();
  await mkdir(c.out, { recursive: true });
  const csvField = (s: string): string => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  await writeFile(
    path.join(c.out, 'labels.csv'),
    [header, ...rows].map((r) => r.map(csvField).join(',')).join('\n') + '\n',
  );
  await writeFile(
    path.join(c.out, 'corpus.json'),
    JSON.stringify(
      {
        name: 'earmark-fsd50k-librispeech-mix',
        formatVersion: 1,
        sampleRate: RATE,
        clipSeconds: 1,
        config: { ...c, classes: Object.fromEntries(classes) },
        counts,
        labels: { speech: ['no_speech', 'speech'], gender: ['female', 'male'], event: classes.map(([n]) => n) },
      },
      null,
      1,
    ),
  );
  return counts;
}
