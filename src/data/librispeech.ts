// LibriSpeech (Panayotov et al. 2015, OpenSLR 12): <root>/<subset>/<speaker>/<chapter>/<speaker>-<chapter>-<utt>.flac,
// a `<speaker>-<chapter>.trans.txt` transcript per chapter, and SPEAKERS.TXT at the root:
//   ;ID  |SEX| SUBSET           |MINUTES| NAME
//   14   | F | train-clean-360  | 25.03 | Kristin LeMoine
// Lines starting with ';' are comments; a few names contain '|' themselves (60 | M | … | |CBW|Simon).
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { EarmarkError } from '../errors.js';
import { finishCorpus, type Corpus, type Gender, type Utterance } from './types.js';
import { noFilesError, requireDir, walkFiles } from './walk.js';

export interface LibriSpeechSpeaker {
  id: string;
  gender: Gender;
  subset: string;
  minutes: number;
  name: string;
}

/**
 * Parses SPEAKERS.TXT. `file` is only used in error messages.
 *
 * @example
 * parseSpeakersTxt('14   | F | train-clean-360  | 25.03 | Kristin LeMoine\n').get('14')?.gender // 'female'
 */
export function parseSpeakersTxt(text: string, file = 'SPEAKERS.TXT'): Map<string, LibriSpeechSpeaker> {
  const speakers = new Map<string, LibriSpeechSpeaker>();
  text.split(/\r?\n/).forEach((line, i) => {
    if (line.trim() === '' || line.trimStart().startsWith(';')) return;
    const cols = line.split('|');
    if (cols.length < 4) {
      throw new EarmarkError(
        'EARMARK_DATASET',
        `${file}:${i + 1}: expected 'ID | SEX | SUBSET | MINUTES | NAME', got '${line.trim()}'`,
      );
    }
    const id = cols[0]!.trim();
    const sex = cols[1]!.trim().toUpperCase();
    if (sex !== 'F' && sex !== 'M') {
      throw new EarmarkError(
        'EARMARK_DATASET',
        `${file}:${i + 1}: speaker ${id} has SEX '${cols[1]!.trim()}'; expected F or M`,
      );
    }
    speakers.set(id, {
      id,
      gender: sex === 'F' ? 'female' : 'male',
      subset: cols[2]!.trim(),
      minutes: Number(cols[3]!.trim()),
      name: cols.slice(4).join('|').trim(),
    });
  });
  return speakers;
}

/** Reads every `*.trans.txt` next to the listed audio: utterance id → transcript. */
function readTranscripts(chapterDirs: Set<string>): Map<string, string> {
  const texts = new Map<string, string>();
  for (const dir of chapterDirs) {
    const [spk, chap] = [path.basename(path.dirname(dir)), path.basename(dir)];
    const f = path.join(dir, `${spk}-${chap}.trans.txt`);
    if (!existsSync(f)) continue;
    for (const line of readFileSync(f, 'utf8').split(/\r?\n/)) {
      const sp = line.indexOf(' ');
      if (sp > 0) texts.set(line.slice(0, sp), line.slice(sp + 1).trim());
    }
  }
  return texts;
}

export interface LibriSpeechOptions {
  /** Only these subsets (folder names such as 'train-clean-100', 'test-clean'); default all found. */
  subsets?: string[];
}

/**
 * Loads LibriSpeech from `root`, the folder holding SPEAKERS.TXT and the subset folders
 * (usually `LibriSpeech/`). Gender comes from SPEAKERS.TXT; the subset from the folder each file is in
 * (label `subset`); transcripts from the chapter `.trans.txt` files when present.
 *
 * @example
 * const corpus = loadLibriSpeech('/data/LibriSpeech', { subsets: ['train-clean-100', 'test-clean'] });
 * corpus.utterances[0].labels; // { subset: 'test-clean', chapter: '…' }
 */
export function loadLibriSpeech(root: string, opts: LibriSpeechOptions = {}): Corpus {
  let dir = requireDir(root, 'LibriSpeech');
  // --root may be the folder the archives were unpacked in, which holds LibriSpeech/
  if (!existsSync(path.join(dir, 'SPEAKERS.TXT')) && existsSync(path.join(dir, 'LibriSpeech', 'SPEAKERS.TXT')))
    dir = path.join(dir, 'LibriSpeech');
  const speakersFile = path.join(dir, 'SPEAKERS.TXT');
  if (!existsSync(speakersFile)) {
    throw new EarmarkError(
      'EARMARK_DATASET',
      `no SPEAKERS.TXT in ${dir}; LibriSpeech's root must contain SPEAKERS.TXT (point --root at the LibriSpeech/ folder the archives unpack to, which holds it and the subset folders)`,
    );
  }
  const speakers = parseSpeakersTxt(readFileSync(speakersFile, 'utf8'), speakersFile);
  const wanted = opts.subsets === undefined ? undefined : new Set(opts.subsets);
  const utterances: Utterance[] = [];
  const chapterDirs = new Set<string>();
  for (const file of walkFiles(dir, ['.flac', '.wav'])) {
    const stem = path.basename(file, path.extname(file));
    const m = /^(\d+)-(\d+)-(\d+)$/.exec(stem);
    if (m === null) continue;
    const [, spk, chap] = m as unknown as [string, string, string, string];
    const chapterDir = path.dirname(file);
    const speakerDir = path.dirname(chapterDir);
    if (path.basename(chapterDir) !== chap || path.basename(speakerDir) !== spk) {
      throw new EarmarkError(
        'EARMARK_DATASET',
        `LibriSpeech file ${file} should lie in ${spk}/${chap}/ (<subset>/<speaker>/<chapter>/<speaker>-<chapter>-<utt>.flac); move it there`,
      );
    }
    const subset = path.relative(dir, path.dirname(speakerDir)) || '.';
    if (wanted !== undefined && !wanted.has(subset)) continue;
    const info = speakers.get(spk);
    if (info === undefined) {
      throw new EarmarkError(
        'EARMARK_DATASET',
        `LibriSpeech speaker ${spk} (${file}) is not listed in ${speakersFile}; use the SPEAKERS.TXT that came with this release`,
      );
    }
    chapterDirs.add(chapterDir);
    utterances.push({
      id: stem,
      path: file,
      speaker: spk,
      gender: info.gender,
      corpus: 'librispeech',
      labels: { subset, chapter: chap },
    });
  }
  if (wanted !== undefined) {
    const found = new Set(utterances.map((u) => u.labels!.subset));
    const missing = [...wanted].filter((s) => !found.has(s));
    if (missing.length)
      throw new EarmarkError(
        'EARMARK_DATASET',
        `LibriSpeech subset(s) ${missing.join(', ')} not found under ${dir}; unpack them there or drop them from the subset list`,
      );
  }
  if (utterances.length === 0) {
    throw noFilesError(
      'LibriSpeech',
      dir,
      '<subset>/<speaker>/<chapter>/<speaker>-<chapter>-<utt>.flac files',
      'unpack the subsets (train-clean-100.tar.gz, test-clean.tar.gz, …) into this folder',
    );
  }
  const texts = readTranscripts(chapterDirs);
  for (const u of utterances) {
    const t = texts.get(u.id);
    if (t !== undefined) u.text = t;
  }
  return finishCorpus('librispeech', dir, utterances, ['speaker', 'gender']);
}
