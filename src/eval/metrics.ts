// Classification metrics for attackers and targets: accuracy, unweighted average recall (macro recall),
// chance levels, and 95% bootstrap intervals (percentile method, seeded).
import type { EpochRecord } from '../methods/classifier.js';
import { Rng } from '../util/rng.js';

export interface Interval {
  lo: number;
  hi: number;
}

export interface ClassScores {
  n: number;
  accuracy: number;
  accuracyCI: Interval;
  /** Macro recall over the classes present in the labels. */
  uar: number;
  uarCI: Interval;
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

/**
 * 95% percentile bootstrap interval of `stat` over resampled utterances.
 * @example bootstrapCI((idx) => accuracyOf(pred, labels, idx), labels.length)
 */
export function bootstrapCI(
  stat: (idx: number[]) => number,
  n: number,
  opts: { resamples?: number; seed?: number; level?: number } = {},
): Interval {
  const b = opts.resamples ?? 1000;
  const level = opts.level ?? 0.95;
  if (n === 0) return { lo: 0, hi: 0 };
  const rng = new Rng(opts.seed ?? 0);
  const vals: number[] = [];
  const idx = new Array<number>(n);
  for (let r = 0; r < b; r++) {
    for (let i = 0; i < n; i++) idx[i] = rng.int(n);
    vals.push(stat(idx));
  }
  vals.sort((x, y) => x - y);
  const q = (p: number): number => vals[Math.min(b - 1, Math.max(0, Math.floor(p * b)))]!;
  return { lo: q((1 - level) / 2), hi: q(1 - (1 - level) / 2) };
}

/** Accuracy, UAR, chance levels and bootstrap intervals of one set of predictions. */
export function scoreClassification(
  pred: readonly number[],
  labels: readonly number[],
  numClasses: number,
  seed = 0,
): ClassScores {
  if (pred.length !== labels.length)
    throw new RangeError(`'pred' has ${pred.length} entries but 'labels' has ${labels.length}`);
  const n = labels.length;
  return {
    n,
    accuracy: accuracyOf(pred, labels),
    accuracyCI: bootstrapCI((idx) => accuracyOf(pred, labels, idx), n, { seed }),
    uar: uarOf(pred, labels),
    uarCI: bootstrapCI((idx) => uarOf(pred, labels, idx), n, { seed: seed + 1 }),
    chanceUniform: 1 / numClasses,
    chanceMajority: majorityRate(labels),
  };
}
