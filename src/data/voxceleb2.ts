// VoxCeleb2 (Chung et al. 2018): <root>/{dev,test}/{aac,wav}/idNNNNN/<video>/NNNNN.{m4a,wav} (the
// vox2_dev_aac / vox2_test_aac archives, or after conversion to WAV), and the metadata CSV
// vox2_meta.csv with the columns 'VoxCeleb2 ID', 'VGGFace2 ID', 'Gender' (m/f), 'Set' (dev/test).
// The released CSV pads fields with a space before each comma ('id00012 ,n000012 ,m ,dev '), and
// some copies are tab-separated with an extra 'Name' column: both are read.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { EarmarkError } from '../errors.js';
import { parseCsvRecords } from '../util/csv.js';
import { finishCorpus, type Corpus, type Gender, type Utterance } from './types.js';
import { noFilesError, requireDir, walkFiles } from './walk.js';

export interface VoxCeleb2Speaker {
  id: string;
  gender: Gender;
  /** 'dev' or 'test'. */
  set: string;
}

/** Column names in vox2_meta.csv, compared without spaces and case. */
const norm = (h: string): string => h.replace(/\s+/g, '').toLowerCase();

/**
 * Parses vox2_meta.csv (comma- or tab-separated; spaces around fields ignored).
 *
 * @example
 * parseVox2Meta('VoxCeleb2 ID ,VGGFace2 ID ,Gender ,Set \nid00012 ,n000012 ,m ,dev \n').get('id00012')
 * // → { id: 'id00012', gender: 'male', set: 'dev' }
 */
export function parseVox2Meta(text: string, file = 'vox2_meta.csv'): Map<string, VoxCeleb2Speaker> {
  const { header, records } = parseCsvRecords(text, { delimiter: 'auto' });
  const find = (name: string): string => {
    const h = header.find((c) => norm(c) === name);
    if (h === undefined) {
      throw new EarmarkError(
        'EARMARK_DATASET',
        `${file} has no '${name}' column (found: ${header.map((c) => `'${c}'`).join(', ')}); expected VoxCeleb2's metadata CSV with 'VoxCeleb2 ID', 'Gender' and 'Set' columns`,
      );
    }
    return h;
  };
  const [idCol, genderCol, setCol] = [find('voxceleb2id'), find('gender'), find('set')];
  const speakers = new Map<string, VoxCeleb2Speaker>();
  records.forEach((r, i) => {
    const id = r[idCol]!.trim();
    if (id === '') return;
    const g = r[genderCol]!.trim().toLowerCase();
    if (g !== 'm' && g !== 'f' && g !== 'male' && g !== 'female') {
      throw new EarmarkError(
        'EARMARK_DATASET',
        `${file} row ${i + 2}: speaker ${id} has Gender '${r[genderCol]}'; expected m or f`,
      );
    }
    speakers.set(id, { id, gender: g.startsWith('f') ? 'female' : 'male', set: r[setCol]!.trim().toLowerCase() });
  });
  return speakers;
}

/** Finds the metadata CSV: the given path, or vox2_meta.csv in the root or its parent. */
function findMeta(root: string, meta: string | undefined): string {
  if (meta !== undefined) {
    const abs = path.resolve(meta);
    if (!existsSync(abs))
      throw new EarmarkError('EARMARK_DATASET', `VoxCeleb2 metadata ${abs} does not exist; check --manifest`);
    return abs;
  }
  for (const p of [path.join(root, 'vox2_meta.csv'), path.join(path.dirname(root), 'vox2_meta.csv')])
    if (existsSync(p)) return p;
  throw new EarmarkError(
    'EARMARK_DATASET',
    `no vox2_meta.csv in ${root} or its parent; VoxCeleb2 needs its metadata CSV for gender and dev/test: put vox2_meta.csv in the root, or pass its path with --manifest`,
  );
}

export interface VoxCeleb2Options {
  /** Path of vox2_meta.csv; default <root>/vox2_meta.csv or <root>/../vox2_meta.csv. */
  meta?: string;
  /** Only these sets ('dev', 'test'); default both. */
  sets?: string[];
}

/**
 * Loads VoxCeleb2 from `root` (holding dev/ and/or test/, or a single aac/ or wav/ folder). Speaker
 * from the idNNNNN folder; video from the folder below it; gender and set from vox2_meta.csv (the set
 * from the path when it contains a dev/ or test/ folder, which must agree with the CSV).
 *
 * @example
 * const corpus = loadVoxCeleb2('/data/VoxCeleb2', { sets: ['test'] });
 * corpus.utterances[0]; // { id: 'id00017/01dfn2spqyE/00001', speaker: 'id00017', gender: 'male', labels: { set: 'test', video: '01dfn2spqyE' }, … }
 */
export function loadVoxCeleb2(root: string, opts: VoxCeleb2Options = {}): Corpus {
  const dir = requireDir(root, 'VoxCeleb2');
  const metaFile = findMeta(dir, opts.meta);
  const speakers = parseVox2Meta(readFileSync(metaFile, 'utf8'), metaFile);
  const wanted = opts.sets === undefined ? undefined : new Set(opts.sets.map((s) => s.toLowerCase()));
  const utterances: Utterance[] = [];
  for (const file of walkFiles(dir, ['.m4a', '.wav', '.flac', '.aac'])) {
    const videoDir = path.dirname(file);
    const spk = path.basename(path.dirname(videoDir));
    if (!/^id\d+$/.test(spk)) continue;
    const video = path.basename(videoDir);
    const info = speakers.get(spk);
    if (info === undefined) {
      throw new EarmarkError(
        'EARMARK_DATASET',
        `VoxCeleb2 speaker ${spk} (${file}) is not in ${metaFile}; use the metadata CSV of the same release`,
      );
    }
    const parts = path
      .relative(dir, path.dirname(path.dirname(videoDir)))
      .split(path.sep)
      .map((p) => p.toLowerCase());
    const pathSet = parts.includes('test') ? 'test' : parts.includes('dev') ? 'dev' : undefined;
    if (pathSet !== undefined && info.set !== '' && pathSet !== info.set) {
      throw new EarmarkError(
        'EARMARK_DATASET',
        `VoxCeleb2 file ${file} lies in a ${pathSet}/ folder but ${metaFile} puts speaker ${spk} in '${info.set}'; check the archive was unpacked into the right folder`,
      );
    }
    const set = pathSet ?? info.set;
    if (wanted !== undefined && !wanted.has(set)) continue;
    const stem = path.basename(file, path.extname(file));
    utterances.push({
      id: `${spk}/${video}/${stem}`,
      path: file,
      speaker: spk,
      gender: info.gender,
      corpus: 'voxceleb2',
      labels: { set, video },
    });
  }
  if (utterances.length === 0) {
    throw noFilesError(
      'VoxCeleb2',
      dir,
      '{dev,test}/{aac,wav}/idNNNNN/<video>/NNNNN.m4a (or .wav) files',
      'point --root at the folder holding the unpacked dev/ and test/ folders',
    );
  }
  return finishCorpus('voxceleb2', dir, utterances, ['speaker', 'gender']);
}
