// Splits: stratified proportions per stratum, speaker-disjointness with gender balance, the speaker-ID
// protocol on the test speakers, seeding, and the saved splits.json (re-used; mismatches refused).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { EarmarkError } from '../src/errors.js';
import { loadCorpus } from '../src/data/load.js';
import type { ExperimentData } from '../src/data/experiment-data.js';
import { unseenTestSpeakers } from '../src/data/protocols.js';
import { loadOrCreateSplits, makeSplits, resolveSplitConfig, SPLIT_NAMES, type SplitSet } from '../src/data/splits.js';
import { labelOf, type Corpus, type Utterance } from '../src/data/types.js';
import { Rng } from '../src/util/rng.js';
import { librispeechTree, ravdessTree, tempDir } from './fixtures/data/trees.js';

/** An in-memory corpus (splits never touch the files). */
function syntheticCorpus(females: number, males: number, perSpeaker: number): Corpus {
  const utterances: Utterance[] = [];
  const add = (spk: string, gender: 'female' | 'male') => {
    for (let i = 0; i < perSpeaker; i++)
      utterances.push({
        id: `${spk}-${String(i).padStart(3, '0')}`,
        path: `/x/${spk}/${i}.wav`,
        speaker: spk,
        gender,
        corpus: 'synthetic',
      });
  };
  for (let i = 0; i < females; i++) add(`F${String(i).padStart(2, '0')}`, 'female');
  for (let i = 0; i < males; i++) add(`M${String(i).padStart(2, '0')}`, 'male');
  utterances.sort((a, b) => (a.id < b.id ? -1 : 1));
  return { name: 'synthetic', root: '/x', utterances, labelNames: ['speaker', 'gender'] };
}

function assertPartition(s: SplitSet, ids: string[]): void {
  const all = [...s.train, ...s.val, ...s.test];
  assert.equal(new Set(all).size, all.length, 'an id is in two splits');
  assert.deepEqual([...all].sort(), [...ids].sort());
}

const speakersOf = (corpus: Corpus, ids: string[]) =>
  new Set(ids.map((id) => corpus.utterances.find((u) => u.id === id)!.speaker));

test('Rng: deterministic, seeds differ, shuffle is a permutation', () => {
  const a = new Rng(42),
    b = new Rng(42),
    c = new Rng(43);
  const xs = Array.from({ length: 5 }, () => a.next());
  assert.deepEqual(
    xs,
    Array.from({ length: 5 }, () => b.next()),
  );
  assert.notDeepEqual(
    xs,
    Array.from({ length: 5 }, () => c.next()),
  );
  assert.ok(xs.every((x) => x >= 0 && x < 1));
  const perm = new Rng(1).shuffle([...Array(50).keys()]);
  assert.deepEqual(
    [...perm].sort((p, q) => p - q),
    [...Array(50).keys()],
  );
  assert.notDeepEqual(perm, [...Array(50).keys()]);
  // mean of many uniforms ≈ 0.5 (a broken generator fails this)
  const r = new Rng(7);
  let sum = 0;
  for (let i = 0; i < 20000; i++) sum += r.next();
  assert.ok(Math.abs(sum / 20000 - 0.5) < 0.01);
  assert.throws(() => new Rng(1.5), TypeError);
});

test('stratified split (RAVDESS): every speaker × emotion stratum keeps the fractions to within one file', () => {
  const root = ravdessTree(4);
  try {
    const corpus = loadCorpus({ layout: 'ravdess', root });
    const cfg = resolveSplitConfig(corpus, { seed: 3 });
    assert.equal(cfg.method, 'stratified');
    assert.deepEqual(cfg.stratifyBy, ['speaker', 'emotion']);
    const s = makeSplits(corpus, cfg).split;
    assertPartition(
      s,
      corpus.utterances.map((u) => u.id),
    );
    // 32 strata (4 actors × 8 emotions) of 4 (neutral) or 8 files
    const strata = new Map<string, Record<string, number>>();
    for (const name of SPLIT_NAMES) {
      for (const id of s[name]) {
        const u = corpus.utterances.find((x) => x.id === id)!;
        const key = `${u.speaker}/${u.emotion}`;
        const rec = strata.get(key) ?? { train: 0, val: 0, test: 0 };
        rec[name]!++;
        strata.set(key, rec);
      }
    }
    assert.equal(strata.size, 32);
    for (const [key, rec] of strata) {
      const n = rec.train! + rec.val! + rec.test!;
      assert.equal(n, key.endsWith('/neutral') ? 4 : 8);
      for (const name of SPLIT_NAMES)
        assert.ok(Math.abs(rec[name]! - n * cfg.fractions[name]) < 1, `${key} ${name}: ${rec[name]} of ${n}`);
    }
    // overall sizes: 240 × (0.7, 0.1, 0.2) = 168 / 24 / 48, to within one file
    assert.ok(
      Math.abs(s.train.length - 168) <= 1 && Math.abs(s.val.length - 24) <= 1 && Math.abs(s.test.length - 48) <= 1,
      `${s.train.length}/${s.val.length}/${s.test.length}`,
    );
    // same speakers everywhere
    assert.equal(speakersOf(corpus, s.test).size, 4);
    assert.equal(makeSplits(corpus, cfg).speakerId, undefined);
    // reproducible for a seed, different across seeds
    assert.deepEqual(makeSplits(corpus, cfg).split, s);
    assert.notDeepEqual(makeSplits(corpus, resolveSplitConfig(corpus, { seed: 4 })).split.test, s.test);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('speaker-disjoint split: no shared speaker, genders balanced in every split, exact sizes', () => {
  const corpus = syntheticCorpus(20, 20, 5);
  const cfg = resolveSplitConfig(corpus, {
    method: 'speaker-disjoint',
    seed: 11,
    fractions: { train: 0.6, val: 0.2, test: 0.2 },
  });
  const out = makeSplits(corpus, cfg);
  const s = out.split;
  assertPartition(
    s,
    corpus.utterances.map((u) => u.id),
  );
  const spk = { train: speakersOf(corpus, s.train), val: speakersOf(corpus, s.val), test: speakersOf(corpus, s.test) };
  for (const [a, b] of [
    ['train', 'val'],
    ['train', 'test'],
    ['val', 'test'],
  ] as const) {
    assert.deepEqual(
      [...spk[a]].filter((x) => spk[b].has(x)),
      [],
      `${a} and ${b} share speakers`,
    );
  }
  // 20 F + 20 M dealt per gender: 12/4/4 speakers per gender
  const count = (set: Set<string>, g: string) => [...set].filter((x) => x.startsWith(g)).length;
  assert.deepEqual(
    [
      count(spk.train, 'F'),
      count(spk.train, 'M'),
      count(spk.val, 'F'),
      count(spk.val, 'M'),
      count(spk.test, 'F'),
      count(spk.test, 'M'),
    ],
    [12, 12, 4, 4, 4, 4],
  );
  assert.deepEqual([s.train.length, s.val.length, s.test.length], [120, 40, 40]);
  // speaker-ID protocol: an utterance-level split of the test speakers only, stratified by speaker
  const sid = out.speakerId!;
  assertPartition(sid, s.test);
  for (const x of spk.test) {
    const own = (ids: string[]) => ids.filter((id) => id.startsWith(x + '-')).length;
    // 5 utterances per speaker × (0.7, 0.1, 0.2) → 3–4 / 0–1 / 1
    assert.ok(
      own(sid.train) >= 3 && own(sid.train) <= 4 && own(sid.test) === 1,
      `${x}: ${own(sid.train)}/${own(sid.val)}/${own(sid.test)}`,
    );
  }
  assert.notDeepEqual(makeSplits(corpus, { ...cfg, seed: 12 }).split.test, s.test);
  assert.deepEqual(makeSplits(corpus, cfg), out);
});

test('official split (LibriSpeech): test-clean is test, val speakers come from train, speaker-ID on test-clean', () => {
  const root = librispeechTree();
  try {
    const corpus = loadCorpus({ root });
    const out = makeSplits(corpus, resolveSplitConfig(corpus, { method: 'official', seed: 0 }));
    const s = out.split;
    assertPartition(
      s,
      corpus.utterances.map((u) => u.id),
    );
    const subset = (id: string) =>
      labelOf(
        corpus.utterances.find((u) => u.id === id)!,
        'subset',
      );
    assert.ok(s.test.every((id) => subset(id) === 'test-clean'));
    assert.equal(s.test.length, 24);
    assert.ok([...s.train, ...s.val].every((id) => subset(id) === 'train-clean-100'));
    const trainSpk = speakersOf(corpus, s.train),
      valSpk = speakersOf(corpus, s.val);
    assert.ok(valSpk.size >= 1 && [...valSpk].every((x) => !trainSpk.has(x)));
    assertPartition(out.speakerId!, s.test);
    // every test speaker is in both the speaker-ID train and test parts (6 utterances each)
    for (const x of speakersOf(corpus, s.test)) {
      assert.ok(speakersOf(corpus, out.speakerId!.train).has(x) && speakersOf(corpus, out.speakerId!.test).has(x));
    }
    // the default for LibriSpeech is the official subsets when train and test are both there,
    // else random speakers, gender-balanced
    assert.equal(resolveSplitConfig(corpus, { seed: 5 }).method, 'official');
    const testOnly = loadCorpus({ root, subsets: ['test-clean'] });
    assert.equal(resolveSplitConfig(testOnly, { seed: 5 }).method, 'speaker-disjoint');
    const rnd = makeSplits(corpus, resolveSplitConfig(corpus, { seed: 5, method: 'speaker-disjoint' }));
    assert.equal(rnd.config.method, 'speaker-disjoint');
    const [a, b, c] = [
      speakersOf(corpus, rnd.split.train),
      speakersOf(corpus, rnd.split.val),
      speakersOf(corpus, rnd.split.test),
    ];
    assert.ok(a.size > 0 && b.size > 0 && c.size > 0);
    assert.equal(a.size + b.size + c.size, 9);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('splits.json: written atomically, re-used by later runs, config or corpus mismatch refused', () => {
  const dir = tempDir('splits');
  try {
    const corpus = syntheticCorpus(3, 3, 4);
    const file = path.join(dir, 'run', 'splits.json');
    const first = loadOrCreateSplits(file, corpus, { seed: 1, method: 'speaker-disjoint' });
    assert.equal(first.created, true);
    assert.deepEqual(readdirSync(path.dirname(file)), ['splits.json']); // no temp file left
    const saved = JSON.parse(readFileSync(file, 'utf8'));
    assert.equal(saved.config.seed, 1);
    assert.deepEqual(saved.config.fractions, { train: 0.7, val: 0.1, test: 0.2 });
    assert.deepEqual(saved.split, first.split);
    // later runs read the file (proved by editing it: the edit comes back)
    saved.split.val = [...saved.split.val].reverse();
    saved.split.marker = 'from disk';
    writeFileSync(file, JSON.stringify(saved));
    const again = loadOrCreateSplits(file, corpus, { seed: 1, method: 'speaker-disjoint' });
    assert.equal(again.created, false);
    assert.equal((again.split as unknown as { marker: string }).marker, 'from disk');
    // the same utterances under another display name (a renamed folder) keep their split
    const renamed = loadOrCreateSplits(
      file,
      { ...corpus, name: `${corpus.name}-renamed` },
      { seed: 1, method: 'speaker-disjoint' },
    );
    assert.equal(renamed.created, false);
    assert.throws(
      () => loadOrCreateSplits(file, corpus, { seed: 2, method: 'speaker-disjoint' }),
      (e: unknown) =>
        e instanceof EarmarkError &&
        e.code === 'EARMARK_CONFIG' &&
        /seed: saved 1, requested 2/.test(e.message) &&
        e.message.includes(file),
    );
    assert.throws(
      () => loadOrCreateSplits(file, syntheticCorpus(3, 4, 4), { seed: 1, method: 'speaker-disjoint' }),
      (e: unknown) => e instanceof EarmarkError && e.code === 'EARMARK_DATASET' && /the corpus changed/.test(e.message),
    );
    assert.throws(() => resolveSplitConfig(corpus, { fractions: { train: 0.5, val: 0.1, test: 0.1 } }), /summing to 1/);
    assert.throws(() => resolveSplitConfig(corpus, { seeds: 1 } as never), /unknown split option 'seeds'/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('unseenTestSpeakers: the speaker of each test utterance when no test speaker was heard, else undefined', () => {
  const corpus = syntheticCorpus(2, 2, 3);
  const data = { byId: new Map(corpus.utterances.map((u) => [u.id, u])) } as ExperimentData;
  const of = (spk: string): string[] => corpus.utterances.filter((u) => u.speaker === spk).map((u) => u.id);
  const test = [...of('F01'), of('M00')[0]!];
  assert.deepEqual(unseenTestSpeakers(data, [...of('F00'), ...of('M01')], test), ['F01', 'F01', 'F01', 'M00']);
  assert.equal(
    unseenTestSpeakers(data, [...of('F00'), of('M00')[1]!], test),
    undefined,
    'M00 was heard: the closed set',
  );
  assert.equal(unseenTestSpeakers(data, of('F00'), []), undefined);
  assert.throws(() => unseenTestSpeakers(data, ['nope'], test), /utterance 'nope' is not in this corpus/);
});
