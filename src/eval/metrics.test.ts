import { test } from 'node:test';
import assert from 'node:assert/strict';
import { accuracyOf, bootstrapCI, clusterBootstrapCI, majorityRate, scoreClassification, uarOf } from './metrics.js';

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

test('the cluster bootstrap draws whole speakers: two speakers at 100% and 25% give [25%, 100%], wider than utterances claim', () => {
  // speaker a: 4 of 4 right; speaker b: 1 of 4. Resamples are aa (100%), ab or ba (62.5%) and bb (25%), each
  // pair a quarter of the time, so the 2.5% and 97.5% quantiles are the two speakers' own accuracies.
  const labels = [1, 1, 1, 1, 0, 0, 0, 0];
  const pred = [1, 1, 1, 1, 0, 1, 1, 1];
  const speakers = ['a', 'a', 'a', 'a', 'b', 'b', 'b', 'b'];
  const seen = new Set<string>();
  const ci = clusterBootstrapCI(
    (idx) => {
      const perSpeaker = ['a', 'b'].map((s) => idx.filter((i) => speakers[i] === s).length);
      seen.add(perSpeaker.join('+'));
      return accuracyOf(pred, labels, idx);
    },
    speakers,
    { seed: 5 },
  );
  assert.deepEqual(
    [...seen].sort(),
    ['0+8', '4+4', '8+0'],
    'every resample holds whole speakers, as many as there are',
  );
  assert.deepEqual(ci, { lo: 0.25, hi: 1 });
  const s = scoreClassification(pred, labels, 2, 5, speakers);
  assert.equal(s.speakers, 2);
  assert.equal(s.n, 8);
  assert.deepEqual(s.accuracyCI, ci);
  assert.ok(s.accuracyCI.lo <= 0.25 && s.accuracyCI.hi >= 1, "the interval holds both speakers' own accuracies");
  const u = s.utteranceCI!.accuracy;
  assert.ok(u.hi - u.lo < s.accuracyCI.hi - s.accuracyCI.lo, `utterances claim ${JSON.stringify(u)}`);
  // two voices are three distinct resamples, which can be narrower than the utterance bootstrap: widened to it
  const few = { labels: [1, 1, 0, 0], pred: [1, 0, 1, 1], speakers: ['a', 'a', 'b', 'b'] }; // a 1 of 2, b 0 of 2
  const byVoice = clusterBootstrapCI((idx) => accuracyOf(few.pred, few.labels, idx), few.speakers, { seed: 0 });
  assert.deepEqual(byVoice, { lo: 0, hi: 0.5 });
  const f = scoreClassification(few.pred, few.labels, 2, 0, few.speakers);
  assert.deepEqual(f.utteranceCI!.accuracy, { lo: 0, hi: 0.75 });
  assert.deepEqual(f.accuracyCI, { lo: 0, hi: 0.75 });
  assert.deepEqual(s.utteranceCI, {
    accuracy: scoreClassification(pred, labels, 2, 5).accuracyCI,
    uar: scoreClassification(pred, labels, 2, 5).uarCI,
  });
});

test('one utterance per speaker: the cluster bootstrap is the utterance bootstrap for the same seed; reproducible by seed; errors', () => {
  const labels = Array.from({ length: 30 }, (_, i) => i % 3);
  const pred = labels.map((y, i) => (i % 4 === 0 ? (y + 1) % 3 : y));
  const stat = (idx: number[]): number => uarOf(pred, labels, idx);
  const singletons = labels.map((_, i) => `spk${i}`);
  for (const seed of [0, 7])
    assert.deepEqual(clusterBootstrapCI(stat, singletons, { seed }), bootstrapCI(stat, labels.length, { seed }));
  const s = scoreClassification(pred, labels, 3, 2, singletons);
  const plain = scoreClassification(pred, labels, 3, 2);
  assert.deepEqual([s.accuracyCI, s.uarCI], [plain.accuracyCI, plain.uarCI]);
  assert.equal(s.speakers, 30);
  assert.equal('speakers' in plain || 'utteranceCI' in plain, false, 'utterance-level scores keep their old shape');
  // six speakers of five utterances: the same seed, the same interval; another seed draws other speakers
  const grouped = labels.map((_, i) => `spk${Math.floor(i / 5)}`);
  const a = clusterBootstrapCI(stat, grouped, { seed: 11 });
  assert.deepEqual(clusterBootstrapCI(stat, grouped, { seed: 11 }), a);
  const draws = (seed: number): string => {
    const firsts: number[] = [];
    clusterBootstrapCI((idx) => (firsts.push(idx[0]!), 0), grouped, { seed, resamples: 20 });
    return firsts.join(',');
  };
  assert.equal(draws(11), draws(11));
  assert.notEqual(draws(11), draws(12));
  assert.deepEqual(clusterBootstrapCI(stat, [], { seed: 1 }), { lo: 0, hi: 0 });
  assert.throws(
    () => scoreClassification(pred, labels, 3, 0, grouped.slice(1)),
    /'speakers' has 29 entries but 'labels' has 30/,
  );
});
