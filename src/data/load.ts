// One entry point over the adapters: loadCorpus({ layout, root | manifest }), with 'auto' detection
// from what the folder holds (SPEAKERS.TXT → LibriSpeech, vox2_meta.csv or idNNNNN folders →
// VoxCeleb2, Actor_NN → RAVDESS, bea_Amused / bea → EmoV-DB, a labels CSV → manifest).
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { EarmarkError } from '../errors.js';
import { loadEmovdb } from './emovdb.js';
import { loadLibriSpeech } from './librispeech.js';
import { loadManifest } from './manifest.js';
import { loadRavdess } from './ravdess.js';
import { compareStrings, type Corpus, type SkippedFile } from './types.js';
import { loadVoxCeleb2 } from './voxceleb2.js';
import { fileProblem, requireDir } from './walk.js';

export const LAYOUTS = ['ravdess', 'emovdb', 'librispeech', 'voxceleb2', 'csv'] as const;
export type Layout = (typeof LAYOUTS)[number];

export interface LoadCorpusOptions {
  /** Which adapter; 'auto' (default) detects it from the folder. */
  layout?: Layout | 'auto';
  /** The corpus's top folder. */
  root?: string;
  /** CSV manifest (layout 'csv'), or VoxCeleb2's vox2_meta.csv when it is not in the root. */
  manifest?: string;
  /** LibriSpeech subsets or VoxCeleb2 sets to keep ('train-clean-100', 'test-clean'; 'dev', 'test'). */
  subsets?: string[];
  /**
   * Leave out files that cannot be opened (missing, a symlink loop, no permission, a folder) and list
   * them in `corpus.skipped`, instead of refusing the corpus at the first (default false).
   */
  skipBad?: boolean;
}

/** Manifest names looked for in a root when the layout is auto-detected. */
const MANIFEST_NAMES = ['manifest.csv', 'labels.csv', 'metadata.csv'];

const listDir = (dir: string): string[] => {
  try {
    return readdirSync(dir)
      .filter((n) => !n.startsWith('.'))
      .sort();
  } catch {
    return [];
  }
};
const isDir = (p: string): boolean => {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
};

/** Names in `dir` and in its sub-folders one level down (enough to see Actor_01 inside a zip folder). */
function shallowNames(dir: string): string[] {
  const top = listDir(dir);
  const below = top.filter((n) => isDir(path.join(dir, n))).flatMap((n) => listDir(path.join(dir, n)));
  return [...top, ...below];
}

/**
 * Guesses the layout of `root`, or throws an error saying what each layout looks like.
 *
 * @example
 * detectLayout('/data/LibriSpeech') // 'librispeech'
 */
export function detectLayout(root: string): Layout {
  const dir = requireDir(root, 'auto-detected');
  const top = listDir(dir);
  if (top.includes('SPEAKERS.TXT') || existsSync(path.join(dir, 'LibriSpeech', 'SPEAKERS.TXT'))) return 'librispeech';
  if (top.includes('vox2_meta.csv')) return 'voxceleb2';
  const names = shallowNames(dir);
  if (
    names.some((n) => /^Actor_\d\d$/i.test(n)) ||
    names.some((n) => /^\d\d-\d\d-\d\d-\d\d-\d\d-\d\d-\d\d\.wav$/i.test(n))
  )
    return 'ravdess';
  if (names.some((n) => /^(bea|jenie|sam|josh)([_-](amused|angry|disgusted|disgust|neutral|sleepy))?$/i.test(n)))
    return 'emovdb';
  if (top.some((n) => MANIFEST_NAMES.includes(n.toLowerCase()))) return 'csv';
  // VoxCeleb2 without its CSV in the root: {dev,test}/{aac,wav}/idNNNNN
  for (const set of ['dev', 'test', 'aac', 'wav']) {
    const d = path.join(dir, set);
    const inner = [d, path.join(d, 'aac'), path.join(d, 'wav')];
    if (inner.some((x) => listDir(x).some((n) => /^id\d+$/.test(n)))) return 'voxceleb2';
  }
  throw new EarmarkError(
    'EARMARK_DATASET',
    `cannot tell the layout of ${dir}: expected SPEAKERS.TXT (LibriSpeech), vox2_meta.csv or dev|test/aac/idNNNNN (VoxCeleb2), Actor_NN folders (RAVDESS), bea_Amused-style folders (EmoV-DB) or a manifest.csv/labels.csv (csv); pass --layout to say which it is`,
  );
}

/** Finds the manifest CSV in `root` for the csv layout. */
function findManifest(root: string): string {
  const hit = listDir(root).find((n) => MANIFEST_NAMES.includes(n.toLowerCase()));
  if (hit === undefined) {
    throw new EarmarkError(
      'EARMARK_DATASET',
      `the csv layout needs a manifest: pass --manifest <file.csv>, or put one named ${MANIFEST_NAMES.join(' / ')} in ${root}`,
    );
  }
  return path.join(root, hit);
}

/**
 * Loads a corpus with the adapter for its layout.
 *
 * @example
 * const ravdess = loadCorpus({ layout: 'ravdess', root: '/data/RAVDESS' });
 * const mine = loadCorpus({ layout: 'csv', manifest: '/data/mine/labels.csv' });
 * const any = loadCorpus({ root: '/data/LibriSpeech', subsets: ['test-clean'] }); // auto-detected
 */
export function loadCorpus(opts: LoadCorpusOptions): Corpus {
  return checkFiles(loadListed(opts), opts.skipBad === true);
}

/** The corpus as its adapter lists it, files unchecked. */
function loadListed(opts: LoadCorpusOptions): Corpus {
  let layout = opts.layout ?? 'auto';
  if (layout !== 'auto' && !(LAYOUTS as readonly string[]).includes(layout)) {
    throw new EarmarkError(
      'EARMARK_BAD_ARGUMENT',
      `unknown layout '${String(layout)}'; expected one of auto, ${LAYOUTS.join(', ')}`,
    );
  }
  if (layout === 'auto') {
    if (opts.root === undefined && opts.manifest !== undefined) layout = 'csv';
    else if (opts.root === undefined)
      throw new EarmarkError(
        'EARMARK_DATASET',
        'no corpus given; pass --root <folder> (and --layout) or --manifest <file.csv>',
      );
    else layout = detectLayout(opts.root);
  }
  switch (layout) {
    case 'ravdess':
      return loadRavdess(requireDir(opts.root, 'RAVDESS'));
    case 'emovdb':
      return loadEmovdb(requireDir(opts.root, 'EmoV-DB'));
    case 'librispeech':
      return loadLibriSpeech(requireDir(opts.root, 'LibriSpeech'), opts.subsets ? { subsets: opts.subsets } : {});
    case 'voxceleb2': {
      const o: { meta?: string; sets?: string[] } = {};
      if (opts.manifest !== undefined) o.meta = opts.manifest;
      if (opts.subsets !== undefined) o.sets = opts.subsets;
      return loadVoxCeleb2(requireDir(opts.root, 'VoxCeleb2'), o);
    }
    case 'csv': {
      const manifest = opts.manifest ?? findManifest(requireDir(opts.root, 'csv'));
      const file = !existsSync(manifest) && opts.root !== undefined ? path.resolve(opts.root, manifest) : manifest;
      return loadManifest(file, { checkFiles: false });
    }
  }
}

/**
 * Every listed file must open: the ones that do not are refused by name (the first, with a count of
 * the others), or with `skipBad` left out of the utterances and listed in `skipped`.
 */
function checkFiles(corpus: Corpus, skipBad: boolean): Corpus {
  const bad: SkippedFile[] = [];
  for (const u of corpus.utterances) {
    const problem = fileProblem(u.path);
    if (problem !== undefined) bad.push({ id: u.id, path: u.path, error: problem });
  }
  if (bad.length === 0) return corpus;
  if (!skipBad) {
    const b = bad[0]!;
    const others = bad.length > 1 ? ` (and ${bad.length - 1} other file(s))` : '';
    throw new EarmarkError(
      'EARMARK_DATASET',
      `${corpus.name}: audio file ${b.path} (utterance ${b.id}) ${b.error}${others}; ` +
        'fix or remove it, or pass --skip-bad to leave out and list the files that cannot be read',
    );
  }
  return withoutSkipped(corpus, bad);
}

/**
 * `corpus` without the utterances in `skipped` (ids), which join its `skipped` list: the corpus the
 * splits and the summary are made from once unreadable files are known.
 *
 * @example
 * const readable = withoutSkipped(corpus, (await buildFeatureCache(corpus, spec, { dir, skipBad: true })).skipped);
 */
export function withoutSkipped(corpus: Corpus, skipped: readonly SkippedFile[]): Corpus {
  if (skipped.length === 0) return corpus;
  const ids = new Set(skipped.map((s) => s.id));
  const all = [...(corpus.skipped ?? []), ...skipped.filter((s) => !(corpus.skipped ?? []).some((t) => t.id === s.id))];
  return {
    ...corpus,
    utterances: corpus.utterances.filter((u) => !ids.has(u.id)),
    skipped: all.sort((a, b) => compareStrings(a.id, b.id)),
  };
}
