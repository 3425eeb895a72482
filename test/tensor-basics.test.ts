// Smoke-level properties of the Tensor core: data round trips, dtype rules, error messages, tidy.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { arange, memory, randn, tensor, tidy, zeros } from '../src/tensor/index.js';

test('typed arrays round-trip through libtorch for every dtype', () => {
  const before = memory().numTensors;
  const f32 = tensor(new Float32Array([1.5, -2, 3]));
  assert.deepEqual(Array.from(f32.data() as Float32Array), [1.5, -2, 3]);
  const f64 = tensor(new Float64Array([1 / 3]));
  assert.equal((f64.data() as Float64Array)[0], 1 / 3);
  const i64 = tensor(BigInt64Array.from([1n, -(2n ** 40n)]));
  assert.deepEqual(i64.toArray(), [1, -(2 ** 40)]);
  const b = tensor(new Uint8Array([1, 0, 1]), [3], { dtype: 'bool' });
  assert.equal(b.dtype, 'bool');
  assert.equal(
    tidy(() => b.sum().item()),
    2,
  );
  for (const t of [f32, f64, i64, b]) t.dispose();
  assert.equal(memory().numTensors, before);
});

test('integer arange stays int64 and float scalars promote as torch does', () => {
  tidy(() => {
    const a = arange(4);
    assert.equal(a.dtype, 'int64');
    assert.equal(a.add(1).dtype, 'int64');
    assert.equal(a.add(0.5).dtype, 'float32');
  });
});

test('a shape mismatch names the op and both input shapes', () => {
  tidy(() => {
    assert.throws(() => randn([2, 3]).add(zeros([4])), /aten::add\.Tensor\(\[2, 3\] Float, \[4\] Float.*must match/);
  });
});

test('bad factory arguments raise TypeError/RangeError naming the argument', () => {
  assert.throws(() => zeros([2, -1]), { name: 'RangeError', message: /'shape'/ });
  assert.throws(() => tensor([1, 2, 3], [2, 2]), { name: 'RangeError', message: /'shape'.*4 elements.*3/ });
  assert.throws(() => tensor('abc' as unknown as number[]), { name: 'TypeError', message: /'data'/ });
});

test('tidy frees intermediates, keeps what it returns, and disposal is idempotent', () => {
  const before = memory().numTensors;
  const x = randn([4, 4]);
  const y = tidy(() => x.mul(2).add(1).relu().sum(0));
  assert.equal(memory().numTensors, before + 2);
  y.dispose();
  y.dispose();
  x.dispose();
  assert.equal(memory().numTensors, before);
  assert.throws(() => x.add(1), /disposed/);
});
