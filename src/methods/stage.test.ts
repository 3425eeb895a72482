import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { EarmarkError } from '../errors.js';
import { Linear } from '../nn/index.js';
import { memory } from '../tensor/index.js';
import { loadCheckpoint, readCheckpointState, saveCheckpoint, secondsPath } from './checkpoint.js';
import { checkStage, describeSet, readStageJson, stageIdentity, writeStageJson } from './stage.js';

const set = { set: { ids: ['a', 'b'], specs: [], frames: [], nFreq: 161 }, labels: [0, 1], numClasses: 2 };

test('checkStage: same identity is used, another is retrained with its keys named, or refused', () => {
  const id = stageIdentity('target', { train: { lr: 1e-3, epochs: 8 } }, { train: describeSet(set) });
  const stored = JSON.parse(JSON.stringify(id));
  const logs: string[] = [];
  const log = (l: string): number => logs.push(l);
  assert.equal(
    checkStage(
      't.safetensors',
      stored,
      stageIdentity('target', { train: { epochs: 8, lr: 1e-3 } }, { train: describeSet(set) }),
      { log },
    ),
    true,
  );
  assert.deepEqual(logs, [], 'key order does not matter');

  const other = stageIdentity(
    'target',
    { train: { lr: 3e-3, epochs: 8 } },
    { train: describeSet({ ...set, labels: [1, 0] }) },
  );
  assert.equal(checkStage('t.safetensors', stored, other, { log, label: 'T speaker' }), false);
  assert.match(
    logs[0]!,
    /T speaker: t\.safetensors was made with other settings or data \(differs: config\.train\.lr, inputs\.train\.labels\); retraining/,
  );
  assert.throws(
    () => checkStage('t.safetensors', stored, other, { retrain: false }),
    (e: unknown) =>
      e instanceof EarmarkError &&
      e.code === 'EARMARK_CHECKPOINT' &&
      /differs: config\.train\.lr, inputs\.train\.labels\).*--no-retrain/.test(e.message),
  );
  assert.equal(checkStage('t.safetensors', undefined, id, { log }), false);
  assert.match(logs[1]!, /no fingerprint/);

  // a larger epoch budget continues the saved run; a smaller one than it reached retrains
  const longer = stageIdentity('target', { train: { lr: 1e-3, epochs: 12 } }, { train: describeSet(set) });
  const extendable = (ok: boolean): { keys: string[]; ok: boolean } => ({ keys: ['config.train.epochs'], ok });
  assert.equal(checkStage('t.safetensors', stored, longer, { log, extendable: extendable(true) }), true);
  assert.equal(checkStage('t.safetensors', stored, longer, { log, extendable: extendable(false) }), false);
  assert.equal(
    checkStage('t.safetensors', stored, other, { log, extendable: extendable(true) }),
    false,
    'only the named keys may differ',
  );
});

test('metrics files carry their identity and are reused only under it', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'earmark-stage-'));
  try {
    const file = path.join(dir, 'metrics.json');
    const id = stageIdentity('rdal-run0', { lr: 1 }, { clips: 'x' });
    assert.equal(readStageJson(file, id), undefined, 'no file');
    writeStageJson(file, id, { acc: 0.5 });
    assert.deepEqual(readStageJson(file, id), { acc: 0.5 });
    assert.equal(readStageJson(file, stageIdentity('rdal-run0', { lr: 2 }, { clips: 'x' })), undefined);
    assert.throws(
      () => readStageJson(file, stageIdentity('rdal-run0', { lr: 1 }, { clips: 'y' }), { retrain: false }),
      /differs: inputs\.clips/,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('checkpoints keep wall-clock seconds beside them: identical states write identical bytes', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'earmark-stage-'));
  const before = memory().numTensors;
  const m = new Linear(3, 2);
  try {
    const state = (s: number): object => ({
      epoch: 2,
      history: [
        { epoch: 0, loss: 1, seconds: s },
        { epoch: 1, loss: 0.5, seconds: 2 * s },
      ],
    });
    const [a, b] = [path.join(dir, 'a.safetensors'), path.join(dir, 'b.safetensors')];
    saveCheckpoint(a, { modules: { m } }, state(1.25));
    saveCheckpoint(b, { modules: { m } }, state(7.5));
    assert.ok(readFileSync(a).equals(readFileSync(b)), 'the times are not in the checkpoint');
    assert.deepEqual(JSON.parse(readFileSync(secondsPath(a), 'utf8')), {
      history: [{ seconds: 1.25 }, { seconds: 2.5 }],
    });
    assert.deepEqual(readCheckpointState(b), state(7.5));
    assert.deepEqual(loadCheckpoint(a, { modules: { m } }), state(1.25));
    rmSync(secondsPath(a));
    assert.deepEqual(readCheckpointState(a), {
      epoch: 2,
      history: [
        { epoch: 0, loss: 1, seconds: 0 },
        { epoch: 1, loss: 0.5, seconds: 0 },
      ],
    });
  } finally {
    m.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
  assert.equal(memory().numTensors, before);
});
