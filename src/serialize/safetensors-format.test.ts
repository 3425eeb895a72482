// The raw container against byte vectors from safetensors' own test suite (safetensors/src/tensor.rs:
// test_serialization, test_empty, test_serialization_forced_alignement, and the deserialisation
// error tests), so our layout matches the real library independently of our golden script.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EarmarkError } from '../errors.js';
import { decodeRaw, encodeRaw, type RawTensor } from './safetensors-format.js';

const f32Bytes = (xs: number[]): Uint8Array => new Uint8Array(Float32Array.from(xs).buffer);
const one = (name: string, t: RawTensor): Map<string, RawTensor> => new Map([[name, t]]);

test('encodeRaw reproduces the reference library’s own expected bytes', () => {
  const data = f32Bytes([0, 1, 2, 3, 4, 5]);
  assert.deepEqual(
    Array.from(encodeRaw(one('attn.0', { dtype: 'F32', shape: [1, 2, 3], data }))),
    [
      64, 0, 0, 0, 0, 0, 0, 0, 123, 34, 97, 116, 116, 110, 46, 48, 34, 58, 123, 34, 100, 116, 121, 112, 101, 34, 58, 34,
      70, 51, 50, 34, 44, 34, 115, 104, 97, 112, 101, 34, 58, 91, 49, 44, 50, 44, 51, 93, 44, 34, 100, 97, 116, 97, 95,
      111, 102, 102, 115, 101, 116, 115, 34, 58, 91, 48, 44, 50, 52, 93, 125, 125, 0, 0, 0, 0, 0, 0, 128, 63, 0, 0, 0,
      64, 0, 0, 64, 64, 0, 0, 128, 64, 0, 0, 160, 64,
    ],
  );
  // a shorter name: the header is padded with spaces to keep the data 8-aligned
  assert.deepEqual(
    Array.from(encodeRaw(one('attn0', { dtype: 'F32', shape: [1, 1, 2, 3], data }))),
    [
      72, 0, 0, 0, 0, 0, 0, 0, 123, 34, 97, 116, 116, 110, 48, 34, 58, 123, 34, 100, 116, 121, 112, 101, 34, 58, 34, 70,
      51, 50, 34, 44, 34, 115, 104, 97, 112, 101, 34, 58, 91, 49, 44, 49, 44, 50, 44, 51, 93, 44, 34, 100, 97, 116, 97,
      95, 111, 102, 102, 115, 101, 116, 115, 34, 58, 91, 48, 44, 50, 52, 93, 125, 125, 32, 32, 32, 32, 32, 32, 32, 0, 0,
      0, 0, 0, 0, 128, 63, 0, 0, 0, 64, 0, 0, 64, 64, 0, 0, 128, 64, 0, 0, 160, 64,
    ],
  );
  assert.deepEqual(Array.from(encodeRaw(new Map())), [8, 0, 0, 0, 0, 0, 0, 0, 123, 125, 32, 32, 32, 32, 32, 32]);
  assert.deepEqual(
    Array.from(encodeRaw(new Map(), { framework: 'pt' })),
    [
      40, 0, 0, 0, 0, 0, 0, 0, 123, 34, 95, 95, 109, 101, 116, 97, 100, 97, 116, 97, 95, 95, 34, 58, 123, 34, 102, 114,
      97, 109, 101, 119, 111, 114, 107, 34, 58, 34, 112, 116, 34, 125, 125, 32, 32, 32, 32, 32,
    ],
  );
});

test('decodeRaw reads a scalar and rejects what the reference library rejects', () => {
  const bytes = (s: string): Uint8Array => Buffer.from(s, 'latin1');
  const scalar = decodeRaw(bytes('8\0\0\0\0\0\0\0{"test":{"dtype":"I32","shape":[],"data_offsets":[0,4]}}\0\0\0\0'));
  assert.deepEqual(scalar.tensors.get('test')!.shape, []);
  const ok = '<\0\0\0\0\0\0\0{"test":{"dtype":"I32","shape":[2,2],"data_offsets":[0,16]}}' + '\0'.repeat(16);
  assert.equal(decodeRaw(bytes(ok)).tensors.get('test')!.data.byteLength, 16);
  const cases: [string, RegExp][] = [
    [ok + 'extra_bogus_data_for_polyglot_file', /34 bytes after the last tensor/],
    [ok.slice(0, -2), /data_offsets \[0, 16\] outside the 14 data bytes/],
    ['<\0\0\0\0\xff\xff\xff' + ok.slice(8), /limit 100000000/],
    ['', /0 bytes long, too short/],
    ['<\0\0\0\0\0\0\0', /declares a 60-byte header but the file has 8 bytes/],
    ['\x01\0\0\0\0\0\0\0\xff', /header is not UTF-8/],
    ['\x01\0\0\0\0\0\0\0{', /header is not valid JSON/],
  ];
  for (const [input, re] of cases) {
    assert.throws(
      () => decodeRaw(bytes(input), 'v.safetensors'),
      (e: unknown) => e instanceof EarmarkError && e.code === 'EARMARK_SAFETENSORS' && re.test(e.message),
      String(re),
    );
  }
});
