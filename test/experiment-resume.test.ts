// A resumed experiment equals an uninterrupted one (issue 11): a tiny fig3b run in a child process is
// killed with SIGKILL during T's training, again during the obfuscator's and again during an attacker's,
// resumed each time, and its report.json is deep-equal to a straight run's once timings are removed. Run
// again with another λ_p, it retrains the obfuscator naming the key (or refuses with --no-retrain).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { TINY_CONFIG, tinyCorpus } from './tiny-corpus.js';

const cli = fileURLToPath(new URL('../../bin/earmark.js', import.meta.url));

interface Run {
  status: number | null;
  signal: NodeJS.Signals | null;
  output: string;
}

/**
 * `earmark experiment fig3b …` at one libtorch thread; with `killAt`, SIGKILL as soon as a line of its
 * output matches (the process is then inside the stage that printed it).
 */
function experiment(args: string[], killAt?: RegExp): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, 'experiment', 'fig3b', ...args], {
      env: { ...process.env, EARMARK_THREADS: '1' },
    });
    let output = '';
    const onData = (d: Buffer): void => {
      output += d.toString();
      if (killAt !== undefined && child.exitCode === null && killAt.test(output)) child.kill('SIGKILL');
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', reject);
    child.on('close', (status, signal) => resolve({ status, signal, output }));
  });
}

/** `v` without wall-clock fields: any key naming a time, a duration or a date (seconds, createdAt, …). */
function timeless(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(timeless);
  if (v === null || typeof v !== 'object') return v;
  const timing = /seconds|time|duration|elapsed|date|At$|Ms$/i;
  return Object.fromEntries(
    Object.entries(v)
      .filter(([k]) => !timing.test(k))
      .map(([k, x]) => [k, timeless(x)]),
  );
}

test('an experiment killed with SIGKILL in three different stages and resumed writes the same report.json', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'earmark-resume-'));
  try {
    const manifest = tinyCorpus(path.join(dir, 'corpus'));
    const config = path.join(dir, 'tiny.json');
    writeFileSync(
      config,
      JSON.stringify({
        ...TINY_CONFIG,
        reportExamples: 0,
        baselines: { adr: false, mcadams: false, verification: false },
        edge: { int8: 'none' },
      }),
    );
    const args = (out: string): string[] => ['--manifest', manifest, '--config', config, '--out', path.join(dir, out)];

    const straight = await experiment(args('straight'));
    assert.equal(straight.status, 0, straight.output);

    // each kill lands inside a stage (its epoch-1 checkpoint is on disk); the next run resumes it mid-way
    const informed = 'informed speaker \\(frames, closed-set\\)';
    const kills: [RegExp, string][] = [
      [/T gender epoch 1\/2/, 'T gender'],
      [/obfuscator epoch 1:/, 'obfuscator'],
      [new RegExp(`${informed} epoch 1/2`), informed],
    ];
    let previous: string | undefined;
    for (const [killAt, stage] of kills) {
      const r = await experiment(args('killed'), killAt);
      assert.equal(r.signal, 'SIGKILL', `the run ended before it was killed in ${stage}:\n${r.output}`);
      if (previous !== undefined) assert.match(r.output, new RegExp(`${previous}: resuming from epoch 2/2`));
      previous = stage;
    }
    const last = await experiment(args('killed'));
    assert.equal(last.status, 0, last.output);
    assert.match(last.output, new RegExp(`${informed}: resuming from epoch 2/2`));
    assert.match(last.output, /T gender: finished earlier/);

    const read = (out: string): unknown =>
      timeless(JSON.parse(readFileSync(path.join(dir, out, 'report.json'), 'utf8')));
    assert.deepEqual(
      read('killed'),
      read('straight'),
      'the resumed report equals the uninterrupted one, timings aside',
    );

    // another λ_p in the same folder: the obfuscator and what depends on it retrain, naming the key, or,
    // with --no-retrain, the run refuses; T is reused
    const refused = await experiment([...args('killed'), '--lambda-p', '3', '--no-retrain']);
    assert.equal(refused.status, 1, refused.output);
    assert.match(
      refused.output,
      /obfuscator\.safetensors was made with other settings or data \(differs: config\.train\.lambdaP\)/,
    );
    assert.doesNotMatch(refused.output, /\n\s+at /, 'no stack trace');
    const other = await experiment([...args('killed'), '--lambda-p', '3']);
    assert.equal(other.status, 0, other.output);
    assert.match(other.output, /T gender: finished earlier/);
    assert.match(other.output, /\(differs: config\.train\.lambdaP\); retraining/);
    const report = JSON.parse(readFileSync(path.join(dir, 'killed', 'report.json'), 'utf8'));
    assert.equal(report.config.obfuscatorTrain.lambdaP, 3);
    assert.notDeepEqual(timeless(report), read('straight'), "the report is the new obfuscator's");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
