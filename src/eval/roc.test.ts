import assert from 'node:assert/strict';
import { test } from 'node:test';
import { rocAuc, rocCurve } from './roc.js';

test('rocAuc: scikit-learn example (0.75)', () => {
  assert.equal(rocAuc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]), 0.75);
});

test('rocAuc: ties count one half (hand-computed)', () => {
  // pairs (pos, neg): pos {0.5, 0.7, 0.5}, neg {0.5, 0.2, 0.7}
  // 0.5 vs 0.5 ½, vs 0.2 1, vs 0.7 0 → 1.5; 0.7 vs 0.5 1, vs 0.2 1, vs 0.7 ½ → 2.5; second 0.5 → 1.5
  // U = 5.5 of 9 pairs = 0.6111… (scipy.stats.mannwhitneyu([.5,.7,.5],[.5,.2,.7]).statistic / 9, which is what
  // sklearn's roc_auc_score gives for binary labels)
  assert.ok(Math.abs(rocAuc([0.5, 0.7, 0.5, 0.5, 0.2, 0.7], [1, 1, 1, 0, 0, 0]) - 5.5 / 9) < 1e-12);
  // all scores equal: the diagonal, 0.5
  assert.equal(rocAuc([0.3, 0.3, 0.3, 0.3], [1, 0, 1, 0]), 0.5);
  // perfect and reversed
  assert.equal(rocAuc([0.9, 0.8, 0.1], [1, 1, 0]), 1);
  assert.equal(rocAuc([0.1, 0.2, 0.9], [1, 1, 0]), 0);
});

test('rocCurve: one point per distinct threshold', () => {
  const c = rocCurve([0.5, 0.7, 0.5, 0.5, 0.2, 0.7], [1, 1, 1, 0, 0, 0]);
  assert.deepEqual(c.thresholds, [Infinity, 0.7, 0.5, 0.2]);
  assert.deepEqual(c.tpr, [0, 1 / 3, 1, 1]);
  assert.deepEqual(c.fpr, [0, 1 / 3, 2 / 3, 1]);
});

test('rocAuc: refuses one-class labels and length mismatch, naming the argument', () => {
  assert.throws(() => rocAuc([0.1, 0.2], [1, 1]), /'labels' holds only positives/);
  assert.throws(() => rocAuc([0.1], [1, 0]), /'scores' \(1\) and 'labels' \(2\)/);
  assert.throws(() => rocAuc([0.1, 0.2], [1, 2]), /'labels\[1\]' must be 0 or 1/);
});
