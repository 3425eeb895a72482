// RAVDESS (Livingstone & Russo 2018, Zenodo 1188976), speech part: Actor_NN/MM-VV-EE-II-SS-RR-AA.wav
// with modality MM (01 full-AV, 02 video-only, 03 audio-only), vocal channel VV (01 speech, 02 song),
// emotion EE, intensity II (01 normal, 02 strong), statement SS, repetition RR, actor AA (01–24;
// odd = male, even = female). 24 actors × 60 files = 1,440 speech files.
import path from 'node:path';
import { EarmarkError } from '../errors.js';
import { finishCorpus, type Corpus, type Utterance } from './types.js';
import { noFilesError, requireDir, walkFiles } from './walk.js';

export const RAVDESS_EMOTIONS = [
  'neutral',
  'calm',
  'happy',
  'sad',
  'angry',
  'fearful',
  'disgust',
  'surprised',
] as const;
export const RAVDESS_STATEMENTS = ['Kids are talking by the door', 'Dogs are sitting by the door'] as const;

const NAME = /^(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)$/;

export interface RavdessOptions {
  /** Keep song files (vocal channel 02) too; default false (the paper uses speech only). */
  includeSong?: boolean;
}

/** The labels coded in one RAVDESS file name, or undefined when the name is not a RAVDESS code. */
export function parseRavdessName(
  file: string,
): (Omit<Utterance, 'path' | 'corpus'> & { channel: 'speech' | 'song' }) | undefined {
  const m = NAME.exec(path.basename(file, path.extname(file)));
  if (m === null) return undefined;
  const [, modality, channel, emotion, intensity, statement, repetition, actor] = m.map(Number) as number[];
  if (
    channel! < 1 ||
    channel! > 2 ||
    emotion! < 1 ||
    emotion! > 8 ||
    intensity! < 1 ||
    intensity! > 2 ||
    statement! < 1 ||
    statement! > 2 ||
    actor! < 1 ||
    actor! > 24 ||
    modality! < 1 ||
    modality! > 3
  ) {
    throw new EarmarkError(
      'EARMARK_DATASET',
      `RAVDESS file ${file} has an out-of-range code (modality 01–03, channel 01–02, emotion 01–08, intensity 01–02, statement 01–02, actor 01–24); rename or remove it`,
    );
  }
  const stem = m[0];
  return {
    id: stem,
    speaker: `Actor_${String(actor).padStart(2, '0')}`,
    gender: actor! % 2 === 1 ? 'male' : 'female',
    emotion: RAVDESS_EMOTIONS[emotion! - 1]!,
    sentence: String(statement).padStart(2, '0'),
    text: RAVDESS_STATEMENTS[statement! - 1]!,
    channel: channel === 1 ? 'speech' : 'song',
    labels: {
      intensity: intensity === 1 ? 'normal' : 'strong',
      repetition: String(repetition).padStart(2, '0'),
      modality: ['full-AV', 'video-only', 'audio-only'][modality! - 1]!,
    },
  };
}

/**
 * Loads RAVDESS speech from `root` (the folder holding Actor_01 … Actor_24, e.g. the unpacked
 * Audio_Speech_Actors_01-24.zip). Labels come from the file names only; files whose names are not
 * RAVDESS codes are ignored; an actor folder that disagrees with the code in the name is an error.
 *
 * @example
 * const corpus = loadRavdess('/data/RAVDESS');
 * corpus.utterances[0]; // { id: '03-01-01-01-01-01-01', speaker: 'Actor_01', gender: 'male', emotion: 'neutral', … }
 */
export function loadRavdess(root: string, opts: RavdessOptions = {}): Corpus {
  const dir = requireDir(root, 'RAVDESS');
  const utterances: Utterance[] = [];
  for (const file of walkFiles(dir, ['.wav'])) {
    const parsed = parseRavdessName(file);
    if (parsed === undefined) continue;
    const { channel, ...labels } = parsed;
    if (channel === 'song' && opts.includeSong !== true) continue;
    const folder = path.basename(path.dirname(file));
    if (/^Actor_\d\d$/i.test(folder) && folder.toLowerCase() !== labels.speaker.toLowerCase()) {
      throw new EarmarkError(
        'EARMARK_DATASET',
        `RAVDESS file ${file} codes actor ${labels.speaker} but lies in folder ${folder}; move it to ${labels.speaker}/`,
      );
    }
    utterances.push({ ...labels, path: file, corpus: 'ravdess' });
  }
  if (utterances.length === 0) {
    throw noFilesError(
      'RAVDESS',
      dir,
      'Actor_NN/03-01-EE-II-SS-RR-NN.wav files (7 two-digit codes; vocal channel 01 = speech)',
      'point --root at the unpacked Audio_Speech_Actors_01-24 folder',
    );
  }
  return finishCorpus('ravdess', dir, utterances, ['speaker', 'gender', 'emotion']);
}
