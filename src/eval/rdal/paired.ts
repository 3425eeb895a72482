// Comparing RDAL's methods over runs (issue 11, "verdicts from intervals"): run r of every method uses
// the same seed (c.train.seed + r), so two methods are compared PAIRED over the seeds both ran: the
// per-seed differences d_s = a_s − b_s, their mean ± std (population, as the tables), and the paired
// two-sided Student t test (t = mean(d) / (sd(d) / √n), sd unbiased, n − 1 degrees of freedom) with its
// p-value. With fewer than two seeds, or differences that are all equal, there is no test (p = null).
import type { RdalMethod } from '../../methods/rdal/config.js';
import type { PairedComparison, RdalMetricKey, RdalRunMetrics } from './schema.js';

export type { PairedComparison } from './schema.js';

/** ln Γ(x) for x > 0 (Lanczos, g = 7, n = 9; about 15 digits). */
function lnGamma(x: number): number {
  const g = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - lnGamma(1 - x);
  x -= 1;
  let a = g[0]!;
  const t = x + 7.5;
  for (let i = 1; i < 9; i++) a += g[i]! / (x + i);
  return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(a);
}

/** Continued fraction of the regularised incomplete beta (modified Lentz). */
function betaCf(a: number, b: number, x: number): number {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  d = 1 / (Math.abs(d) < tiny ? tiny : d);
  let h = d;
  for (let m = 1; m <= 300; m++) {
    for (const num of [
      (m * (b - m) * x) / ((a + 2 * m - 1) * (a + 2 * m)),
      (-(a + m) * (a + b + m) * x) / ((a + 2 * m) * (a + 2 * m + 1)),
    ]) {
      d = 1 + num * d;
      d = 1 / (Math.abs(d) < tiny ? tiny : d);
      c = 1 + num / c;
      if (Math.abs(c) < tiny) c = tiny;
      h *= d * c;
    }
    if (Math.abs(d * c - 1) < 1e-15) break;
  }
  return h;
}

/** The regularised incomplete beta I_x(a, b). */
export function incompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(lnGamma(a + b) - lnGamma(a) - lnGamma(b) + a * Math.log(x) + b * Math.log(1 - x));
  return x < (a + 1) / (a + b + 2) ? (front * betaCf(a, b, x)) / a : 1 - (front * betaCf(b, a, 1 - x)) / b;
}

/** Two-sided p-value of Student's t with `df` degrees of freedom: P(|T| ≥ |t|) = I_{df/(df+t²)}(df/2, 1/2). */
export function studentTwoSidedP(t: number, df: number): number {
  return incompleteBeta(df / (df + t * t), df / 2, 0.5);
}

/**
 * Paired comparison of methods `a` and `b` on `metric` over the seeds both ran.
 * @example const c = pairedComparison(report.runs, 'naive', 'rdal', 'speechAuc'); // c.p < 0.05: a real difference
 */
export function pairedComparison(
  runs: readonly RdalRunMetrics[],
  a: RdalMethod,
  b: RdalMethod,
  metric: RdalMetricKey,
): PairedComparison {
  const value = (r: RdalRunMetrics): number | null => r[metric];
  const bySeed = new Map(runs.filter((r) => r.method === b).map((r) => [r.seed, value(r)]));
  const pairs = runs
    .filter((r) => r.method === a && bySeed.has(r.seed))
    .map((r) => [r.seed, value(r), bySeed.get(r.seed)!] as const)
    .filter(
      (x): x is readonly [number, number, number] =>
        x[1] !== null && x[2] !== null && Number.isFinite(x[1]) && Number.isFinite(x[2]),
    );
  const d = pairs.map(([, x, y]) => x - y);
  const n = d.length;
  const mean = n ? d.reduce((s, v) => s + v, 0) / n : Number.NaN;
  const ss = d.reduce((s, v) => s + (v - mean) ** 2, 0);
  const out: PairedComparison = {
    a,
    b,
    metric,
    seeds: pairs.map(([s]) => s),
    meanDiff: mean,
    stdDiff: n ? Math.sqrt(ss / n) : Number.NaN,
    t: null,
    df: Math.max(0, n - 1),
    p: null,
  };
  if (n < 2 || ss <= 1e-24 * Math.max(1, mean * mean)) return out;
  out.t = mean / (Math.sqrt(ss / (n - 1)) / Math.sqrt(n));
  out.p = studentTwoSidedP(out.t, n - 1);
  return out;
}

/** The comparisons every RDAL report states: each pair of the methods run, on event accuracy and the fresh attackers' AUCs. */
export function pairedComparisons(runs: readonly RdalRunMetrics[], methods: readonly RdalMethod[]): PairedComparison[] {
  const out: PairedComparison[] = [];
  for (let i = 0; i < methods.length; i++) {
    for (let j = i + 1; j < methods.length; j++) {
      for (const metric of ['eventAcc', 'speechAuc', 'genderAuc'] as const)
        out.push(pairedComparison(runs, methods[i]!, methods[j]!, metric));
    }
  }
  return out;
}
