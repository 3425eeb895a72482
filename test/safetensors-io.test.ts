// safetensors files on disk: atomic saves (no temp files left, old file intact on failure) and
// save → load round trips, sync and async.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadSafetensors, loadSafetensorsSync, saveSafetensors, saveSafetensorsSync } from '../src/serialize/index.js';
import { arange, memory, randn, tidy } from '../src/tensor/index.js';
import { writeFileAtomic, writeFileAtomicSync } from '../src/util/atomic.js';

const dir = mkdtempSync(path.join(tmpdir(), 'earmark-st-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

test('writeFileAtomic replaces a file whole and leaves no temp file', async () => {
  const p = path.join(dir, 'a.txt');
  writeFileSync(p, 'old');
  await writeFileAtomic(p, 'new contents');
  assert.equal(readFileSync(p, 'utf8'), 'new contents');
  writeFileAtomicSync(p, new Uint8Array([104, 105]));
  assert.equal(readFileSync(p, 'utf8'), 'hi');
  assert.deepEqual(
    readdirSync(dir).filter((f) => f.includes('a.txt')),
    ['a.txt'],
  );
});

test('a failed atomic write removes its temp file and keeps the target', async () => {
  const sub = path.join(dir, 'fail');
  mkdirSync(path.join(sub, 'target'), { recursive: true }); // renaming a file onto a directory fails
  await assert.rejects(writeFileAtomic(path.join(sub, 'target'), 'x'));
  assert.throws(() => writeFileAtomicSync(path.join(sub, 'target'), 'x'));
  assert.deepEqual(readdirSync(sub), ['target']);
  await assert.rejects(writeFileAtomic(path.join(dir, 'missing-dir', 'f'), 'x'), /ENOENT/);
  assert.throws(() => writeFileAtomicSync('', 'x'), { name: 'TypeError', message: /'path'/ });
  assert.throws(() => writeFileAtomicSync(path.join(dir, 'n'), 3 as unknown as string), {
    name: 'TypeError',
    message: /'data'/,
  });
});

test('saveSafetensors → loadSafetensors round-trips tensors and metadata (async and sync)', async () => {
  const before = memory().numTensors;
  const p = path.join(dir, 'model.safetensors');
  const src = tidy(() => ({
    'conv.weight': randn([4, 3, 5]),
    'conv.bias': randn([4]),
    'bn.num_batches_tracked': arange(7, 8),
  }));
  await saveSafetensors(p, src, { format: 'pt' });
  const loaded = await loadSafetensors(p);
  assert.deepEqual(loaded.metadata, { format: 'pt' });
  for (const [k, t] of Object.entries(src)) assert.deepEqual(loaded.tensors.get(k)!.toArray(), t.toArray(), k);
  for (const t of loaded.tensors.values()) t.dispose();
  tidy(() => {
    saveSafetensorsSync(p, { x: src['conv.bias'] });
    const again = loadSafetensorsSync(p);
    assert.deepEqual([...again.tensors.keys()], ['x']);
    assert.equal(again.metadata, null);
  });
  for (const t of Object.values(src)) t.dispose();
  assert.deepEqual(
    readdirSync(dir).filter((f) => f.includes('model')),
    ['model.safetensors'],
  );
  assert.equal(memory().numTensors, before);
});
