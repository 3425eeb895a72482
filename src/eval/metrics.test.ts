import { test } from 'node:test';
import assert from 'node:assert/strict';
import { accuracyOf, bootstrapCI, majorityRate, scoreClassification, uarOf } from './metrics.js';

test('accuracy, UAR and majority rate on a hand-checked example', () => {
  const labels = [0, 0, 0, 0, 1, 1];
  const pred = [0, 0, 0, 0, 0, 1];
  assert.equal(accuracyOf(pred, labels), 5 / 6);
  assert.equal(uarOf(pred, labels), (1 + 0.5) / 2); // class 0 recall 1, class 1 recall 0.5
  assert.equal(majorityRate(labels), 4 / 6);
});

test('bootstrap intervals contain the point estimate, shrink with n, and are reproducible for a seed', () => {
  const mk = (n: number) => Array.from({ length: n }, (_, i) => (i % 10 < 7 ? 1 : 0)); // 70% correct
  const small = mk(50);
  const big = mk(2000);
  const ciS = bootstrapCI((idx) => idx.reduce((s, i) => s + small[i]!, 0) / idx.length, small.length, { seed: 1 });
  const ciB = bootstrapCI((idx) => idx.reduce((s, i) => s + big[i]!, 0) / idx.length, big.length, { seed: 1 });
  assert.ok(ciS.lo <= 0.7 && 0.7 <= ciS.hi);
  assert.ok(ciB.lo <= 0.7 && 0.7 <= ciB.hi);
  assert.ok(ciB.hi - ciB.lo < (ciS.hi - ciS.lo) / 3);
  assert.deepEqual(
    bootstrapCI((idx) => (idx.length ? small[idx[0]!]! : 0), 50, { seed: 3 }),
    bootstrapCI((idx) => (idx.length ? small[idx[0]!]! : 0), 50, { seed: 3 }),
  );
  const s = scoreClassification([0, 1, 1, 1], [0, 1, 0, 1], 2);
  assert.equal(s.accuracy, 0.75);
  assert.equal(s.chanceUniform, 0.5);
  assert.throws(() => scoreClassification([0], [0, 1], 2), /'pred' has 1/);
});
