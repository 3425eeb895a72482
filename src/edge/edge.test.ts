// Unit tests of the libtorch-free edge pieces: protobuf varints (negative int64 included), ONNX
// encode/decode of attributes and tensors, the .npy header, PCM decoding across odd chunk borders,
// and the token store's hashing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { GraphBuilder } from './builder.js';
import { checkOnnxModel } from './checker.js';
import { decodeModel, encodeModel, tensorFloats } from './onnx.js';
import { PcmDecoder, encodeNpy, encodePcm16 } from './pcm.js';
import { ProtoWriter, readFields, readPackedInts } from './protobuf.js';
import { TokenStore } from './tokens.js';

test('protobuf varints round-trip, including negative int64 and packed lists', () => {
  const b = new ProtoWriter()
    .int(1, -1)
    .int(2, 300)
    .packedInts(3, [0, 1, -5, 2 ** 40])
    .finish();
  const f = readFields(b);
  assert.equal(BigInt.asIntN(64, f[0]!.varint!), -1n);
  assert.equal(f[1]!.varint, 300n);
  assert.deepEqual(
    readPackedInts(f[2]!).map((v) => BigInt.asIntN(64, v)),
    [0n, 1n, -5n, 2n ** 40n],
  );
  assert.throws(() => readFields(Uint8Array.of(0x0a, 0x05, 0x01)), /claims 5 bytes/);
});

test('a built graph encodes, decodes with its attributes and initializers, and checks clean', () => {
  const b = new GraphBuilder();
  const x = b.input('x', ['batch', 4]);
  const w = b.floats('w', Float32Array.of(1, 2, 3, 4), [4, 1]);
  const y = b.op('MatMul', [x, w], {}, 'mm');
  b.node('Clip', [y, b.floats('lo', Float32Array.of(0), []), b.floats('hi', Float32Array.of(0.5), [])], {}, 'clip', 1, [
    'y',
  ]);
  b.node('Transpose', ['y'], { perm: [1, 0] }, 't', 1, ['yt']);
  b.output('y', ['batch', 1]);
  const m = b.model('tiny', { k: 'v' });
  const back = decodeModel(encodeModel(m));
  assert.deepEqual(checkOnnxModel(back), []);
  assert.deepEqual(back.graph.nodes[2]!.attributes['perm'], { type: 'ints', ints: [1, 0] });
  assert.deepEqual(Array.from(tensorFloats(back.graph.initializers.find((t) => t.name === 'w')!)), [1, 2, 3, 4]);
  assert.deepEqual(back.metadata, { k: 'v' });
  assert.deepEqual(back.graph.inputs[0]!.shape, ['batch', 4]);
});

test('.npy headers are 64-byte aligned and PCM decodes across odd chunk borders', () => {
  const npy = encodeNpy(new Float32Array(6), [2, 3]);
  const headerLen = npy[8]! | (npy[9]! << 8);
  assert.equal((10 + headerLen) % 64, 0);
  assert.match(Buffer.from(npy.subarray(10, 10 + headerLen)).toString('latin1'), /'shape': \(2, 3\)/);
  const pcm = encodePcm16(Float32Array.of(0.5, -0.25, 0.125, -1));
  const d = new PcmDecoder('test');
  const parts = [d.decode(pcm.subarray(0, 3)), d.decode(pcm.subarray(3, 5)), d.decode(pcm.subarray(5))];
  d.end();
  assert.deepEqual(
    parts.flatMap((p) => [...p]),
    [0.5, -0.25, 0.125, -1],
  );
  const cut = new PcmDecoder('cut');
  cut.decode(pcm.subarray(0, 3));
  assert.throws(() => cut.end(), /mid-sample after 3 bytes/);
  assert.throws(() => new PcmDecoder('wav').decode(Buffer.from('RIFF....WAVE')), /looks like a WAV file/);
});

test('the token store keeps hashes only and verifies in constant shape', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'earmark-tok-'));
  try {
    writeFileSync(path.join(dir, 'm.onnx'), 'x');
    const s = new TokenStore(path.join(dir, 't.json'));
    const { token, id } = s.grant('speaker', path.join(dir, 'm.onnx'));
    assert.ok(!readFileSync(s.file, 'utf8').includes(token.slice(14)));
    assert.equal(s.verify(token)?.id, id);
    assert.equal(s.verify(token.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A'))), null);
    assert.equal(s.verify(undefined), null);
    s.revoke(id);
    assert.equal(s.verify(token), null);
    writeFileSync(s.file, '{not json');
    assert.throws(() => s.read(), /not valid JSON/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('importing every src/edge module loads no libtorch (checked in a fresh process)', async () => {
  const { readdirSync } = await import('node:fs');
  const { spawnSync } = await import('node:child_process');
  const { fileURLToPath } = await import('node:url');
  const here = path.dirname(fileURLToPath(import.meta.url));
  const mods = readdirSync(here)
    .filter((f) => f.endsWith('.js') && !f.endsWith('.test.js'))
    .map((f) => path.join(here, f));
  assert.ok(mods.length >= 15, `found ${mods.length} modules`);
  const script = `for (const m of ${JSON.stringify(mods)}) await import(m);
    const libs = process.report.getReport().sharedObjects.filter((s) => /torch|c10|earmark_native|\\.node$/.test(s) && !/onnxruntime/.test(s));
    console.log(JSON.stringify(libs));`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20000 });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout.trim()), []);
});

test('level control: loud chunks are scaled to −2 dBFS from their own peak, quiet ones untouched, the limiter counts what the attack lets through', async () => {
  const { LevelControl, softLimit, LEVEL_TARGET } = await import('./level.js');
  const quiet = Float32Array.from({ length: 1600 }, (_, i) => 0.5 * Math.sin(i * 0.1));
  const lc = new LevelControl();
  const q = quiet.slice();
  assert.equal(lc.apply(q), 0);
  assert.deepEqual(q, quiet, 'a chunk below the target is not scaled');
  const loud = quiet.map((v) => 8 * v);
  assert.ok(lc.apply(loud) > 0, 'the first 10 ms of the attack reach the limiter');
  assert.ok(loud.every((v) => Math.abs(v) < 1));
  assert.ok(
    Math.abs(Math.max(...loud.subarray(160).map(Math.abs)) - LEVEL_TARGET) < 1e-3,
    'after the attack the peak is the target',
  );
  assert.ok(Math.abs(lc.minGainDb - 20 * Math.log10(LEVEL_TARGET / 4)) < 0.01);
  const y = Float32Array.of(0.5, 0.95, -3, Infinity);
  assert.equal(softLimit(y), 3);
  assert.ok(y.every((v) => Math.abs(v) < 1) && y[0] === 0.5);
});
