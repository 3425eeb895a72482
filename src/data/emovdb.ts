// EmoV-DB (Adigwe et al. 2018; github.com/numediart/EmoV-DB, OpenSLR 115): four speakers reading CMU
// ARCTIC prompts in five styles. Released as one archive per speaker and style, unpacked to
// `<speaker>_<Style>/` (bea_Amused, jenie_Disgusted, sam_Sleepy, …); the "sorted" release uses
// `<speaker>/<Style>/`. Files are `<style>_<range>_<NNNN>.wav` (amused_1-15_0001.wav, anger_1-28_0011.wav,
// disgust_…, neutral_…, sleepiness_…), NNNN being the ARCTIC sentence number.
// Speakers: bea (F), jenie (F, "Je"), sam (M, "Sa"), josh (M, "Jsh"; neutral, amused, sleepy only).
import path from 'node:path';
import { EarmarkError } from '../errors.js';
import { finishCorpus, type Corpus, type Gender, type Utterance } from './types.js';
import { noFilesError, requireDir, walkFiles } from './walk.js';

export const EMOVDB_EMOTIONS = ['amused', 'angry', 'disgust', 'neutral', 'sleepy'] as const;
export type EmovdbEmotion = (typeof EMOVDB_EMOTIONS)[number];

/** Speaker folder names (and the README's short names) → canonical speaker and gender. */
const SPEAKERS: Record<string, { speaker: string; gender: Gender }> = {
  bea: { speaker: 'bea', gender: 'female' },
  jenie: { speaker: 'jenie', gender: 'female' },
  je: { speaker: 'jenie', gender: 'female' },
  sam: { speaker: 'sam', gender: 'male' },
  sa: { speaker: 'sam', gender: 'male' },
  josh: { speaker: 'josh', gender: 'male' },
  jsh: { speaker: 'josh', gender: 'male' },
};

/** Style words in folder and file names → canonical emotion. */
const STYLES: Record<string, EmovdbEmotion> = {
  amused: 'amused',
  amusement: 'amused',
  angry: 'angry',
  anger: 'angry',
  disgust: 'disgust',
  disgusted: 'disgust',
  neutral: 'neutral',
  sleepy: 'sleepy',
  sleepiness: 'sleepy',
};

const FILE = /^([a-z]+)_(\d+-\d+)_(\d+)$/i;

/** Speaker and style read from the folders above `file` (nearest first). */
function fromFolders(
  file: string,
  root: string,
): { speaker?: { speaker: string; gender: Gender }; style?: EmovdbEmotion } {
  let speaker: { speaker: string; gender: Gender } | undefined;
  let style: EmovdbEmotion | undefined;
  const rel = path.relative(root, path.dirname(file));
  // nearest folder first; the root's own name last (--root may point at one bea_Amused folder)
  const parts = [...(rel === '' ? [] : rel.split(path.sep).reverse()), path.basename(root)];
  for (const part of parts) {
    const lower = part.toLowerCase();
    const combined = /^([a-z]+)[_-]([a-z]+)$/.exec(lower); // bea_amused
    if (combined !== null && SPEAKERS[combined[1]!] !== undefined && STYLES[combined[2]!] !== undefined) {
      speaker ??= SPEAKERS[combined[1]!];
      style ??= STYLES[combined[2]!];
    } else if (SPEAKERS[lower] !== undefined) speaker ??= SPEAKERS[lower];
    else if (STYLES[lower] !== undefined) style ??= STYLES[lower];
  }
  return { speaker, style };
}

/**
 * Loads EmoV-DB from `root` (the folder holding the unpacked `<speaker>_<Style>/` or `<speaker>/<Style>/`
 * folders). The speaker comes from the folders; the emotion from the folder and the file name,
 * which must agree.
 *
 * @example
 * const corpus = loadEmovdb('/data/EmoV-DB');
 * corpus.utterances[0]; // { id: 'bea_amused_1-15_0001', speaker: 'bea', gender: 'female', emotion: 'amused', sentence: '0001', … }
 */
export function loadEmovdb(root: string): Corpus {
  const dir = requireDir(root, 'EmoV-DB');
  const utterances: Utterance[] = [];
  for (const file of walkFiles(dir, ['.wav'])) {
    const stem = path.basename(file, path.extname(file));
    const m = FILE.exec(stem);
    if (m === null) continue;
    const fileStyle = STYLES[m[1]!.toLowerCase()];
    const { speaker, style } = fromFolders(file, dir);
    if (speaker === undefined) {
      throw new EarmarkError(
        'EARMARK_DATASET',
        `EmoV-DB file ${file} is not inside a speaker folder (bea, jenie, sam, josh, or <speaker>_<Style> such as bea_Amused); keep the folders the archives unpack to`,
      );
    }
    if (fileStyle !== undefined && style !== undefined && fileStyle !== style) {
      throw new EarmarkError(
        'EARMARK_DATASET',
        `EmoV-DB file ${file} is named '${m[1]}' (${fileStyle}) but lies in a ${style} folder; move it to the matching folder`,
      );
    }
    const emotion = style ?? fileStyle;
    if (emotion === undefined) {
      throw new EarmarkError(
        'EARMARK_DATASET',
        `EmoV-DB file ${file}: cannot tell its emotion from '${m[1]}' or its folders; expected one of ${Object.keys(STYLES).join(', ')}`,
      );
    }
    utterances.push({
      id: `${speaker.speaker}_${emotion}_${m[2]}_${m[3]}`,
      path: file,
      speaker: speaker.speaker,
      gender: speaker.gender,
      emotion,
      sentence: m[3]!,
      corpus: 'emovdb',
    });
  }
  if (utterances.length === 0) {
    throw noFilesError(
      'EmoV-DB',
      dir,
      '<speaker>_<Style>/<style>_<range>_<NNNN>.wav files (e.g. bea_Amused/amused_1-15_0001.wav)',
      'point --root at the folder where the OpenSLR 115 archives were unpacked',
    );
  }
  return finishCorpus('emovdb', dir, utterances, ['speaker', 'gender', 'emotion']);
}
