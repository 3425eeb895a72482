// The same command gives the same model (issue 12): `train-target` and `train-obfuscator` run twice in
// fresh folders, each in its own process at one libtorch thread, write byte-identical checkpoints; a run
// stopped after one epoch and resumed writes the same bytes as the straight run and says where it
// resumed; a checkpoint made with other settings is retrained, or refused with --no-retrain, naming the
// keys that differ.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { TINY_CONFIG, tinyCorpus } from './tiny-corpus.js';

const cli = fileURLToPath(new URL('../../bin/earmark.js', import.meta.url));

function earmark(args: string[]): { status: number | null; stderr: string } {
  const r = spawnSync(process.execPath, [cli, ...args], {
    encoding: 'utf8',
    env: { ...process.env, EARMARK_THREADS: '1' },
  });
  return { status: r.status, stderr: r.stderr };
}

function ok(args: string[]): string {
  const r = earmark(args);
  assert.equal(r.status, 0, `earmark ${args.join(' ')} failed:\n${r.stderr}`);
  return r.stderr;
}

const bytes = (f: string): Buffer => readFileSync(f);

test('train-target and train-obfuscator: identical checkpoints from identical commands, resume = straight run', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'earmark-determinism-'));
  try {
    const manifest = tinyCorpus(path.join(dir, 'corpus'));
    const config = path.join(dir, 'tiny.json');
    writeFileSync(config, JSON.stringify(TINY_CONFIG));
    const target = (out: string, ...extra: string[]): string[] => [
      'train-target',
      '--manifest',
      manifest,
      '--task',
      'speaker',
      '--out',
      path.join(dir, out),
      ...(extra.includes('--config') ? [] : ['--config', config]),
      ...extra,
    ];
    ok(target('a'));
    // b finds a's feature cache: computing features or not before T is built must not change T
    cpSync(path.join(dir, 'a', 'features'), path.join(dir, 'b', 'features'), { recursive: true });
    ok(target('b'));
    const ta = path.join(dir, 'a', 'target.safetensors');
    assert.ok(
      bytes(ta).equals(bytes(path.join(dir, 'b', 'target.safetensors'))),
      'two fresh train-target runs write the same bytes',
    );
    assert.ok(existsSync(path.join(dir, 'a', 'target.seconds.json')), 'wall-clock times live beside the checkpoint');

    // one epoch, then resumed to two: the same bytes as the straight two-epoch run
    ok(target('c', '--epochs', '1'));
    assert.match(ok(target('c', '--resume')), /resuming from epoch 2\/2/);
    assert.ok(
      bytes(path.join(dir, 'c', 'target.safetensors')).equals(bytes(ta)),
      'a resumed train-target equals the straight run',
    );

    // other settings: retrained with the differing keys named, or refused with --no-retrain
    const lr = path.join(dir, 'lr.json');
    writeFileSync(lr, JSON.stringify({ ...TINY_CONFIG, targetTrain: { ...TINY_CONFIG.targetTrain, lr: 1e-3 } }));
    const refused = earmark(target('c', '--resume', '--no-retrain', '--config', lr));
    assert.equal(refused.status, 1);
    assert.match(
      refused.stderr,
      /target\.safetensors was made with other settings or data \(differs: config\.train\.lr\)/,
    );
    assert.doesNotMatch(refused.stderr, /\n\s+at /, 'no stack trace');
    assert.match(ok(target('c', '--resume', '--config', lr)), /differs: config\.train\.lr\); retraining/);

    const obfuscator = (out: string, ...extra: string[]): string[] => [
      'train-obfuscator',
      '--manifest',
      manifest,
      '--task',
      'speaker',
      '--target',
      ta,
      '--config',
      config,
      '--out',
      path.join(dir, out),
      ...extra,
    ];
    ok(obfuscator('oa'));
    cpSync(path.join(dir, 'a', 'features'), path.join(dir, 'ob', 'features'), { recursive: true });
    ok(obfuscator('ob'));
    const oa = path.join(dir, 'oa', 'obfuscator.safetensors');
    assert.ok(
      bytes(oa).equals(bytes(path.join(dir, 'ob', 'obfuscator.safetensors'))),
      'two fresh train-obfuscator runs write the same bytes',
    );
    ok(obfuscator('oc', '--epochs', '1'));
    assert.match(ok(obfuscator('oc', '--resume')), /obfuscator: resuming from epoch 2\/2/);
    assert.ok(
      bytes(path.join(dir, 'oc', 'obfuscator.safetensors')).equals(bytes(oa)),
      'a resumed train-obfuscator equals the straight run',
    );
    // another target is another input: the obfuscator is retrained
    assert.match(
      ok(obfuscator('oc', '--resume', '--target', path.join(dir, 'c', 'target.safetensors'))),
      /differs: inputs\.target\); retraining/,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
