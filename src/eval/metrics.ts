// Classification metrics for attackers and targets: accuracy, unweighted average recall (macro recall),
// chance levels, and 95% bootstrap intervals (percentile method, seeded). The intervals resample
// utterances, or — where the model never heard the test speakers (the speaker-disjoint protocol) — speakers,
// each drawn speaker with all of its utterances: one voice's utterances are not independent evidence.
import type { EpochRecord } from '../methods/classifier.js';
import { Rng } from '../util/rng.js';

export interface Interval {
  lo: number;
  hi: number;
}

export interface ClassScores {
  n: number;
  /**
   * Distinct speakers among the n test utterances, present when accuracyCI and uarCI resample speakers
   * (clusterBootstrapCI, widened to utteranceCI where that is wider); absent when they resample utterances
   * (and in reports written before speakers were counted).
   */
  speakers?: number;
  accuracy: number;
  accuracyCI: Interval;
  /** Macro recall over the classes present in the labels. */
  uar: number;
  uarCI: Interval;
  /** With `speakers`: the utterance-bootstrap intervals, what treating every utterance as independent would claim. */
  utteranceCI?: { accuracy: Interval; uar: Interval };
  /** 1/K for K classes in the task, and the majority-class rate of these labels. */
  chanceUniform: number;
  chanceMajority: number;
}

/**
 * One attribute attacked through a privacy system (the obfuscator, McAdams, ADR): the clean classifier
 * and the two attackers the paper compares every system by.
 */
export interface AttackScores {
  attribute: string;
  classes: string[];
  /** Clean classifier on clean test audio (the paper's circles). */
  clean: ClassScores;
  /** Clean classifier on the system's test output. */
  ignorant: ClassScores;
  /** Classifier trained on the system's training output, on its test output. */
  informed: ClassScores;
  informedHistory: EpochRecord[];
}

export function accuracyOf(pred: readonly number[], labels: readonly number[], idx?: readonly number[]): number {
  const ii = idx ?? labels.map((_, i) => i);
  if (ii.length === 0) return 0;
  let hit = 0;
  for (const i of ii) if (pred[i] === labels[i]) hit++;
  return hit / ii.length;
}

/** Unweighted average recall: the mean over classes present in `labels` of per-class recall. */
export function uarOf(pred: readonly number[], labels: readonly number[], idx?: readonly number[]): number {
  const ii = idx ?? labels.map((_, i) => i);
  const total = new Map<number, number>();
  const hit = new Map<number, number>();
  for (const i of ii) {
    const y = labels[i]!;
    total.set(y, (total.get(y) ?? 0) + 1);
    if (pred[i] === y) hit.set(y, (hit.get(y) ?? 0) + 1);
  }
  if (total.size === 0) return 0;
  let s = 0;
  for (const [y, n] of total) s += (hit.get(y) ?? 0) / n;
  return s / total.size;
}

/** Majority-class rate of `labels` (the accuracy of always guessing the most frequent class). */
export function majorityRate(labels: readonly number[]): number {
  const counts = new Map<number, number>();
  for (const y of labels) counts.set(y, (counts.get(y) ?? 0) + 1);
  return labels.length ? Math.max(...counts.values()) / labels.length : 0;
}

export interface BootstrapOptions {
  /** Resamples (default 1000). */
  resamples?: number;
  seed?: number;
  /** Coverage (default 0.95). */
  level?: number;
}

/** The percentile interval of `stat` over the resamples `draw` makes (the core of both bootstraps below). */
function percentileCI(stat: (idx: number[]) => number, draw: (rng: Rng) => number[], opts: BootstrapOptions): Interval {
  const b = opts.resamples ?? 1000;
  const level = opts.level ?? 0.95;
  const rng = new Rng(opts.seed ?? 0);
  const vals: number[] = [];
  for (let r = 0; r < b; r++) vals.push(stat(draw(rng)));
  vals.sort((x, y) => x - y);
  const q = (p: number): number => vals[Math.min(b - 1, Math.max(0, Math.floor(p * b)))]!;
  return { lo: q((1 - level) / 2), hi: q(1 - (1 - level) / 2) };
}

/**
 * 95% percentile bootstrap interval of `stat` over resampled utterances.
 * @example bootstrapCI((idx) => accuracyOf(pred, labels, idx), labels.length)
 */
export function bootstrapCI(stat: (idx: number[]) => number, n: number, opts: BootstrapOptions = {}): Interval {
  if (n === 0) return { lo: 0, hi: 0 };
  const idx = new Array<number>(n);
  return percentileCI(
    stat,
    (rng) => {
      for (let i = 0; i < n; i++) idx[i] = rng.int(n);
      return idx;
    },
    opts,
  );
}

/**
 * 95% percentile cluster bootstrap interval of `stat`: `clusters[i]` names utterance i's cluster (its
 * speaker); each resample draws as many clusters as there are, with replacement, and keeps every
 * utterance of each drawn one. Only the clusters are resampled, not the utterances inside them
 * (Davison & Hinkley 1997, §3.8: resampling both stages counts the within-speaker variation twice).
 * Clusters are numbered in order of first appearance, so with one utterance per cluster it draws the same
 * indices as bootstrapCI with the same seed. A score every cluster shares (each speaker at 100%) still
 * gets a zero-width interval, as under any percentile bootstrap: read it beside the number of clusters.
 * @example clusterBootstrapCI((idx) => accuracyOf(pred, labels, idx), ids.map((id) => data.byId.get(id)!.speaker))
 */
export function clusterBootstrapCI(
  stat: (idx: number[]) => number,
  clusters: readonly (string | number)[],
  opts: BootstrapOptions = {},
): Interval {
  const byCluster = new Map<string | number, number[]>();
  clusters.forEach((c, i) => {
    const m = byCluster.get(c);
    if (m) m.push(i);
    else byCluster.set(c, [i]);
  });
  const members = [...byCluster.values()];
  const k = members.length;
  if (k === 0) return { lo: 0, hi: 0 };
  return percentileCI(
    stat,
    (rng) => {
      const idx: number[] = [];
      for (let j = 0; j < k; j++) for (const i of members[rng.int(k)]!) idx.push(i);
      return idx;
    },
    opts,
  );
}

/** The smallest interval holding both. */
const hull = (a: Interval, b: Interval): Interval => ({ lo: Math.min(a.lo, b.lo), hi: Math.max(a.hi, b.hi) });

/**
 * Accuracy, UAR, chance levels and 95% intervals of one set of predictions. Given `speakers` (the speaker
 * of each utterance: pass them where the test speakers are unseen, data/protocols.ts unseenTestSpeakers),
 * the intervals resample speakers, widened to the utterance bootstrap's where that is wider, and the
 * utterance-bootstrap ones are kept beside as `utteranceCI`. The widening is for few speakers: two voices
 * give a cluster bootstrap three distinct resamples, and its interval can come out narrower than the one
 * that treats every utterance as independent (one speaker 1 of 2 right, the other 0 of 2: [0, 50%] by
 * speaker, [0, 75%] by utterance), which no interval that admits within-speaker correlation should.
 * @example scoreClassification(pred, labels, 2, seed, unseenTestSpeakers(data, trainIds, testIds))
 */
export function scoreClassification(
  pred: readonly number[],
  labels: readonly number[],
  numClasses: number,
  seed = 0,
  speakers?: readonly string[],
): ClassScores {
  if (pred.length !== labels.length)
    throw new RangeError(`'pred' has ${pred.length} entries but 'labels' has ${labels.length}`);
  if (speakers !== undefined && speakers.length !== labels.length)
    throw new RangeError(
      `'speakers' has ${speakers.length} entries but 'labels' has ${labels.length}: pass the speaker of each utterance, in the labels' order`,
    );
  const n = labels.length;
  const acc = (idx: number[]): number => accuracyOf(pred, labels, idx);
  const uar = (idx: number[]): number => uarOf(pred, labels, idx);
  const utterance = { accuracy: bootstrapCI(acc, n, { seed }), uar: bootstrapCI(uar, n, { seed: seed + 1 }) };
  const chance = { chanceUniform: 1 / numClasses, chanceMajority: majorityRate(labels) };
  if (speakers === undefined)
    return {
      n,
      accuracy: accuracyOf(pred, labels),
      accuracyCI: utterance.accuracy,
      uar: uarOf(pred, labels),
      uarCI: utterance.uar,
      ...chance,
    };
  return {
    n,
    speakers: new Set(speakers).size,
    accuracy: accuracyOf(pred, labels),
    accuracyCI: hull(clusterBootstrapCI(acc, speakers, { seed }), utterance.accuracy),
    uar: uarOf(pred, labels),
    uarCI: hull(clusterBootstrapCI(uar, speakers, { seed: seed + 1 }), utterance.uar),
    utteranceCI: utterance,
    ...chance,
  };
}
