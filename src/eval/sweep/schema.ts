// The shape of a sweep's report.json (issue 14): every point with its settings, validation numbers (what the
// utility budget reads) and test scores, the baselines, the frontier per attribute, latency and the choice.
import type { AttributeFrontier, BudgetChoice } from './frontier.js';
import type { GeneratorNorm } from '../../models/cyclegan-vc2.js';
import type { SweepGrid, SweepPoint } from './grid.js';
import type { PointValidation, TestScores } from './points.js';

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
  baselines: { id: string; dir: string; status: 'done' | 'failed' | 'reused'; error?: string; test?: TestScores }[];
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
  createdAt: string;
}
