import { test } from 'node:test';
import assert from 'node:assert/strict';
import { computeEer, cosine } from './eer.js';

const close = (a: number, b: number, tol = 1e-12): void => assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b}`);

test('EER of hand-checked score sets', () => {
  // sorted: .9T .8T .7N .3T .2N .1N → at threshold .3 FAR = FRR = 1/3
  close(computeEer([0.9, 0.8, 0.3], [0.7, 0.2, 0.1]).eer, 1 / 3);
  // perfect separation
  const sep = computeEer([2, 3, 4], [0, 1]);
  close(sep.eer, 0);
  assert.ok(sep.threshold > 1 && sep.threshold <= 2);
  // perfectly inverted
  close(computeEer([0, 1], [2, 3]).eer, 1);
  // one target below one of four non-targets: ROC (0,1)→(0,.5)→(.25,.5)… crosses at FAR=FRR between points
  // points: thr 5(T): (0, .5); thr 4(N): (.25, .5); thr 3(T): (.25, 0) → crossing on the vertical segment at .25
  close(computeEer([5, 3], [4, 2, 1, 0]).eer, 0.25);
});

test('EER with ties: tied groups move the ROC diagonally', () => {
  // everything tied: no information → 0.5
  close(computeEer([1, 1, 1], [1, 1]).eer, 0.5);
  // a target and a non-target tied at the top, then clean separation: from (0,1) the tie goes to (1/2, 1/2)
  // (1 of 2 non-targets, 1 of 2 targets) → crossing at 0.5 along that diagonal; FAR=FRR=0.5 exactly
  close(computeEer([1, 0.5], [1, 0]).eer, 0.5);
  // tie in the middle: T=[3,2], N=[2,1]: (0,1)→(0,.5)→tie→(.5,0); the diagonal crosses at .25
  close(computeEer([3, 2], [2, 1]).eer, 0.25);
  // same scores in any order give the same EER
  const t = [0.3, 0.1, 0.3, 0.9, 0.5];
  const n = [0.3, 0.2, 0.1, 0.5, 0.05, 0.3];
  const e = computeEer(t, n).eer;
  close(computeEer(t.slice().reverse(), n.slice().reverse()).eer, e);
});

test('EER of Gaussian scores approaches the analytic value Φ(−d/2)', () => {
  // targets ~ N(d, 1), non-targets ~ N(0, 1): EER = Φ(−d/2); d = 2 → 0.158655
  let s = 12345;
  const u = (): number => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s + 0.5) / 4294967296;
  };
  const g = (): number => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
  const tar = Array.from({ length: 20000 }, () => 2 + g());
  const non = Array.from({ length: 20000 }, () => g());
  close(computeEer(tar, non).eer, 0.158655, 0.01);
});

test('bad score sets are refused naming the argument; cosine', () => {
  assert.throws(() => computeEer([], [1]), /'targetScores' is empty/);
  assert.throws(() => computeEer([1], [Number.NaN]), /'nonTargetScores'\[0\]/);
  close(cosine([1, 0], [0, 2]), 0);
  close(cosine([1, 1], [2, 2]), 1);
  assert.throws(() => cosine([1], [1, 2]), /lengths/);
});
