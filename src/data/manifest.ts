// A generic corpus: a CSV manifest with a `path` column (relative to the CSV's folder, or absolute)
// and any label columns. Known columns: id, speaker, gender (female/male, f/m, F/M), emotion, text,
// sentence; every other column becomes a free label (utterance.labels[column]).
//   path,speaker,gender,emotion
//   F01/happy/F01_happy_001.wav,F01,female,happy
//   "clips/with, comma.wav",M02,m,neutral
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { EarmarkError } from '../errors.js';
import { parseCsvRecords } from '../util/csv.js';
import { finishCorpus, type Corpus, type Gender, type LabelKey, type Utterance } from './types.js';
import { fileProblem } from './walk.js';

const KNOWN = new Set(['path', 'id', 'speaker', 'gender', 'emotion', 'text', 'sentence']);

/** 'female'/'f'/'F'/'woman' → 'female'; 'male'/'m'/'M'/'man' → 'male'; '' → undefined. */
export function parseGender(value: string, where: string): Gender | undefined {
  const v = value.trim().toLowerCase();
  if (v === '') return undefined;
  if (v === 'f' || v === 'female' || v === 'woman' || v === 'w') return 'female';
  if (v === 'm' || v === 'male' || v === 'man') return 'male';
  throw new EarmarkError(
    'EARMARK_DATASET',
    `${where}: gender '${value}' is not female/male (f/m also accepted); fix the value or leave it empty`,
  );
}

/** The path relative to the manifest's folder (or the absolute path when outside it), '/'-separated, without extension. */
function defaultId(base: string, abs: string): string {
  const rel = path.relative(base, abs);
  const id = rel.startsWith('..') || path.isAbsolute(rel) ? abs : rel;
  return id
    .split(path.sep)
    .join('/')
    .replace(/\.[^./]+$/, '');
}

export interface ManifestOptions {
  /** Corpus name; default the CSV's file name without extension, or its folder's name for generic names (labels.csv, manifest.csv, metadata.csv). */
  name?: string;
  /** Check that every listed file can be opened (default true); loadCorpus checks them itself, for --skip-bad. */
  checkFiles?: boolean;
}

/**
 * Loads a corpus from a CSV manifest.
 *
 * @example
 * const corpus = loadManifest('/data/mycorpus/labels.csv');
 * corpus.labelNames; // ['speaker', 'gender', 'emotion'] (those filled on every row)
 */
export function loadManifest(manifest: string, opts: ManifestOptions = {}): Corpus {
  const file = path.resolve(manifest);
  if (!existsSync(file)) throw new EarmarkError('EARMARK_DATASET', `manifest ${file} does not exist; check --manifest`);
  const base = path.dirname(file);
  let parsed;
  try {
    parsed = parseCsvRecords(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new EarmarkError('EARMARK_DATASET', `manifest ${file} is not valid CSV: ${(e as Error).message}`, {
      cause: e,
    });
  }
  const { header, records } = parsed;
  if (!header.includes('path')) {
    throw new EarmarkError(
      'EARMARK_DATASET',
      `manifest ${file} has no 'path' column (found: ${header.map((h) => `'${h}'`).join(', ') || 'nothing'}); the first line must name the columns, one of them 'path'`,
    );
  }
  const stem = path.basename(file, path.extname(file));
  const name =
    opts.name ?? (['labels', 'manifest', 'metadata'].includes(stem.toLowerCase()) ? path.basename(base) : stem);
  const extra = header.filter((h) => !KNOWN.has(h) && h !== '');
  const utterances: Utterance[] = records.map((r, i) => {
    const where = `${file} row ${i + 2}`;
    const rel = r.path!.trim();
    if (rel === '')
      throw new EarmarkError('EARMARK_DATASET', `${where}: empty path; every row needs an audio file path`);
    const abs = path.resolve(base, rel);
    const problem = opts.checkFiles === false ? undefined : fileProblem(abs);
    if (problem !== undefined) {
      throw new EarmarkError(
        'EARMARK_DATASET',
        `${where}: audio file ${abs} ${problem}; paths are relative to the manifest's folder ${base} (or absolute)`,
      );
    }
    const speaker = (r.speaker ?? '').trim();
    const u: Utterance = {
      id: (r.id ?? '').trim() || defaultId(base, abs),
      path: abs,
      speaker,
      corpus: name,
    };
    const gender = r.gender === undefined ? undefined : parseGender(r.gender, where);
    if (gender !== undefined) u.gender = gender;
    for (const k of ['emotion', 'text', 'sentence'] as const) {
      const v = (r[k] ?? '').trim();
      if (v !== '') u[k] = v;
    }
    if (extra.length) u.labels = Object.fromEntries(extra.map((h) => [h, r[h]!.trim()]));
    return u;
  });
  if (utterances.length === 0)
    throw new EarmarkError(
      'EARMARK_DATASET',
      `manifest ${file} lists no files; add one row per audio file under the header`,
    );
  // a label kind counts when every row has it
  const labelNames: LabelKey[] = [];
  if (utterances.every((u) => u.speaker !== '')) labelNames.push('speaker');
  if (utterances.every((u) => u.gender !== undefined)) labelNames.push('gender');
  if (utterances.every((u) => u.emotion !== undefined)) labelNames.push('emotion');
  for (const h of extra) if (utterances.every((u) => u.labels![h] !== '')) labelNames.push(h);
  return finishCorpus(name, base, utterances, labelNames);
}
