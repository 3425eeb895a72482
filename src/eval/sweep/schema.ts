// The shape of a sweep's report.json (issue 14): every point with its settings, validation numbers (what the
// utility budget reads) and test scores, the baselines, the frontier per attribute, latency, the choice and,
// with a seed axis, the points that differ only in seed summarised over their seeds.
import type { AttributeFrontier, BudgetChoice } from './frontier.js';
import type { GeneratorNorm } from '../../models/cyclegan-vc2.js';
import type { SweepGrid, SweepPoint } from './grid.js';
import type { PointValidation, TestScores } from './points.js';

/** The mean and the range of one number over a group's seeds. */
export interface Spread {
  mean: number;
  min: number;
  max: number;
}

/** The points of a sweep that differ only in seed, and their numbers over the seeds. */
export interface SeedGroup {
  /** The members' id without its '-s<seed>' ('base' where no other setting varies), e.g. 'lp1-w32m4'. */
  id: string;
  /** The seeds of the judged members (obfuscatorTrain.seed), in the grid's order. */
  seeds: number[];
  /** The judged members' ids, in the same order. */
  points: string[];
  /** The seed-mean validation numbers (each informed attribute over the members that report it): what the budget reads. */
  val: PointValidation;
  /** T's validation drop (cleanAcc − targetAcc). */
  valDrop: Spread;
  /** T's test accuracy on the output (the frontier's x: PCM where judged). */
  target: Spread;
  /**
   * Per attacked attribute: the strongest attacker's accuracy (whichever attacker it is in each seed), the best
   * informed attacker's, and each attacker's by 'attacker/format/protocol' (the primary protocol's, as the frontier).
   */
  attributes: Record<string, { strongest: Spread; informed?: Spread; attackers: Record<string, Spread> }>;
}

/** One point of the sweep as report.json lists it. */
export interface SweepPointRecord {
  id: string;
  point: SweepPoint;
  status: 'done' | 'failed' | 'reused';
  error?: string;
  dir: string;
  fingerprint: string;
  settings: {
    lambdaP: number;
    width: number;
    epochs: number;
    window: { w: number; m: number };
    latencyMs: number;
    /** The obfuscator's norm (absent in reports from before the norm axis: 'instance'). */
    norm?: GeneratorNorm;
    /** obfuscatorTrain.seed, where the grid has a seed axis. */
    seed?: number;
  };
  val?: PointValidation;
  test?: TestScores;
}

export interface SweepReport {
  format: 'earmark-sweep-report';
  version: 1;
  experiment: string;
  /** The granted task T is trained for (the frontier's x axis). */
  task: string;
  dataset: string;
  grid: SweepGrid;
  points: SweepPointRecord[];
  baselines: {
    id: string;
    dir: string;
    status: 'done' | 'failed' | 'reused';
    error?: string;
    test?: TestScores;
    /** Why a baseline that ran has no scores, from its run's report (ADR on a non-binary protected attribute). */
    note?: string;
  }[];
  frontiers: AttributeFrontier[];
  /** Per deployed window: its latency and the point the budget picks among that window's points, with its test privacy. */
  latency: {
    window: { w: number; m: number };
    latencyMs: number;
    budget: number;
    chosen?: string;
    withinBudget?: boolean;
    strongest: Record<string, number>;
  }[];
  choice?: BudgetChoice;
  /** Where the seed axis has more than one value: the points that differ only in seed, over their seeds (seeds.ts). */
  seedGroups?: SeedGroup[];
  createdAt: string;
}
