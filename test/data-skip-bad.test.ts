// --skip-bad done right: every per-file failure (a looping symlink, a file a CSV lists that is missing,
// an unreadable file, a lying header, a truncated file) is refused by name with the hint to use
// --skip-bad, or with it listed and left out of the counts, the durations and the splits: readability is
// decided before the splits are drawn, so splits.json never lists a skipped file. The unreadable case
// needs a process that chmod 000 stops: tests run as root, so its child runs with the DAC capabilities
// dropped (setpriv); without setpriv, as root, that case is skipped and says so.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { buildFeatureCache } from '../src/data/cache.js';
import { loadExperimentData, DATASET_DEFAULTS } from '../src/data/experiment-data.js';
import { ds2FeatureSpec } from '../src/data/features-ds2.js';
import { loadCorpus } from '../src/data/load.js';
import type { Splits } from '../src/data/splits.js';
import { corpusDurations } from '../src/data/summary.js';
import { EarmarkError } from '../src/errors.js';
import { memory } from '../src/tensor/index.js';
import { repoRoot } from '../src/util/paths.js';
import { put, ravdessTree, tempDir, tinyWav } from './fixtures/data/trees.js';

const root = tempDir('skip-bad');
after(() => {
  try {
    chmodSync(path.join(root, 'locked.wav'), 0o644);
  } catch {
    /* not made */
  }
  rmSync(root, { recursive: true, force: true });
});

// 4 speakers × 4 good clips of 0.25 s (4.00 s in all), and one bad file of each kind
const HEADER = 'path,speaker,gender,emotion';
const good: string[] = [];
for (const [s, g] of [
  ['A', 'female'],
  ['B', 'male'],
  ['C', 'female'],
  ['D', 'male'],
] as const) {
  for (let i = 0; i < 4; i++) {
    put(root, `${s}${i}.wav`, tinyWav(200 + 50 * i, 0.25));
    good.push(`${s}${i}.wav,${s},${g},${i % 2 ? 'happy' : 'sad'}`);
  }
}
symlinkSync('loop.wav', path.join(root, 'loop.wav')); // loops on itself: ELOOP
const lying = tinyWav(300, 0.25);
lying.writeUInt32LE(0xffffffff, 40); // the data chunk claims 4 GiB: 37 h at 16 kHz
put(root, 'lying.wav', lying);
put(root, 'truncated.wav', tinyWav(300, 0.25).subarray(0, 44 + 1000)); // cut mid-data
put(root, 'locked.wav', tinyWav(300, 0.25));
chmodSync(path.join(root, 'locked.wav'), 0o000);

/** The bad file of each kind, the row that lists it, and what the reason says. */
const BAD = {
  loop: { row: 'loop.wav,A,female,sad', says: /is a symbolic link loop/ },
  none: { row: 'none.wav,B,male,happy', says: /does not exist/ },
  lying: {
    row: 'lying.wav,C,female,sad',
    says: /is truncated or its header is corrupt: the data chunk .* declares 4294967295 bytes/,
  },
  truncated: { row: 'truncated.wav,D,male,happy', says: /is truncated or its header is corrupt/ },
  locked: { row: 'locked.wav,A,female,happy', says: /cannot be read: permission denied/ },
} as const;
type Kind = keyof typeof BAD;

/** A manifest of the good files and the bad ones of `kinds`. */
function manifest(name: string, kinds: readonly Kind[]): string {
  return put(root, `${name}.csv`, [HEADER, ...good, ...kinds.map((k) => BAD[k].row)].join('\n') + '\n');
}

const isSkipBadError = (file: string, says: RegExp) => (e: unknown) =>
  e instanceof EarmarkError &&
  e.message.includes(path.join(root, file)) &&
  says.test(e.message) &&
  /--skip-bad/.test(e.message);

test('without --skip-bad, each kind of bad file stops the load or the feature build with its name and the hint', async () => {
  for (const k of ['loop', 'none'] as const) {
    assert.throws(
      () => loadCorpus({ layout: 'csv', manifest: manifest(`only-${k}`, [k]) }),
      isSkipBadError(`${k}.wav`, BAD[k].says),
      k,
    );
  }
  const before = memory().numTensors;
  for (const k of ['lying', 'truncated'] as const) {
    const corpus = loadCorpus({ layout: 'csv', manifest: manifest(`only-${k}`, [k]) }); // they open: decoding finds them
    await assert.rejects(
      buildFeatureCache(corpus, ds2FeatureSpec(), { dir: path.join(root, `cache-${k}`), progress: false, workers: 0 }),
      isSkipBadError(`${k}.wav`, BAD[k].says),
      k,
    );
  }
  assert.equal(memory().numTensors, before);
});

test('with skipBad, bad files are listed and in no split; splits.json and the durations leave them out', async () => {
  const kinds: Kind[] = ['loop', 'none', 'lying', 'truncated'];
  const file = manifest('all-but-locked', kinds);
  const listed = loadCorpus({ layout: 'csv', manifest: file, skipBad: true });
  assert.deepEqual(
    listed.skipped?.map((s) => s.id),
    ['loop', 'none'],
    'files that cannot be opened are known at load time',
  );
  // headers alone: the lying one no longer adds 37 h (it is left out as unreadable), nor does the truncated one
  assert.deepEqual(corpusDurations(listed), { known: 16, totalSeconds: 4, meanSeconds: 0.25 });

  const work = path.join(root, 'run');
  const before = memory().numTensors;
  const data = await loadExperimentData(
    { ...DATASET_DEFAULTS, layout: 'csv', manifest: file, skipBad: true },
    work,
    false,
  );
  assert.equal(memory().numTensors, before);
  assert.deepEqual(
    data.skipped.map((s) => s.id),
    ['loop', 'lying', 'none', 'truncated'],
  );
  for (const s of data.skipped) assert.match(s.error, BAD[s.id as Kind].says, s.id);
  assert.equal(data.corpus.utterances.length, 16);
  const splits = JSON.parse(readFileSync(path.join(work, 'splits.json'), 'utf8')) as Splits;
  const inSplits = [...splits.split.train, ...splits.split.val, ...splits.split.test].sort();
  assert.deepEqual(inSplits, good.map((r) => r.split('.')[0]!).sort(), 'splits.json lists exactly the readable files');
  assert.equal(splits.corpus.utterances, 16);
  const inSets = [...data.sets.train.ids, ...data.sets.val.ids, ...data.sets.test.ids];
  assert.equal(inSets.length, 16);
  assert.ok(
    splits.split.val.length > 0 && splits.split.val.every((id) => data.sets.val.ids.includes(id)),
    'every val id has features',
  );
});

test('a folder walk lists a looping symlink (refused by name, or skipped and listed) and survives a folder loop', () => {
  const rav = ravdessTree(1);
  try {
    const clip = path.join(rav, 'Actor_01', '03-01-02-01-01-01-01.wav');
    rmSync(clip);
    symlinkSync(path.basename(clip), clip); // points at itself
    mkdirSync(path.join(rav, 'Actor_01', 'again'));
    symlinkSync('..', path.join(rav, 'Actor_01', 'again', 'up')); // a folder loop
    assert.throws(
      () => loadCorpus({ layout: 'ravdess', root: rav }),
      (e: unknown) =>
        e instanceof EarmarkError &&
        /03-01-02-01-01-01-01\.wav \(utterance .*\) is a symbolic link loop.*--skip-bad/.test(e.message),
    );
    const c = loadCorpus({ layout: 'ravdess', root: rav, skipBad: true });
    assert.equal(c.utterances.length, 59);
    assert.equal(c.skipped?.length, 1);
    assert.match(c.skipped![0]!.path, /Actor_01\/03-01-02-01-01-01-01\.wav$/);
  } finally {
    rmSync(rav, { recursive: true, force: true });
  }
});

/** How to run a child that chmod 000 stops: as is when not root; as root, without the DAC capabilities. */
function unprivileged(): string[] | undefined {
  if (process.getuid?.() !== 0) return [];
  const drop = ['setpriv', '--bounding-set', '-dac_override,-dac_read_search', '--'];
  const probe = spawnSync(drop[0]!, [...drop.slice(1), 'cat', path.join(root, 'locked.wav')], { stdio: 'ignore' });
  return probe.status !== null && probe.status !== 0 && probe.error === undefined ? drop : undefined;
}

function cli(prefix: string[], argv: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const cmd = [...prefix, process.execPath, path.join(repoRoot(), 'bin', 'earmark.js'), ...argv];
  return new Promise((resolve, reject) => {
    const p = spawn(cmd[0]!, cmd.slice(1), {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, EARMARK_THREADS: '1' },
    });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    p.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    p.on('error', reject);
    p.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

test('`earmark features --skip-bad` on all five kinds: listed, out of the counts, durations and splits.json', async (t) => {
  const prefix = unprivileged();
  const kinds: Kind[] =
    prefix === undefined ? ['loop', 'none', 'lying', 'truncated'] : ['loop', 'none', 'lying', 'truncated', 'locked'];
  if (prefix === undefined)
    t.diagnostic(
      'the unreadable-file case is skipped: running as root without setpriv, and chmod 000 does not stop root',
    );
  const file = manifest('all', kinds);
  if (prefix !== undefined) {
    const refused = await cli(prefix, [
      'features',
      '--manifest',
      manifest('only-locked', ['locked']),
      '--feature',
      'none',
    ]);
    assert.equal(refused.code, 2, refused.stderr);
    assert.match(
      refused.stderr,
      /^earmark features: .*locked\.wav \(utterance locked\) cannot be read: permission denied; .*pass --skip-bad/,
    );
  }
  const out = path.join(root, 'features-out');
  const r = await cli(prefix ?? [], ['features', '--manifest', file, '--out', out, '--skip-bad', '--workers', '0']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^all: 16 utterances in /m);
  assert.match(r.stdout, /speaker: A 4, B 4, C 4, D 4/);
  assert.match(r.stdout, /duration: 4\.00 s in all, mean 0\.25 s\n/, 'no 37 h from the lying header');
  assert.match(
    r.stdout,
    new RegExp(`skipped ${kinds.length} file\\(s\\) that cannot be read \\(not in the counts, durations or splits\\):`),
  );
  for (const k of kinds)
    assert.match(r.stdout, new RegExp(`^ {4}${path.join(root, `${k}.wav`)}: ${BAD[k].says.source}`, 'm'), k);
  const splits = JSON.parse(readFileSync(path.join(out, 'splits.json'), 'utf8')) as Splits;
  const listed = new Set([...splits.split.train, ...splits.split.val, ...splits.split.test]);
  assert.equal(listed.size, 16);
  for (const k of kinds) assert.ok(!listed.has(k), `${k} is in no split`);
});
