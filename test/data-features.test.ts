// `earmark features` end to end on a fixture corpus, and the default DS2 feature function through the
// cache (worker threads and this thread agree; no tensor leaks).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { features } from '../src/cli/features.js';
import { parseFlags } from '../src/cli/args.js';
import { buildFeatureCache } from '../src/data/cache.js';
import { ds2FeatureSpec, ds2Features } from '../src/data/features-ds2.js';
import { loadCorpus } from '../src/data/load.js';
import { memory } from '../src/tensor/index.js';
import { emovdbTree, put, tempDir, tinyWav } from './fixtures/data/trees.js';

const MODULE = fileURLToPath(new URL('./fixtures/data/mean-energy.js', import.meta.url));

async function runCli(argv: string[]): Promise<{ rc: number | void; out: string }> {
  const lines: string[] = [];
  const log = console.log;
  console.log = (...a: unknown[]) => {
    lines.push(a.join(' '));
  };
  try {
    const { flags, positionals } = parseFlags(features, argv);
    const rc = await features.run(flags, positionals);
    return { rc, out: lines.join('\n') };
  } finally {
    console.log = log;
  }
}

test('earmark features: summary per label, splits.json and cache written, then re-used', async () => {
  const root = emovdbTree(5);
  try {
    const out = path.join(root, 'out');
    const argv = [
      '--root',
      root,
      '--out',
      out,
      '--split-seed',
      '3',
      '--feature-module',
      MODULE,
      '--feature-export',
      'meanEnergy',
      '--workers',
      '0',
    ];
    const first = await runCli(argv);
    assert.equal(first.rc, 0);
    assert.match(first.out, /^emovdb: 90 utterances in /);
    assert.match(first.out, /speaker: bea 25, jenie 25, josh 15, sam 25/);
    assert.match(first.out, /emotion: amused 20, angry 15, disgust 15, neutral 20, sleepy 20/);
    assert.match(first.out, /speakers by gender: female 2, male 2/);
    assert.match(first.out, /duration: 1\.80 s in all, mean 0\.02 s/);
    assert.match(first.out, /split \(stratified, seed 3\): train \d+ utt \/ 4 spk/);
    assert.match(first.out, /splits: .*splits\.json \(new\)/);
    assert.match(first.out, /features: .*\.feat \(built, 90 computed; e\.g\. bea_amused_1-28_0001 → \[2\]\)/);
    assert.ok(existsSync(path.join(out, 'splits.json')));
    assert.equal(readdirSync(path.join(out, 'features')).length, 1);
    const second = await runCli(argv);
    assert.match(second.out, /splits\.json \(re-used\)/);
    assert.match(second.out, /\.feat \(re-used/);
    // another seed against the saved splits is refused with the fix
    await assert.rejects(
      runCli([...argv.slice(0, 4), '--split-seed', '4', ...argv.slice(6)]),
      /seed: saved 3, requested 4/,
    );
    // bad files: stop with the name, or list them with --skip-bad
    put(root, 'bea_Neutral/neutral_1-28_0099.wav', Buffer.from('garbage'));
    const argv2 = [...argv.slice(0, 4), '--split-seed', '3', ...argv.slice(6)].map((a) =>
      a === out ? path.join(root, 'out2') : a,
    );
    await assert.rejects(runCli(argv2), /cannot compute features for .*neutral_1-28_0099\.wav/);
    const skipped = await runCli([...argv2, '--skip-bad']);
    assert.match(
      skipped.out,
      /skipped 1 file\(s\) that cannot be read \(not in the counts, durations or splits\):\n {4}.*neutral_1-28_0099\.wav: /,
    );
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('DS2 default features through the cache: workers and this thread agree, shape (161, 1 + n/160), no leaks', async () => {
  const root = tempDir('ds2');
  try {
    put(root, 'manifest.csv', 'path,speaker\na.wav,S1\nb.wav,S2\n');
    put(root, 'a.wav', tinyWav(440, 0.25, 16000, 0.3));
    put(root, 'b.wav', tinyWav(300, 0.2, 22050, 0.5)); // resampled to 16 kHz
    const corpus = loadCorpus({ root });
    const before = memory().numTensors;
    const here = await buildFeatureCache(corpus, ds2FeatureSpec(), {
      dir: path.join(root, 'c0'),
      workers: 0,
      progress: false,
    });
    assert.equal(memory().numTensors, before);
    const there = await buildFeatureCache(corpus, ds2FeatureSpec(), {
      dir: path.join(root, 'c2'),
      workers: 2,
      progress: false,
    });
    for (const id of ['a', 'b']) {
      const x = here.cache.get(id),
        y = there.cache.get(id);
      assert.deepEqual(x.shape, y.shape);
      assert.deepEqual(Array.from(x.data), Array.from(y.data));
      assert.deepEqual(x.stats, y.stats);
    }
    assert.deepEqual(here.cache.get('a').shape, [161, 1 + Math.floor(4000 / 160)]);
    assert.equal(here.cache.get('b').stats!.seconds, 0.2);
    // per-utterance normalised: mean 0, std 1 over (freq, time)
    const d = here.cache.get('a').data;
    const mean = d.reduce((s, v) => s + v, 0) / d.length;
    const std = Math.sqrt(d.reduce((s, v) => s + (v - mean) ** 2, 0) / (d.length - 1));
    assert.ok(Math.abs(mean) < 1e-4 && Math.abs(std - 1) < 1e-4, `${mean} ${std}`);
    const direct = await ds2Features(corpus.utterances[0]!, {});
    assert.deepEqual(Array.from(direct.data), Array.from(d));
    assert.equal(memory().numTensors, before);
    here.cache.close();
    there.cache.close();
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
