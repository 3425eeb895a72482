// RDAL's methods compared over runs (issue 11): the paired t test over seeds, checked against closed
// forms of Student's t (df 1, 2, 3), its table value (df 4), and a hand-computed paired comparison.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pairedComparison, pairedComparisons, studentTwoSidedP } from '../src/eval/rdal/paired.js';
import { qualitativeChecks } from '../src/eval/rdal/run.js';
import { METRIC_KEYS, type RdalRunMetrics, type RdalSummaryRow } from '../src/eval/rdal/schema.js';
import type { RdalMethod } from '../src/methods/rdal/config.js';

const close = (a: number, b: number, tol = 1e-9): void => assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b}`);

test("Student's t two-sided p-values: closed forms for df 1–3 and the table value for df 4", () => {
  close(studentTwoSidedP(1, 1), 0.5); // Cauchy: 1 − (2/π)·atan|t|
  close(studentTwoSidedP(3, 1), 1 - (2 / Math.PI) * Math.atan(3));
  close(studentTwoSidedP(2, 2), 1 - 2 / Math.sqrt(6)); // df 2: 1 − |t|/√(t² + 2)
  for (const t of [0.3, 1.7, 8]) {
    const u = t / Math.sqrt(3);
    close(studentTwoSidedP(t, 3), 1 - (2 / Math.PI) * (Math.atan(u) + u / (1 + u * u)));
  }
  close(studentTwoSidedP(2.776445, 4), 0.05, 1e-6);
  close(studentTwoSidedP(0, 7), 1);
});

function run(method: RdalMethod, seed: number, speechAuc: number): RdalRunMetrics {
  return {
    method,
    run: seed,
    seed,
    eventAcc: 0.9,
    eventMacroF1: 0.9,
    advAcc: 0.5,
    speechAcc: 0.6,
    speechRecall: 0.6,
    speechAuc,
    speechValBce: 0.6,
    genderAcc: 0.5,
    genderAuc: 0.5,
    bestEpoch: 1,
    epochsRun: 2,
    seconds: 1,
    speechProb: [],
    speechLabel: [],
  };
}

test('paired comparison over seeds: mean ± std of the differences, t and p by hand; unpaired seeds are left out; the paired check', () => {
  const naive = [0.8, 0.75, 0.78, 0.82];
  const rdal = [0.6, 0.62, 0.55, 0.66];
  const runs = [
    ...naive.map((v, s) => run('naive', s, v)),
    ...rdal.map((v, s) => run('rdal', s, v)),
    run('rdal', 9, 0.1),
  ];
  const c = pairedComparison(runs, 'naive', 'rdal', 'speechAuc');
  assert.deepEqual(c.seeds, [0, 1, 2, 3]);
  // differences 0.20, 0.13, 0.23, 0.16: mean 0.18, Σ(d − mean)² = 0.0058
  close(c.meanDiff, 0.18);
  close(c.stdDiff, Math.sqrt(0.0058 / 4));
  const t = 0.18 / (Math.sqrt(0.0058 / 3) / 2);
  close(c.t!, t, 1e-9);
  assert.equal(c.df, 3);
  const u = t / Math.sqrt(3);
  close(c.p!, 1 - (2 / Math.PI) * (Math.atan(u) + u / (1 + u * u)));
  assert.ok(c.p! < 0.01);
  // one seed, or no spread: no test
  assert.equal(
    pairedComparison(
      runs.filter((r) => r.seed === 0),
      'naive',
      'rdal',
      'speechAuc',
    ).p,
    null,
  );
  assert.equal(pairedComparison(runs, 'naive', 'naive', 'speechAuc').p, null);
  assert.equal(pairedComparisons(runs, ['naive', 'rdal']).length, 3);
  const flat = Object.fromEntries(
    METRIC_KEYS.map((k) => [k, { mean: 0.5, std: 0, n: 4 }]),
  ) as RdalSummaryRow['metrics'];
  const summary = (['naive', 'rdal'] as const).map((m): RdalSummaryRow => ({
    method: m,
    runs: 4,
    metrics: { ...flat },
  }));
  for (const s of summary) {
    const v = s.method === 'naive' ? naive : rdal;
    const mean = v.reduce((a, b) => a + b) / 4;
    s.metrics.speechAuc = { mean, std: Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / 4), n: 4 };
  }
  const paired = qualitativeChecks(summary, runs).find((x) => /paired t test/.test(x.claim))!;
  assert.equal(paired.holds, true, paired.detail);
  assert.match(paired.detail, /t\(3\) = 8\.19, p = 0\.00/);
});
