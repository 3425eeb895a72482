// The shapes every corpus adapter produces, and the label helpers that turn label strings into class
// indices. Class order is always sorted (code-point order of the label strings), so the same corpus
// gives the same class indices on every machine and run.
import { EarmarkError } from '../errors.js';

export type Gender = 'female' | 'male';

/** The label kinds an utterance can carry; `utterance` is its own id. */
export type LabelKey = 'speaker' | 'gender' | 'emotion' | 'utterance' | (string & {});

/** One audio file and its labels. */
export interface Utterance {
  /** Unique within the corpus, stable across machines (derived from the corpus's own naming). */
  id: string;
  /** Absolute path of the audio file. */
  path: string;
  speaker: string;
  gender?: Gender;
  emotion?: string;
  /** Transcript, where the corpus ships one (LibriSpeech). */
  text?: string;
  /** Sentence / prompt id, where the corpus has one (RAVDESS statement, EmoV-DB sentence number). */
  sentence?: string;
  /** Name of the corpus it came from. */
  corpus: string;
  /** Further labels from the corpus (RAVDESS intensity, LibriSpeech subset and chapter, CSV columns). */
  labels?: Record<string, string>;
}

/** A loaded corpus: its utterances in a deterministic order (sorted by id). */
export interface Corpus {
  /** 'ravdess', 'emovdb', 'librispeech', 'voxceleb2' or the CSV's name. */
  name: string;
  /** The folder the corpus was read from (absolute). */
  root: string;
  utterances: Utterance[];
  /** Label kinds that every utterance of this corpus carries, e.g. ['speaker', 'gender', 'emotion']. */
  labelNames: LabelKey[];
  /**
   * Files left out because they cannot be read (with --skip-bad): listed, and in neither
   * `utterances`, the summary's counts nor the splits.
   */
  skipped?: SkippedFile[];
}

/** A file left out of a corpus, and why. */
export interface SkippedFile {
  id: string;
  path: string;
  error: string;
}

/** The value of `key` for `u`, or undefined when it has none. */
export function labelOf(u: Utterance, key: LabelKey): string | undefined {
  switch (key) {
    case 'speaker':
      return u.speaker;
    case 'gender':
      return u.gender;
    case 'emotion':
      return u.emotion;
    case 'utterance':
      return u.id;
    case 'sentence':
      return u.sentence;
    case 'text':
      return u.text;
    default:
      return u.labels?.[key];
  }
}

/** Sorted distinct values of `key` over `utterances` (those without the label are left out). */
export function labelValues(utterances: readonly Utterance[], key: LabelKey): string[] {
  const set = new Set<string>();
  for (const u of utterances) {
    const v = labelOf(u, key);
    if (v !== undefined) set.add(v);
  }
  return [...set].sort(compareStrings);
}

/** Code-point string order (locale-independent, unlike localeCompare). */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A label ↔ class-index map. */
export interface LabelMap {
  key: LabelKey;
  /** Class names, index = class id. */
  names: string[];
  index: Map<string, number>;
}

/**
 * Builds the class-index map of `key` over `utterances`: classes sorted, so indices are reproducible.
 *
 * @example
 * const genders = labelMap(corpus.utterances, 'gender'); // names ['female', 'male']
 * const y = classIndex(genders, utt);                     // 0 or 1
 */
export function labelMap(utterances: readonly Utterance[], key: LabelKey): LabelMap {
  const names = labelValues(utterances, key);
  if (names.length === 0) throw new RangeError(`labelMap: no utterance has a '${key}' label`);
  return { key, names, index: new Map(names.map((n, i) => [n, i])) };
}

/** The class index of `u` in `map`; a RangeError naming the utterance when it has no such label. */
export function classIndex(map: LabelMap, u: Utterance): number {
  const v = labelOf(u, map.key);
  const i = v === undefined ? undefined : map.index.get(v);
  if (i === undefined) {
    throw new RangeError(
      `utterance '${u.id}' has ${v === undefined ? `no '${map.key}' label` : `'${map.key}' = '${v}', which is not one of ${map.names.length} classes`}`,
    );
  }
  return i;
}

/** Number of utterances per value of `key`, sorted by value. */
export function countBy(utterances: readonly Utterance[], key: LabelKey): Map<string, number> {
  const counts = new Map<string, number>();
  for (const u of utterances) {
    const v = labelOf(u, key);
    if (v !== undefined) counts.set(v, (counts.get(v) ?? 0) + 1);
  }
  return new Map([...counts].sort((a, b) => compareStrings(a[0], b[0])));
}

/** Sorts utterances by id and rejects duplicate ids (naming both files). */
export function finishCorpus(name: string, root: string, utterances: Utterance[], labelNames: LabelKey[]): Corpus {
  utterances.sort((a, b) => compareStrings(a.id, b.id));
  for (let i = 1; i < utterances.length; i++) {
    if (utterances[i]!.id === utterances[i - 1]!.id) {
      throw new EarmarkError(
        'EARMARK_DATASET',
        `${name}: two files map to the utterance id '${utterances[i]!.id}': ${utterances[i - 1]!.path} and ${utterances[i]!.path}; remove the duplicate copy`,
      );
    }
  }
  return { name, root, utterances, labelNames };
}
