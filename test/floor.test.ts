// `earmark floor` (issue 14, item 5): per split seed, T and the clean classifier of each protected attribute on
// its primary protocol, and the task-output attacker on clean audio; the pooled row scores every fold's test
// predictions at once (its accuracy is the folds' utterance-weighted mean, its voices are the folds' union) and
// its verdict comes from the intervals; report.json and floor.md are written; a second run trains nothing; bad
// --split-seeds name the flag.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { run } from '../src/cli/main.js';
import { floorMarkdown, taskOutputFloor, type FloorReport } from '../src/eval/optin/floor.js';
import { resultsBlock } from '../src/eval/results-readme.js';
import { memory } from '../src/tensor/index.js';
import { tinyCorpus } from './tiny-corpus.js';
import { tinySweepConfig } from './tiny-sweep.js';

test('floor: per split and pooled, the pooled row is the folds together, written to report.json and floor.md, resumed without training', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'earmark-floor-'));
  try {
    const config = tinySweepConfig(tinyCorpus(path.join(dir, 'corpus')), { formats: [], networks: [] });
    const before = memory().numTensors;
    const lines: string[] = [];
    const o = { config, runDir: path.join(dir, 'floor'), splitSeeds: [0, 1], log: (l: string) => void lines.push(l) };
    const r = await taskOutputFloor(o);
    assert.equal(memory().numTensors, before, 'T, the clean classifiers and the task-output attackers are freed');
    assert.deepEqual(
      r.folds.map((f) => [f.splitSeed, f.attribute, f.protocol]),
      [
        [0, 'gender', 'speaker-disjoint'],
        [1, 'gender', 'speaker-disjoint'],
      ],
    );
    for (const f of r.folds) {
      assert.ok(f.testSpeakers.length > 0, 'held-out voices are named');
      assert.equal(f.floor.n, f.clean.n);
      assert.equal(f.floor.speakers, f.testSpeakers.length, 'the intervals resample the test voices');
    }
    const [p] = r.pooled;
    assert.equal(r.pooled.length, 1);
    assert.equal(p!.folds, 2);
    const n = r.folds.reduce((s, f) => s + f.floor.n, 0);
    assert.equal(p!.floor.n, n);
    assert.equal(
      p!.floor.speakers,
      new Set(r.folds.flatMap((f) => f.testSpeakers)).size,
      'a voice held out twice counts once',
    );
    const mean = (k: 'floor' | 'clean'): number => r.folds.reduce((s, f) => s + f[k].accuracy * f[k].n, 0) / n;
    assert.ok(Math.abs(p!.floor.accuracy - mean('floor')) < 1e-12, 'pooled floor = utterance-weighted mean');
    assert.ok(Math.abs(p!.clean.accuracy - mean('clean')) < 1e-12, 'pooled clean = utterance-weighted mean');
    assert.equal(p!.verdict, p!.floor.accuracyCI.hi < p!.clean.accuracyCI.lo ? 'below clean' : 'not below clean');
    const saved = JSON.parse(readFileSync(path.join(o.runDir, 'report.json'), 'utf8')) as FloorReport;
    assert.deepEqual(saved, JSON.parse(JSON.stringify(r)));
    const md = readFileSync(path.join(o.runDir, 'floor.md'), 'utf8');
    assert.equal(md, floorMarkdown(r));
    assert.match(md, /^\| 1 \| gender \| speaker-disjoint \| /m);
    assert.match(md, /^\| pooled \(2\) \| gender \| speaker-disjoint \| \d+ voices, \d+ utterances \|/m);
    assert.match(md, /^- gender \(chance [\d.]+%\): the floor is \*\*(below clean|not below clean)\*\*/m);
    // the README's results block is floor.md under the entry's name
    const block = resultsBlock('floor-tiny', saved);
    assert.match(
      block,
      /^\*\*floor-tiny\*\* \(`results\/floor-tiny\/`, 2 split seeds, task speaker\):\n\nT \(speaker\)/,
    );
    assert.ok(block.includes(md.split('\n').slice(2).join('\n').trimEnd()));
    // on the closed set (no held-out voices) the pooled row counts utterances, not voices
    const closed = { ...r, pooled: [{ ...p!, protocol: 'closed-set', floor: { ...p!.floor, speakers: undefined } }] };
    assert.match(floorMarkdown(closed), /^\| pooled \(2\) \| gender \| closed-set \| \d+ utterances \|/m);
    for (const s of [0, 1]) assert.ok(existsSync(path.join(o.runDir, `split-${s}`, 'splits.json')));

    // a second run loads every checkpoint and gives the same numbers
    lines.length = 0;
    const again = await taskOutputFloor(o);
    assert.equal(lines.filter((l) => /epoch 1\//.test(l)).length, 0, `nothing is trained again:\n${lines.join('\n')}`);
    assert.equal(lines.filter((l) => /finished earlier/.test(l)).length, 4, 'T and the clean classifier, per split');
    assert.deepEqual({ ...again, createdAt: '' }, { ...r, createdAt: '' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('floor: --split-seeds is validated with an error naming the flag; --help answers without training', async () => {
  const tmp = mkdtempSync(path.join(tmpdir(), 'earmark-floor-args-'));
  const err: string[] = [];
  const error = console.error;
  const log = console.log;
  console.error = (...a: unknown[]) => void err.push(a.join(' '));
  console.log = (...a: unknown[]) => void err.push(a.join(' '));
  try {
    const manifest = path.join(tmp, 'labels.csv');
    writeFileSync(manifest, 'path,speaker,gender\n'); // never read: the flag fails first
    assert.equal(await run(['floor', 'fig3a', '--manifest', manifest, '--split-seeds', '0,0']), 2);
    assert.match(err.join('\n'), /--split-seeds lists a seed twice, got '0,0'/);
    err.length = 0;
    assert.equal(await run(['floor', 'fig3a', '--manifest', manifest, '--split-seeds', '1,x']), 2);
    assert.match(err.join('\n'), /--split-seeds must list integers >= 0 \(e\.g\. 0,1,2\), got '1,x'/);
    err.length = 0;
    assert.equal(await run(['floor', '--help']), 0);
    assert.match(err.join('\n'), /earmark floor <fig3a\|fig3b\|fig4>/);
  } finally {
    console.error = error;
    console.log = log;
    rmSync(tmp, { recursive: true, force: true });
  }
});
