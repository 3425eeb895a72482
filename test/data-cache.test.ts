// Feature cache: built once in worker threads, re-used without recomputation, invalidated by config
// and corpus changes, bad files skipped and listed (or named in the error), nothing left half-written.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Writable } from 'node:stream';
import { EarmarkError } from '../src/errors.js';
import { buildFeatureCache, FeatureCache, type FeatureSpec } from '../src/data/cache.js';
import { loadCorpus } from '../src/data/load.js';
import { Progress } from '../src/util/progress.js';
import { put, tempDir, tinyWav } from './fixtures/data/trees.js';

const MODULE = fileURLToPath(new URL('./fixtures/data/mean-energy.js', import.meta.url));

/** 12 clips: amplitude 0.1·(k+1) sines, so energy = amp²/2 is known per clip. */
function manifestCorpus(): { root: string; amps: Map<string, number> } {
  const root = tempDir('cache');
  const amps = new Map<string, number>();
  const rows = ['path,id,speaker,gender'];
  for (let k = 0; k < 12; k++) {
    const id = `u${String(k).padStart(2, '0')}`;
    const amp = 0.05 * (k + 1);
    amps.set(id, amp);
    put(root, `audio/${id}.wav`, tinyWav(400, 0.05, 16000, amp)); // 800 samples = 2 full periods
    rows.push(`audio/${id}.wav,${id},S${k % 3},${k % 2 ? 'm' : 'f'}`);
  }
  put(root, 'manifest.csv', rows.join('\n') + '\n');
  return { root, amps };
}

const calls = (f: string): number => (existsSync(f) ? readFileSync(f, 'utf8').split('\n').filter(Boolean).length : 0);
const cacheFiles = (dir: string): string[] => (existsSync(dir) ? readdirSync(dir).sort() : []);
const sink = () => {
  const chunks: string[] = [];
  const stream = new Writable({
    write(c, _e, cb) {
      chunks.push(String(c));
      cb();
    },
  });
  return { stream, text: () => chunks.join('') };
};

test('cache: built once in workers, read back without recomputing, invalidated by config and corpus changes', async () => {
  const { root, amps } = manifestCorpus();
  try {
    const corpus = loadCorpus({ root });
    const dir = path.join(root, 'cache');
    const counter = path.join(root, 'calls.txt');
    const spec: FeatureSpec = {
      name: 'me',
      module: MODULE,
      exportName: 'meanEnergy',
      options: { counterFile: counter },
    };
    const log = sink();
    const threads = process.env.EARMARK_THREADS;
    process.env.EARMARK_THREADS = '3'; // workers must run libtorch single-threaded whatever the parent has
    let first;
    try {
      first = await buildFeatureCache(corpus, spec, { dir, workers: 2, progress: log.stream });
    } finally {
      if (threads === undefined) delete process.env.EARMARK_THREADS;
      else process.env.EARMARK_THREADS = threads;
    }
    assert.equal(first.cache.get('u00').stats!.threads, 1);
    assert.equal(first.built, true);
    assert.equal(first.computed, 12);
    assert.equal(calls(counter), 12);
    assert.match(log.text(), /12\/12/);
    assert.deepEqual(first.cache.ids, [...amps.keys()]);
    for (const [id, amp] of amps) {
      const it = first.cache.get(id);
      assert.deepEqual(it.shape, [2]);
      assert.ok(Math.abs(it.data[0]!) < 1e-3, `mean of ${id}`);
      assert.ok(
        Math.abs(it.data[1]! - (amp * amp) / 2) < 2e-4 * amp,
        `energy of ${id}: ${it.data[1]} vs ${(amp * amp) / 2}`,
      );
      assert.equal(it.stats!.seconds, 0.05);
    }
    first.cache.close();
    assert.deepEqual(cacheFiles(dir), [path.basename(first.file)]); // one file, no temp left

    // a second run re-uses it: no compute call, same values (read from the file, not from audio)
    const second = await buildFeatureCache(corpus, spec, { dir, workers: 2, progress: false });
    assert.equal(second.built, false);
    assert.equal(second.computed, 0);
    assert.equal(calls(counter), 12);
    const reopened = FeatureCache.open(second.file, { preloadBytes: 0 }); // positioned reads
    assert.deepEqual(Array.from(reopened.get('u07').data), Array.from(second.cache.get('u07').data));
    reopened.close();
    second.cache.close();

    // another feature config → a new cache, computed again (here in this thread)
    const framed = await buildFeatureCache(
      corpus,
      { ...spec, options: { ...spec.options, frames: 2 } },
      { dir, workers: 0, progress: false },
    );
    assert.equal(framed.built, true);
    assert.notEqual(framed.file, first.file);
    assert.deepEqual(framed.cache.get('u03').shape, [2, 2]);
    assert.equal(calls(counter), 24);
    framed.cache.close();

    // the corpus changes (one file rewritten, longer) → the first config is rebuilt too
    writeFileSync(corpus.utterances[0]!.path, tinyWav(400, 0.1, 16000, 0.05));
    const changed = await buildFeatureCache(corpus, spec, { dir, workers: 2, progress: false });
    assert.equal(changed.built, true);
    assert.equal(calls(counter), 36);
    assert.equal(changed.cache.get('u00').stats!.seconds, 0.1);
    // the cache of the old corpus state is gone; the other config's cache stays
    assert.deepEqual(cacheFiles(dir), [path.basename(changed.file), path.basename(framed.file)].sort());
    changed.cache.close();
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('cache: --skip-bad lists and skips bad files; without it the first bad file is named and nothing is written', async () => {
  const { root } = manifestCorpus();
  try {
    writeFileSync(path.join(root, 'audio', 'u05.wav'), Buffer.from('RIFF\x00\x00\x00\x00not a wave file'));
    const corpus = loadCorpus({ root });
    const dir = path.join(root, 'cache');
    const spec: FeatureSpec = { name: 'me', module: MODULE, exportName: 'meanEnergy', options: { failOn: ['u09'] } };

    for (const workers of [0, 2]) {
      await assert.rejects(
        buildFeatureCache(corpus, spec, { dir, workers, progress: false }),
        (e: unknown) =>
          e instanceof EarmarkError &&
          e.code === 'EARMARK_DATASET' &&
          /cannot compute features for .*u0[59]\.wav \(utterance u0[59]\).*--skip-bad/.test(e.message),
      );
      assert.deepEqual(cacheFiles(dir), [], 'a failed build leaves no file, temp or final');
    }

    const res = await buildFeatureCache(corpus, spec, { dir, workers: 2, skipBad: true, progress: false });
    assert.equal(res.computed, 10);
    assert.deepEqual(
      res.skipped.map((s) => s.id),
      ['u05', 'u09'],
    );
    assert.equal(res.skipped[0]!.path, path.join(root, 'audio', 'u05.wav'));
    assert.match(res.skipped[1]!.error, /deliberately bad file u09/);
    assert.equal(res.cache.has('u05'), false);
    assert.equal(res.cache.has('u04'), true);
    assert.throws(() => res.cache.get('u09'), /no item 'u09' \(skipped when built: deliberately bad/);
    res.cache.close();
    // the skips are remembered: re-used with skipBad, refused without it
    const again = await buildFeatureCache(corpus, spec, { dir, workers: 2, skipBad: true, progress: false });
    assert.equal(again.built, false);
    assert.deepEqual(
      again.skipped.map((s) => s.id),
      ['u05', 'u09'],
    );
    again.cache.close();
    await assert.rejects(
      buildFeatureCache(corpus, spec, { dir, progress: false }),
      /2 file\(s\) were skipped as bad .*u05\.wav/,
    );
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('cache: a compute function that cannot be imported or returns the wrong shape is named', async () => {
  const { root } = manifestCorpus();
  try {
    const corpus = loadCorpus({ root });
    const dir = path.join(root, 'cache');
    await assert.rejects(
      buildFeatureCache(
        corpus,
        { name: 'x', module: MODULE, exportName: 'nope' },
        { dir, workers: 1, progress: false },
      ),
      (e: unknown) =>
        e instanceof EarmarkError && e.code === 'EARMARK_CONFIG' && /has no function export 'nope'/.test(e.message),
    );
    await assert.rejects(
      buildFeatureCache(
        corpus,
        { name: 'x', module: MODULE, exportName: 'nope' },
        { dir, workers: 0, progress: false },
      ),
      /has no function export 'nope'/,
    );
    for (const workers of [0, 1]) {
      await assert.rejects(
        buildFeatureCache(
          corpus,
          { name: 'bad', module: MODULE, exportName: 'badShape' },
          { dir, workers, progress: false },
        ),
        (e: unknown) =>
          e instanceof EarmarkError &&
          /cannot compute features for .*u00\.wav .*badShape from .*mean-energy\.js returned shape \[3\] \(3 values\) but 2 data values/.test(
            e.message,
          ),
      );
    }
    assert.deepEqual(cacheFiles(dir), []);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('progress: plain lines off a TTY, a redrawn bar with ETA on one', () => {
  let t = 0;
  const plain = sink();
  const p = new Progress({ total: 10, label: 'x', stream: plain.stream, now: () => t, intervalMs: 1000 });
  for (let i = 0; i < 10; i++) {
    t += 300;
    p.tick();
  }
  p.done();
  const lines = plain.text().trim().split('\n');
  assert.equal(lines.at(-1), 'x: 100% 10/10 3.3/s in 0:03');
  assert.ok(lines.length >= 3 && lines.length <= 5, lines.join(' | '));
  assert.match(lines[0]!, /^x: 10% 1\/10 3\.3\/s ETA 0:03$/);
  const tty = sink();
  Object.assign(tty.stream, { isTTY: true, columns: 80 });
  t = 0;
  const q = new Progress({ total: 4, label: 'y', stream: tty.stream, now: () => t });
  t = 1000;
  q.tick(2);
  assert.match(tty.text(), /\ry \[#+-+\] 50% 2\/4 2\.0\/s ETA 0:01/);
  q.done();
  assert.ok(tty.text().endsWith('\n'));
});

test('cache: features are computed at one libtorch thread whatever the process runs at, in workers and here', async () => {
  const { getNumThreads, setNumThreads } = await import('../src/tensor/index.js');
  const { root } = manifestCorpus();
  const before = getNumThreads();
  try {
    const corpus = loadCorpus({ root });
    setNumThreads(2); // the pool is process-wide: a 2-thread build would otherwise give other last bits
    for (const workers of [0, 2]) {
      const spec: FeatureSpec = { name: `tt${workers}`, module: MODULE, exportName: 'meanEnergyTorchThreads' };
      const r = await buildFeatureCache(corpus, spec, {
        dir: path.join(root, `cache${workers}`),
        workers,
        progress: false,
      });
      for (const id of r.cache.ids)
        assert.equal(r.cache.get(id).stats!.torchThreads, 1, `${id} with ${workers} workers`);
      r.cache.close();
      assert.equal(getNumThreads(), 2, 'the thread count is restored after the build');
    }
  } finally {
    setNumThreads(before);
    rmSync(root, { recursive: true, force: true });
  }
});
