// Train/val/test splits as the papers used them, seeded and saved to disk so every later step
// (features, target model, obfuscator, attackers) sees the same ones.
//  - 'stratified': utterance level, same speakers in every split, each stratum (by default
//    speaker × emotion) divided in the requested proportions. EmoV-DB and RAVDESS.
//  - 'speaker-disjoint': whole speakers go to one split, drawn per gender so every split keeps the
//    gender balance (and, where a gender has enough speakers, at least one of them in every split).
//    LibriSpeech and VoxCeleb2 when their official train and test subsets are not both there.
// Groups (`groupBy`, issue 11): utterances that share a source recording never cross splits. The
// built-in corpus renders all five emotions of a (speaker, sentence) from ONE neutral TTS take, so a CSV
// corpus with a `sentence` column is grouped by (speaker, sentence) by default; an explicit `source` or
// `group` column names the take instead. RAVDESS, EmoV-DB, LibriSpeech and VoxCeleb2 files are separate
// recordings (no grouping).
//  - 'official': the corpus's own subsets (LibriSpeech train-clean-100/360 → train, test-clean → test;
//    VoxCeleb2 dev → train, test → test); val speakers are drawn from the train speakers.
// For speaker-disjoint splits, closed-set speaker ID cannot be scored on speakers the classifier never
// saw, so (seed000 spec §7) speaker tasks use `speakerId`: an utterance-level split, stratified by
// speaker, of the test-split speakers' utterances. Gender tasks use the speaker-disjoint split itself.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { EarmarkError } from '../errors.js';
import { writeFileAtomicSync } from '../util/atomic.js';
import { Rng } from '../util/rng.js';
import { compareStrings, labelOf, type Corpus, type LabelKey, type Utterance } from './types.js';
import {
  dealGroups,
  groupBy,
  sortedIds,
  speakerDisjointSplit,
  SPLIT_NAMES,
  stratifiedSplit,
  type Fractions,
  type SplitName,
  type SplitSet,
} from './split-methods.js';

export {
  SPLIT_NAMES,
  speakerDisjointSplit,
  stratifiedSplit,
  takeKey,
  type Fractions,
  type SplitName,
  type SplitSet,
} from './split-methods.js';

export const SPLIT_METHODS = ['stratified', 'speaker-disjoint', 'official'] as const;
export type SplitMethod = (typeof SPLIT_METHODS)[number];

export interface SplitConfig {
  method: SplitMethod;
  seed: number;
  /** Proportions of utterances (stratified) or speakers (speaker-disjoint; val for 'official'). */
  fractions: Fractions;
  /** Stratified: the labels whose combination defines a stratum; default speaker (× emotion when present). */
  stratifyBy: LabelKey[];
  /** Official: subset label value → split, e.g. { 'train-clean-100': 'train', 'test-clean': 'test' }. */
  subsetMap: Record<string, SplitName>;
  /** Speaker-ID protocol proportions over the test speakers' utterances (speaker-disjoint and official only). */
  speakerIdFractions: Fractions;
  /**
   * Labels whose combined value names an utterance's source take: utterances with equal values stay in
   * one split (stratified and speaker-ID splits deal whole groups). [] = every file is its own recording.
   */
  groupBy: LabelKey[];
}

/** What splits.json holds. */
export interface Splits {
  format: 'earmark-splits';
  version: 1;
  corpus: { name: string; utterances: number; idsHash: string };
  config: SplitConfig;
  split: SplitSet;
  /** Speaker-ID protocol (spec §7) for speaker-disjoint splits; absent for stratified ones. */
  speakerId?: SplitSet;
}

export const DEFAULT_FRACTIONS: Fractions = { train: 0.7, val: 0.1, test: 0.2 };

/** LibriSpeech and VoxCeleb2 subsets as the paper used them (dev-* sets become val). */
export const OFFICIAL_SUBSETS: Record<string, SplitName> = {
  'train-clean-100': 'train',
  'train-clean-360': 'train',
  'train-other-500': 'train',
  'dev-clean': 'val',
  'dev-other': 'val',
  'test-clean': 'test',
  'test-other': 'test',
  dev: 'train',
  test: 'test',
};

/**
 * The split each corpus's paper protocol uses: stratified for the emotion corpora; for LibriSpeech and
 * VoxCeleb2 the official subsets when both a train and a test subset are present (the paper: train-clean
 * → train, test-clean → test; V2D → train, V2T → test), else a random speaker-disjoint split.
 */
export function defaultMethod(corpus: Corpus): SplitMethod {
  if (corpus.name !== 'librispeech' && corpus.name !== 'voxceleb2') return 'stratified';
  const mapped = new Set<SplitName | undefined>(
    corpus.utterances.map((u) => OFFICIAL_SUBSETS[u.labels?.subset ?? u.labels?.set ?? '']),
  );
  return mapped.has('train') && mapped.has('test') && !mapped.has(undefined) ? 'official' : 'speaker-disjoint';
}

/** Corpora whose files are separate recordings (their `sentence` is a prompt, not a shared take). */
const SEPARATE_RECORDINGS = new Set(['ravdess', 'emovdb', 'librispeech', 'voxceleb2']);

/**
 * The default source-take key: an explicit `source` or `group` column (every utterance has it), else
 * (speaker, sentence) for a CSV corpus whose every row names its sentence (the built-in corpus renders
 * all emotions of a sentence from one take), else none.
 */
export function defaultGroupBy(corpus: Corpus): LabelKey[] {
  for (const k of ['source', 'group']) if (corpus.utterances.every((u) => (u.labels?.[k] ?? '') !== '')) return [k];
  if (SEPARATE_RECORDINGS.has(corpus.name)) return [];
  return corpus.utterances.every((u) => u.sentence !== undefined && u.speaker !== '') ? ['speaker', 'sentence'] : [];
}

/**
 * Fills in defaults and validates a split config. Unknown keys are refused by name.
 *
 * @example
 * resolveSplitConfig(corpus, { seed: 1 }) // method from the corpus, fractions 0.7/0.1/0.2
 */
export function resolveSplitConfig(corpus: Corpus, partial: Partial<SplitConfig> = {}): SplitConfig {
  const keys = ['method', 'seed', 'fractions', 'stratifyBy', 'subsetMap', 'speakerIdFractions', 'groupBy'];
  for (const k of Object.keys(partial)) {
    if (!keys.includes(k))
      throw new EarmarkError('EARMARK_CONFIG', `unknown split option '${k}'; expected one of ${keys.join(', ')}`);
  }
  const method = partial.method ?? defaultMethod(corpus);
  if (!['stratified', 'speaker-disjoint', 'official'].includes(method)) {
    throw new EarmarkError(
      'EARMARK_CONFIG',
      `split method '${method}' is unknown; expected stratified, speaker-disjoint or official`,
    );
  }
  const seed = partial.seed ?? 0;
  if (!Number.isInteger(seed)) throw new EarmarkError('EARMARK_CONFIG', `split seed must be an integer, got ${seed}`);
  const fractions = checkFractions(partial.fractions ?? DEFAULT_FRACTIONS, 'fractions');
  const speakerIdFractions = checkFractions(partial.speakerIdFractions ?? DEFAULT_FRACTIONS, 'speakerIdFractions');
  const stratifyBy =
    partial.stratifyBy ?? (corpus.labelNames.includes('emotion') ? ['speaker', 'emotion'] : ['speaker']);
  const subsetMap = partial.subsetMap ?? OFFICIAL_SUBSETS;
  const groups = partial.groupBy ?? defaultGroupBy(corpus);
  if (!Array.isArray(groups) || groups.some((k) => typeof k !== 'string' || k === '')) {
    throw new EarmarkError(
      'EARMARK_CONFIG',
      `split groupBy must be a list of label names (e.g. ['speaker', 'sentence'], or [] for none), got ${JSON.stringify(groups)}`,
    );
  }
  return { method, seed, fractions, stratifyBy, subsetMap, speakerIdFractions, groupBy: groups };
}

function checkFractions(f: Fractions, name: string): Fractions {
  const vals = SPLIT_NAMES.map((s) => f[s]);
  if (vals.some((v) => typeof v !== 'number' || !(v >= 0)) || Math.abs(vals.reduce((a, b) => a + b, 0) - 1) > 1e-6) {
    throw new EarmarkError(
      'EARMARK_CONFIG',
      `split ${name} must be three non-negative numbers summing to 1, got ${JSON.stringify(f)}; e.g. { train: 0.7, val: 0.1, test: 0.2 }`,
    );
  }
  return { train: f.train, val: f.val, test: f.test };
}

/** The corpus's own subsets; val speakers drawn from train when no subset maps to val. */
function officialSplit(corpus: Corpus, cfg: SplitConfig, rng: Rng): SplitSet {
  const parts: Record<SplitName, Utterance[]> = { train: [], val: [], test: [] };
  for (const u of corpus.utterances) {
    const subset = u.labels?.subset ?? u.labels?.set;
    const s = subset === undefined ? undefined : cfg.subsetMap[subset];
    if (s === undefined) {
      throw new EarmarkError(
        'EARMARK_CONFIG',
        `utterance ${u.id} is in subset '${subset ?? '(none)'}', which the official split does not map (known: ${Object.keys(cfg.subsetMap).join(', ')}); use method 'speaker-disjoint' or add it to subsetMap`,
      );
    }
    parts[s].push(u);
  }
  if (parts.val.length === 0 && cfg.fractions.val > 0) {
    const f = cfg.fractions.val / (cfg.fractions.train + cfg.fractions.val);
    const carved = speakerDisjointSplit(parts.train, { train: 1 - f, val: f, test: 0 }, rng);
    return { train: carved.train, val: carved.val, test: sortedIds(parts.test) };
  }
  return { train: sortedIds(parts.train), val: sortedIds(parts.val), test: sortedIds(parts.test) };
}

/** sha256 of the sorted utterance ids: the corpus identity a saved split is checked against. */
export function idsHash(corpus: Corpus): string {
  const h = createHash('sha256');
  for (const id of corpus.utterances.map((u) => u.id).sort(compareStrings)) h.update(id).update('\n');
  return h.digest('hex').slice(0, 16);
}

/**
 * Makes the splits of `corpus` for `config` (pure: same corpus and config → same splits).
 *
 * @example
 * const s = makeSplits(corpus, resolveSplitConfig(corpus, { seed: 7 }));
 * s.split.test.length; // ≈ 20 % of the utterances
 */
export function makeSplits(corpus: Corpus, config: SplitConfig): Splits {
  const rng = new Rng(config.seed);
  let split: SplitSet;
  if (config.method === 'stratified')
    split = stratifiedSplit(
      corpus.utterances,
      config.stratifyBy,
      config.fractions,
      rng.derive('stratified'),
      config.groupBy,
    );
  else if (config.method === 'speaker-disjoint')
    split = speakerDisjointSplit(corpus.utterances, config.fractions, rng.derive('speakers'));
  else split = officialSplit(corpus, config, rng.derive('official'));
  const out: Splits = {
    format: 'earmark-splits',
    version: 1,
    corpus: { name: corpus.name, utterances: corpus.utterances.length, idsHash: idsHash(corpus) },
    config,
    split,
  };
  if (config.method !== 'stratified') {
    const testIds = new Set(split.test);
    const testUtts = corpus.utterances.filter((u) => testIds.has(u.id));
    out.speakerId = stratifiedSplit(
      testUtts,
      ['speaker'],
      config.speakerIdFractions,
      rng.derive('speaker-id'),
      config.groupBy,
    );
  }
  return out;
}

/** Reads and checks a splits.json. */
export function readSplits(file: string): Splits {
  let s: Splits;
  try {
    s = JSON.parse(readFileSync(file, 'utf8')) as Splits;
  } catch (e) {
    throw new EarmarkError(
      'EARMARK_DATASET',
      `cannot read splits file ${file}: ${(e as Error).message}; delete it to make new splits`,
      { cause: e },
    );
  }
  if (s.format !== 'earmark-splits' || s.version !== 1 || s.split === undefined) {
    throw new EarmarkError(
      'EARMARK_DATASET',
      `${file} is not an earmark splits file (format 'earmark-splits', version 1); delete it or pass another path`,
    );
  }
  return s;
}

/** Writes splits.json atomically (temp file + rename), creating the folder. */
export function writeSplits(file: string, splits: Splits): void {
  mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  writeFileAtomicSync(file, JSON.stringify(splits, null, 1) + '\n');
}

/** Field-by-field differences between two configs, for the mismatch error. */
function configDiff(a: SplitConfig, b: SplitConfig): string[] {
  return (Object.keys(b) as (keyof SplitConfig)[])
    .filter((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k]))
    .map((k) => `${k}: saved ${JSON.stringify(a[k])}, requested ${JSON.stringify(b[k])}`);
}

/**
 * Re-uses the splits saved in `file` when they were made for this corpus and config; otherwise makes
 * them and saves them. A saved file made for another config or another corpus is an error (delete
 * it or pass another path), so a run never silently mixes splits.
 *
 * @example
 * const splits = loadOrCreateSplits('runs/ravdess/splits.json', corpus, { seed: 0 });
 * const train = selectSplit(corpus, splits.split.train);
 */
export function loadOrCreateSplits(
  file: string,
  corpus: Corpus,
  partial: Partial<SplitConfig> = {},
): Splits & { created: boolean } {
  const config = resolveSplitConfig(corpus, partial);
  if (existsSync(file)) {
    const saved = readSplits(file);
    const diff = configDiff(saved.config, config);
    if (diff.length) {
      throw new EarmarkError(
        'EARMARK_CONFIG',
        `${file} was made with another split config (${diff.join('; ')}); pass the saved settings, or delete the file (or use another path) to make new splits`,
      );
    }
    const hash = idsHash(corpus);
    // the utterance ids decide; the corpus's display name may change (e.g. a renamed folder) without changing the split
    if (saved.corpus.idsHash !== hash) {
      throw new EarmarkError(
        'EARMARK_DATASET',
        `${file} was made for corpus '${saved.corpus.name}' with ${saved.corpus.utterances} utterances (ids ${saved.corpus.idsHash}), but this corpus is '${corpus.name}' with ${corpus.utterances.length} (ids ${hash}); the corpus changed: delete the file to make new splits`,
      );
    }
    return { ...saved, created: false };
  }
  const splits = makeSplits(corpus, config);
  writeSplits(file, splits);
  return { ...splits, created: true };
}

/** The utterances of `corpus` whose ids are in `ids`, in corpus order. */
export function selectSplit(corpus: Corpus, ids: readonly string[]): Utterance[] {
  const set = new Set(ids);
  return corpus.utterances.filter((u) => set.has(u.id));
}
