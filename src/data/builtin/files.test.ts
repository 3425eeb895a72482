import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { decodeWav16, encodeWav16, parseCsv, toCsv, writeChecksums } from './files.js';

test('16-bit WAV round trip: header fields, rounding, clipping', () => {
  const x = Float32Array.from([0, 0.5, -0.5, 1, -1, 2, -2, 1 / 32767]);
  const bytes = encodeWav16(x, 16000);
  assert.equal(bytes.length, 44 + 2 * x.length);
  assert.equal(bytes.toString('ascii', 0, 4), 'RIFF');
  assert.equal(bytes.readUInt32LE(24), 16000);
  const { samples, sampleRate } = decodeWav16(bytes, 'x.wav');
  assert.equal(sampleRate, 16000);
  assert.deepEqual(
    Array.from(samples, (v) => Math.round(v * 32768)),
    [0, 16384, -16384, 32767, -32768, 32767, -32768, 1],
  );
  assert.throws(() => decodeWav16(Buffer.from('RIFX0000WAVE'), 'bad.wav'), /bad\.wav: is not a RIFF file/);
  assert.throws(() => decodeWav16(bytes.subarray(0, 36), 'cut.wav'), /cut\.wav: has no 'data' chunk/);
});

test('CSV with quoted fields round-trips; checksums cover every file but the manifests', async () => {
  const text = toCsv(
    ['path', 'note'],
    [
      ['a.wav', 'x, "y"'],
      ['b.wav', 'z'],
    ],
  );
  assert.deepEqual(parseCsv(text, 'l.csv'), [
    { path: 'a.wav', note: 'x, "y"' },
    { path: 'b.wav', note: 'z' },
  ]);
  assert.throws(() => parseCsv('file,x\n', 'l.csv'), /l\.csv: no 'path' column/);
  const dir = mkdtempSync(path.join(tmpdir(), 'earmark-files-'));
  try {
    mkdirSync(path.join(dir, 'wav'));
    writeFileSync(path.join(dir, 'wav', 'a.wav'), 'abc');
    writeFileSync(path.join(dir, 'labels.csv'), text);
    writeFileSync(path.join(dir, 'corpus.json'), '{}');
    const sums = await writeChecksums(dir);
    const lines = sums.trim().split('\n');
    assert.deepEqual(
      lines.map((l) => l.slice(66)),
      ['labels.csv', 'wav/a.wav'],
    );
    assert.equal(lines[1], 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad  wav/a.wav'); // sha256('abc')
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
