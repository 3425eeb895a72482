// Experiment data: a corpus in any supported layout → seeded splits (written once) → cached DS2
// features → in-memory spectrogram sets with integer labels per attribute. Speaker tasks on
// speaker-disjoint corpora use the spec §7 protocol (an utterance-level split of the test speakers).
import path from 'node:path';
import { EarmarkError } from '../errors.js';
import { buildFeatureCache } from './cache.js';
import type { FeatureSpec } from './cache-file.js';
import { ds2FeatureSpec } from './features-ds2.js';
import { loadCorpus, withoutSkipped, type Layout } from './load.js';
import { loadOrCreateSplits, type SplitSet, type Splits } from './splits.js';
import { labelOf, labelValues, type Corpus, type LabelKey, type Utterance } from './types.js';
import type { LabelledSet, SpecSet } from './spec-set.js';

export interface DatasetOptions {
  /** Corpus layout, or 'auto' to detect it from the folder. */
  layout: Layout | 'auto';
  /** Corpus root folder (every layout but a bare CSV manifest). */
  root: string;
  /** CSV manifest file (layout 'csv'). */
  manifest: string;
  /** Seed of the train/val/test split. */
  splitSeed: number;
  /** Skip unreadable audio files (listed in the summary) instead of failing. */
  skipBad: boolean;
}

export const DATASET_DEFAULTS: DatasetOptions = {
  layout: 'auto',
  root: '',
  manifest: '',
  splitSeed: 0,
  skipBad: false,
};

export interface SplitSets {
  train: SpecSet;
  val: SpecSet;
  test: SpecSet;
}

export interface ExperimentData {
  corpus: Corpus;
  splits: Splits;
  /** The main split (attribute tasks; speaker tasks on stratified corpora). */
  sets: SplitSets;
  /** The speaker-ID protocol split, for speaker tasks on speaker-disjoint corpora. */
  speakerSets?: SplitSets;
  byId: Map<string, Utterance>;
  /** Per-utterance normalisation statistics of the DS2 features (to undo them for audio). */
  stats: Map<string, { mean: number; std: number }>;
  /** Files left out as unreadable (with skipBad): they cannot be opened or decoded; in no split. */
  skipped: { id: string; path: string; error: string }[];
  /** The spec of the cached features in `sets` (part of every stage's inputs, see methods/stage.ts). */
  featureSpec: FeatureSpec;
}

/**
 * The corpus a dataset config names, its files checked (with skipBad, unreadable ones left out and listed).
 * @example const corpus = loadDatasetCorpus({ ...DATASET_DEFAULTS, manifest: 'speech/labels.csv' });
 */
export function loadDatasetCorpus(o: DatasetOptions): Corpus {
  if (!o.root && !o.manifest) {
    throw new EarmarkError(
      'EARMARK_DATASET',
      'no dataset given: pass --root <corpus folder> (or --manifest <labels.csv>); `earmark corpus speech` builds the built-in one',
    );
  }
  // a manifest without a layout is a CSV manifest (VoxCeleb2's vox2_meta.csv needs --layout voxceleb2)
  const layout = o.manifest && o.layout === 'auto' ? 'csv' : o.layout;
  return loadCorpus({
    layout,
    root: o.root || path.dirname(o.manifest),
    ...(o.manifest ? { manifest: o.manifest } : {}),
    skipBad: o.skipBad,
  });
}

/**
 * Load a corpus, its DS2 features (cached under `workDir`) and its splits (created once under
 * `workDir`). Readability is decided before the splits are drawn: files that cannot be opened or
 * decoded (with skipBad) are in `skipped` and in no split.
 * @example const data = await loadExperimentData({ ...DATASET_DEFAULTS, layout: 'csv', manifest: 'speech/labels.csv' }, 'runs/x');
 */
export async function loadExperimentData(o: DatasetOptions, workDir: string, progress = true): Promise<ExperimentData> {
  const listed = loadDatasetCorpus(o);
  const featureSpec = ds2FeatureSpec();
  const built = await buildFeatureCache(listed, featureSpec, {
    dir: path.join(workDir, 'features'),
    skipBad: o.skipBad,
    progress,
  });
  const corpus = withoutSkipped(listed, built.skipped);
  const splits = loadOrCreateSplits(path.join(workDir, 'splits.json'), corpus, { seed: o.splitSeed });
  const cache = built.cache;
  const byId = new Map(corpus.utterances.map((u) => [u.id, u]));
  const stats = new Map<string, { mean: number; std: number }>();
  const toSet = (ids: readonly string[]): SpecSet => {
    const set: SpecSet = { ids: [], specs: [], frames: [], nFreq: 161 };
    for (const id of ids) {
      if (!cache.has(id)) continue; // skipped as unreadable
      const item = cache.get(id);
      const [nFreq, frames] = item.shape as [number, number];
      set.nFreq = nFreq;
      set.ids.push(id);
      set.specs.push(item.data);
      set.frames.push(frames);
      stats.set(id, { mean: item.stats?.mean ?? 0, std: item.stats?.std ?? 1 });
    }
    return set;
  };
  const fromSplit = (s: SplitSet): SplitSets => ({ train: toSet(s.train), val: toSet(s.val), test: toSet(s.test) });
  const data: ExperimentData = {
    corpus,
    splits,
    sets: fromSplit(splits.split),
    byId,
    stats,
    skipped: corpus.skipped ?? [],
    featureSpec,
  };
  if (splits.speakerId) data.speakerSets = fromSplit(splits.speakerId);
  cache.close();
  for (const [name, s] of Object.entries(data.sets)) {
    if (s.ids.length === 0)
      throw new EarmarkError(
        'EARMARK_DATASET',
        `the ${name} split of ${corpus.name} is empty; the corpus is too small for a train/val/test split`,
      );
  }
  return data;
}

/** The class names of attribute `key` over the whole corpus (sorted, so indices are stable). */
export function classNames(data: ExperimentData, key: LabelKey): string[] {
  const names = labelValues(data.corpus.utterances, key);
  if (names.length < 2) {
    throw new EarmarkError(
      'EARMARK_DATASET',
      `${data.corpus.name} has ${names.length} value(s) of '${key}'; a classification task needs at least 2 (labels found: ${data.corpus.labelNames.join(', ')})`,
    );
  }
  return names;
}

/** The split sets to use for a task: speaker tasks on speaker-disjoint corpora use the speaker-ID protocol. */
export function setsFor(data: ExperimentData, key: LabelKey): SplitSets {
  return key === 'speaker' && data.speakerSets ? data.speakerSets : data.sets;
}

/** Attach integer labels of `key` to a spectrogram set; utterances without that label are dropped. */
export function labelled(data: ExperimentData, set: SpecSet, key: LabelKey): LabelledSet {
  const names = classNames(data, key);
  const index = new Map(names.map((n, i) => [n, i]));
  const keep: number[] = [];
  const labels: number[] = [];
  set.ids.forEach((id, i) => {
    const v = labelOf(data.byId.get(id)!, key);
    if (v === undefined) return;
    keep.push(i);
    labels.push(index.get(v)!);
  });
  return {
    set: {
      ids: keep.map((i) => set.ids[i]!),
      specs: keep.map((i) => set.specs[i]!),
      frames: keep.map((i) => set.frames[i]!),
      nFreq: set.nFreq,
    },
    labels,
    numClasses: names.length,
  };
}

/**
 * The global mean and (population) std of log1p|STFT| over the utterances of `set`, from each utterance's
 * normalisation statistics (its features are (log1p|STFT| − mean)/std, std unbiased): the fixed level
 * the deployed windowed rule de-normalises the obfuscator's output with.
 * @example const { mean, std } = log1pLevel(data, data.sets.train);
 */
export function log1pLevel(data: ExperimentData, set: SpecSet): { mean: number; std: number } {
  let n = 0;
  let sum = 0;
  let sq = 0;
  set.ids.forEach((id, i) => {
    const st = data.stats.get(id) ?? { mean: 0, std: 1 };
    const m = set.nFreq * set.frames[i]!;
    sum += st.mean * m;
    sq += st.std * st.std * Math.max(1, m - 1) + st.mean * st.mean * m; // Σx² = (m − 1)·s² + m·μ²
    n += m;
  });
  if (n === 0) throw new EarmarkError('EARMARK_DATASET', 'log1pLevel: the set is empty');
  const mean = sum / n;
  return { mean, std: Math.sqrt(Math.max(sq / n - mean * mean, 1e-12)) };
}
