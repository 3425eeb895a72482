// safetensors: byte-identical to the reference writer (golden file from scripts/goldens/safetensors.py),
// readable back, and every malformed file rejected with EARMARK_SAFETENSORS naming the file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { EarmarkError } from '../src/errors.js';
import { decodeSafetensors, encodeSafetensors } from '../src/serialize/index.js';
import { arange, memory, tensor, tidy, zeros, type DType, type Tensor } from '../src/tensor/index.js';
import { repoRoot } from '../src/util/paths.js';

const FIXTURES = path.join(repoRoot(), 'test/fixtures/safetensors');
const DTYPES: Record<string, DType> = {
  F32: 'float32',
  F64: 'float64',
  I64: 'int64',
  I32: 'int32',
  U8: 'uint8',
  BOOL: 'bool',
};

interface Spec {
  metadata: Record<string, string>;
  tensors: Record<string, { dtype: string; shape: number[]; values: number[] }>;
}
const spec = JSON.parse(readFileSync(path.join(FIXTURES, 'small.json'), 'utf8')) as Spec;

/** The golden's tensors, in small.json's (not the file's) order. */
function goldenTensors(): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  for (const [name, s] of Object.entries(spec.tensors)) {
    const dtype = DTYPES[s.dtype]!;
    const data =
      dtype === 'int64'
        ? BigInt64Array.from(s.values, (v) => BigInt(v))
        : dtype === 'float64'
          ? Float64Array.from(s.values)
          : dtype === 'int32'
            ? Int32Array.from(s.values)
            : dtype === 'float32'
              ? Float32Array.from(s.values)
              : Uint8Array.from(s.values);
    out.set(name, tensor(data, s.shape, { dtype }));
  }
  return out;
}

test('encodeSafetensors writes the same bytes as the reference writer', () => {
  const before = memory().numTensors;
  tidy(() => {
    const golden = readFileSync(path.join(FIXTURES, 'small.safetensors'));
    const ours = encodeSafetensors(goldenTensors(), spec.metadata);
    assert.equal(Buffer.from(ours).toString('hex'), golden.toString('hex'));
    // the same from a plain object
    assert.deepEqual(Buffer.from(encodeSafetensors(Object.fromEntries(goldenTensors()), spec.metadata)), golden);
    // an empty dict without metadata: "{}" padded to 8 bytes
    assert.deepEqual(Buffer.from(encodeSafetensors(new Map())), readFileSync(path.join(FIXTURES, 'empty.safetensors')));
  });
  assert.equal(memory().numTensors, before);
});

test('decodeSafetensors reads the reference file: names, dtypes, shapes, values, metadata', () => {
  const before = memory().numTensors;
  tidy(() => {
    const { tensors, metadata } = decodeSafetensors(
      readFileSync(path.join(FIXTURES, 'small.safetensors')),
      'small.safetensors',
    );
    assert.deepEqual(metadata, spec.metadata);
    // file order: dtype rank descending, then UTF-8 name order
    assert.deepEqual(
      [...tensors.keys()],
      ['step', 'mean', 'bias', 'empty', 'weight', 'counts', 'aardvark', 'pixels', '\uff57', '\u{1f3a7}', 'mask'],
    );
    for (const [name, s] of Object.entries(spec.tensors)) {
      const t = tensors.get(name)!;
      assert.equal(t.dtype, DTYPES[s.dtype], name);
      assert.deepEqual(t.shape, s.shape, name);
      assert.deepEqual(t.toArray(), s.values.map(Number), name);
    }
    assert.ok(Object.is(tensors.get('weight')!.toArray()[4], -0), 'negative zero survives');
    const empty = decodeSafetensors(readFileSync(path.join(FIXTURES, 'empty.safetensors')));
    assert.equal(empty.tensors.size, 0);
    assert.equal(empty.metadata, null);
  });
  assert.equal(memory().numTensors, before);
});

test('encode → decode round-trips every dtype bit for bit', () => {
  tidy(() => {
    const src = goldenTensors();
    src.set('x64', tensor(new Float64Array([Math.PI, -Number.MIN_VALUE, Number.MAX_VALUE])));
    src.set('big', tensor(BigInt64Array.from([-(2n ** 62n), 2n ** 62n])));
    src.set('transposed', arange(6).reshape([2, 3]).transpose(0, 1)); // non-contiguous: written in logical order
    src.set('param', tensor([1, 2], [2], { requiresGrad: true }));
    const back = decodeSafetensors(encodeSafetensors(src, { a: 'x', b: '{"json": [1, 2]}' }));
    assert.deepEqual(back.metadata, { a: 'x', b: '{"json": [1, 2]}' });
    for (const [name, t] of src) {
      const u = back.tensors.get(name)!;
      assert.equal(u.dtype, t.dtype, name);
      assert.deepEqual(u.shape, t.shape, name);
      assert.deepEqual(Buffer.from(u.data().buffer), Buffer.from(t.data().buffer), name);
    }
    assert.deepEqual(back.tensors.get('transposed')!.toArray(), [0, 3, 1, 4, 2, 5]);
  });
});

// ---- malformed files ----

/** A file from header text (padded to 8 with spaces) and `dataLen` zero bytes. */
function fileWith(header: string, dataLen: number, declared?: bigint): Uint8Array {
  const json = Buffer.from(header + ' '.repeat((8 - (Buffer.byteLength(header) % 8)) % 8));
  const out = Buffer.alloc(8 + json.length + dataLen);
  out.writeBigUInt64LE(declared ?? BigInt(json.length), 0);
  json.copy(out, 8);
  return out;
}

function rejects(bytes: Uint8Array, message: RegExp): void {
  assert.throws(
    () => decodeSafetensors(bytes, 'bad.safetensors'),
    (e: unknown) => {
      assert.ok(e instanceof EarmarkError, `expected EarmarkError, got ${String(e)}`);
      assert.equal(e.code, 'EARMARK_SAFETENSORS');
      assert.match(e.message, /^bad\.safetensors: /);
      assert.match(e.message, message);
      return true;
    },
  );
}

const t = (name: string, dtype: string, shape: number[], b: number, e: number): string =>
  `"${name}":{"dtype":"${dtype}","shape":${JSON.stringify(shape)},"data_offsets":[${b},${e}]}`;

test('malformed safetensors files are rejected with the file name and a fix', () => {
  rejects(new Uint8Array(5), /5 bytes long, too short/);
  rejects(fileWith('{}', 0, 2n ** 40n), /declares a 1099511627776-byte header .*limit 100000000/);
  rejects(fileWith('{}', 0, 64n), /declares a 64-byte header but the file has 16 bytes/);
  rejects(fileWith('{"a": nope}', 0), /header is not valid JSON/);
  rejects(fileWith('[1, 2]', 0), /header is not a JSON object/);
  rejects(
    fileWith(`{${t('a', 'F16', [2], 0, 4)}}`, 4),
    /tensor 'a' has dtype "F16", which earmark does not read.*Supported: .*F32/,
  );
  rejects(fileWith(`{${t('a', 'Q7', [2], 0, 4)}}`, 4), /dtype "Q7"/);
  rejects(fileWith(`{${t('a', 'F32', [2], 0, 800)}}`, 8), /'a' has data_offsets \[0, 800\] outside the 8 data bytes/);
  rejects(
    fileWith(`{${t('a', 'F32', [2], 0, 8)},${t('b', 'F32', [2], 4, 12)}}`, 12),
    /'b' starts at byte 4 .*ends at 8 \(overlap\)/,
  );
  rejects(
    fileWith(`{${t('a', 'F32', [1], 0, 4)},${t('b', 'F32', [1], 8, 12)}}`, 12),
    /'b' starts at byte 8 .*ends at 4 \(gap\)/,
  );
  rejects(fileWith(`{${t('a', 'F32', [3], 0, 8)}}`, 8), /'a' is F32 \[3\] = 12 bytes, but its data_offsets span 8/);
  rejects(fileWith(`{${t('a', 'U8', [2], 0, 2)},${t('a', 'U8', [2], 2, 4)}}`, 4), /names 'a' twice/);
  rejects(fileWith(`{${t('a', 'U8', [2], 0, 2)}}`, 10), /8 bytes after the last tensor/);
  rejects(fileWith(`{"__metadata__":{"k":1},${t('a', 'U8', [2], 0, 2)}}`, 2), /__metadata__\['k'\] is 1, not a string/);
  rejects(fileWith(`{${t('a', 'U8', [-2], 0, 2)}}`, 2), /shape \[-2\]/);
  rejects(fileWith(`{${t('a', 'U8', [2], 0, 2)},${t('b', 'U8', [2], 2, 1)}}`, 2), /'b' has data_offsets \[2, 1\]/);
  // a duplicate key nested inside a tensor entry is not a duplicate tensor name
  assert.equal(decodeSafetensors(fileWith(`{"__metadata__":{"a":"x"},${t('a', 'U8', [1], 0, 1)}}`, 1)).tensors.size, 1);
});

test('bad encode calls raise TypeError/RangeError naming the argument', () => {
  const before = memory().numTensors;
  tidy(() => {
    const z = zeros([2]);
    assert.throws(() => encodeSafetensors({ w: 3 as unknown as Tensor }), {
      name: 'TypeError',
      message: /'tensors\.w' must be a Tensor/,
    });
    assert.throws(() => encodeSafetensors({ w: z }, { step: 3 as unknown as string }), {
      name: 'TypeError',
      message: /'metadata\.step' must be a string/,
    });
    assert.throws(() => encodeSafetensors({ __metadata__: z }), { name: 'RangeError', message: /'__metadata__'/ });
    assert.throws(() => encodeSafetensors(null as unknown as Map<string, Tensor>), {
      name: 'TypeError',
      message: /'tensors'/,
    });
  });
  assert.equal(memory().numTensors, before);
});
