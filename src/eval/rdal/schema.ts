// RDAL experiment's report schema: one record per trained run, the per-method summary, and report.json.
import type { RdalConfig, RdalMethod } from '../../methods/rdal/config.js';

export interface RdalRunMetrics {
  method: RdalMethod;
  run: number;
  seed: number;
  eventAcc: number;
  eventMacroF1: number;
  /** The in-training adversary's accuracy on the eval split (null for the baseline). */
  advAcc: number | null;
  speechAcc: number;
  speechRecall: number;
  speechAuc: number;
  /** The fresh speech attacker's best validation BCE (ln 2 ≈ 0.693 = chance). */
  speechValBce: number;
  genderAcc: number;
  genderAuc: number;
  bestEpoch: number;
  epochsRun: number;
  seconds: number;
  /** Speech-attacker probabilities on the eval split and the true labels (ROC and histograms). */
  speechProb: number[];
  speechLabel: number[];
}

export const METRIC_KEYS = [
  'eventAcc',
  'eventMacroF1',
  'advAcc',
  'speechAcc',
  'speechRecall',
  'speechAuc',
  'speechValBce',
  'genderAcc',
  'genderAuc',
  'epochsRun',
  'seconds',
] as const;
export type RdalMetricKey = (typeof METRIC_KEYS)[number];

export interface RdalSummaryRow {
  method: RdalMethod;
  runs: number;
  metrics: Record<RdalMetricKey, { mean: number; std: number; n: number }>;
}

export interface RdalReport {
  title: string;
  created: string;
  data: string;
  classes: string[];
  sizes: Record<'train' | 'val' | 'eval', number>;
  config: RdalConfig;
  meta: Record<string, unknown>;
  summary: RdalSummaryRow[];
  runs: RdalRunMetrics[];
  /** Every pair of methods compared over the seeds both ran: mean ± std of the differences, paired t test. */
  paired: PairedComparison[];
  /** The paper's qualitative claims, checked on this report's means (and the paired test where it applies). */
  checks: { claim: string; holds: boolean | null; detail: string }[];
}

/** Two methods compared paired over the seeds both ran (eval/rdal/paired.ts). */
export interface PairedComparison {
  a: RdalMethod;
  b: RdalMethod;
  metric: RdalMetricKey;
  /** The seeds both methods ran. */
  seeds: number[];
  /** Mean and population std of a − b over those seeds. */
  meanDiff: number;
  stdDiff: number;
  t: number | null;
  df: number;
  /** Two-sided p-value of the paired t test (null: fewer than 2 seeds or zero spread). */
  p: number | null;
}
