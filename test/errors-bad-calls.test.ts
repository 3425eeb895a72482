// Bad calls fail loudly and say which argument is wrong: TypeError for a wrong kind of value,
// RangeError for a value out of range, Error (naming the ATen op and input shapes) for what only
// libtorch can judge. Covers the Tensor API, the factories, tidy(), disposed tensors and raw
// native calls with arguments that do not fit the op's schema.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { native, resolveOps } from '../src/binding/native.js';
import {
  arange,
  cat,
  full,
  hannWindow,
  manualSeed,
  memory,
  ones,
  randn,
  randperm,
  setNumThreads,
  stack,
  tensor,
  tidy,
  zeros,
  type Tensor,
} from '../src/tensor/index.js';

/** assert.throws for an error class whose message matches every pattern. */
function throwsWith(fn: () => unknown, kind: 'TypeError' | 'RangeError' | 'Error', ...patterns: RegExp[]): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof Error, `expected an Error, got ${String(e)}`);
    assert.equal(e.name, kind, `expected a ${kind}, got ${e.name}: ${e.message}`);
    for (const p of patterns) assert.match(e.message, p);
    return true;
  });
}

function errorTest(name: string, body: () => void): void {
  test(name, () => {
    const before = memory().numTensors;
    tidy(body);
    assert.equal(memory().numTensors, before);
  });
}

const OP = resolveOps({
  add: 'aten::add.Tensor',
  reshape: 'aten::reshape',
  narrow: 'aten::narrow',
  sumDim: 'aten::sum.dim_IntList',
});

const bad = <T>(v: unknown): T => v as T; // pass a wrongly typed value past the compiler

// ---- Tensor methods ----

errorTest('Tensor methods: wrong kinds of value name the argument', () => {
  const x = randn([2, 3]);
  throwsWith(() => x.add(bad<number>('a')), 'TypeError', /'other'/, /got string/);
  throwsWith(() => x.mul(bad<number>({})), 'TypeError', /'other'/);
  throwsWith(() => x.reshape(bad<number[]>('2,3')), 'TypeError', /aten::reshape/, /'shape'/, /array/);
  throwsWith(() => x.sum(bad<number>('0')), 'TypeError', /aten::sum/, /'dim'/);
  throwsWith(() => x.sum(0, bad<boolean>('yes')), 'TypeError', /'keepdim'/, /boolean/);
  throwsWith(() => x.leakyRelu(bad<number>('0.1')), 'TypeError', /'negative_slope'/, /number/);
  throwsWith(() => x.narrow(bad<number>('a'), 0, 1), 'TypeError', /aten::narrow/, /'dim'/, /integer/);
  throwsWith(() => x.gather(1, bad<Tensor>('idx')), 'TypeError', /aten::gather/, /'index'/);
  throwsWith(() => x.clamp(null, null), 'TypeError', /'min'/, /'max'/);
});

errorTest('Tensor methods: out-of-range values name the argument or the op and shapes', () => {
  const x = randn([2, 3]);
  throwsWith(() => x.size(4), 'RangeError', /'dim' 4/, /2-d/);
  throwsWith(() => x.size(-3), 'RangeError', /'dim' -3/);
  throwsWith(() => x.item(), 'RangeError', /item\(\)/, /\[2, 3\]/);
  throwsWith(() => x.narrow(0, 5, 3), 'Error', /aten::narrow\(\[2, 3\] Float/, /out of range/);
  throwsWith(() => x.permute([0]), 'Error', /aten::permute\(\[2, 3\] Float/);
  throwsWith(() => x.matmul(x), 'Error', /aten::matmul\(\[2, 3\] Float, \[2, 3\] Float\)/, /cannot be multiplied/);
  throwsWith(() => x.expand([4, 3]), 'Error', /aten::expand/, /expanded size/);
  throwsWith(() => x.chunk(0), 'Error', /aten::chunk/, /chunks/);
  throwsWith(() => x.pad([1], 'reflect'), 'Error', /aten::pad/, /divisible by 2/);
  throwsWith(() => x.pad([5, 5], 'reflect'), 'Error', /aten::pad/, /less than the corresponding input dimension/);
  throwsWith(() => x.stft(16), 'Error', /aten::stft/);
  throwsWith(() => tensor([1, 2], [2], { dtype: 'int64' }).mean(), 'Error', /aten::mean\(\[2\] Long/, /dtype/);
  throwsWith(() => x.sum().backward(), 'Error', /does not require grad/);
});

// ---- factories ----

errorTest('factories: bad shapes, sizes, dtypes and options name the argument', () => {
  throwsWith(() => zeros([2, -1]), 'RangeError', /'shape'/);
  throwsWith(() => ones(bad<number[]>('3')), 'TypeError', /'shape'/, /array/);
  throwsWith(() => randn([1.5]), 'RangeError', /'shape'/, /1\.5/);
  throwsWith(() => full([2], bad<number>('x')), 'TypeError', /aten::full/, /'fill_value'/);
  throwsWith(() => zeros([2], { dtype: bad<'float32'>('int16') }), 'TypeError', /int16/, /float32/);
  throwsWith(() => tensor([1, 2, 3], [3], { dtype: bad<'float32'>('foo') }), 'TypeError', /foo/);
  throwsWith(() => tensor(new Float32Array(3), [2, 2]), 'RangeError', /'shape'/, /4 elements/, /3/);
  throwsWith(() => tensor(bad<number[]>(42)), 'TypeError', /'data'/);
  throwsWith(() => randperm(-1), 'RangeError', /'n'/, /-1/);
  throwsWith(() => arange(0, 5, 0), 'RangeError', /'step'/);
  throwsWith(() => manualSeed(-1), 'RangeError', /'seed'/);
  throwsWith(() => manualSeed(1.5), 'RangeError', /'seed'/);
  throwsWith(() => setNumThreads(0), 'RangeError', /'n'/);
  throwsWith(() => cat([]), 'RangeError', /'tensors'/);
  throwsWith(() => stack(bad<Tensor[]>('a')), 'RangeError', /'tensors'/);
  throwsWith(() => cat([zeros([2]), bad<Tensor>('b')]), 'TypeError', /'tensors'/);
  throwsWith(() => hannWindow(-1), 'Error', /aten::hann_window/, /window_length/);
});

// ---- tidy ----

test('tidy: a non-function is a TypeError naming fn', () => {
  throwsWith(() => tidy(bad<() => void>(5)), 'TypeError', /'fn'/, /function/);
  throwsWith(() => tidy(bad<() => void>(null)), 'TypeError', /'fn'/);
});

test('tidy: an async fn is refused, and the tensors it made before its first await are freed', () => {
  const before = memory().numTensors;
  let made: Tensor | undefined;
  throwsWith(
    () =>
      tidy(async () => {
        made = zeros([4]);
        await Promise.resolve();
      }),
    'TypeError',
    /'fn'/,
    /synchronous/,
  );
  assert.equal(made?.isDisposed, true);
  assert.equal(memory().numTensors, before);
});

test('tidy: an exception inside fn propagates and still frees the scope', () => {
  const before = memory().numTensors;
  assert.throws(
    () =>
      tidy(() => {
        randn([3]);
        randn([3]).add(zeros([4]));
      }),
    /aten::add\.Tensor/,
  );
  assert.equal(memory().numTensors, before);
});

// ---- disposed tensors ----

test('using a disposed tensor (as self or as an argument) says it was disposed', () => {
  const before = memory().numTensors;
  const x = randn([2]);
  const h = x.handle;
  x.dispose();
  throwsWith(() => x.add(1), 'Error', /disposed/, /keep\(\)/);
  throwsWith(() => x.shape, 'Error', /disposed/); // nothing was cached yet
  throwsWith(() => x.data(), 'Error', /disposed/);
  tidy(() => {
    throwsWith(() => ones([2]).add(x), 'Error', /disposed/);
  });
  throwsWith(() => native.call(OP.add, h, h, 1), 'Error', /'self' is a disposed tensor/);
  assert.equal(x.isDisposed, true);
  x.dispose(); // still idempotent
  assert.equal(String(x), 'Tensor(disposed)');
  assert.equal(memory().numTensors, before);
});

// ---- raw native calls ----

errorTest('native.call: arguments that do not fit the schema name the schema argument', () => {
  const x = randn([2, 3]);
  throwsWith(() => native.call(OP.add, 'x', x.handle), 'TypeError', /'self'/, /tensor handle/);
  throwsWith(() => native.call(OP.add, x.handle, 'x'), 'TypeError', /'other'/, /tensor handle/);
  throwsWith(() => native.call(OP.add, x.handle, { handle: x.handle }), 'TypeError', /'other'/); // a Tensor-like object is not a handle
  throwsWith(
    () => native.call(OP.reshape, x.handle),
    'TypeError',
    /aten::reshape/,
    /missing required argument 'shape'/,
  );
  throwsWith(
    () => native.call(OP.add, x.handle, x.handle, 1, 2, 3),
    'RangeError',
    /aten::add takes at most 3 arguments, got 5/,
  );
  throwsWith(() => native.call(OP.narrow, x.handle, 'a', 0, 1), 'TypeError', /aten::narrow/, /'dim'/, /integer/);
  throwsWith(() => native.call(OP.sumDim, x.handle, ['a'], false), 'TypeError', /'dim'/, /array of integers/);
  throwsWith(() => native.call(9999), 'RangeError', /'id'/);
  throwsWith(() => native.resolveOp('aten::no_such_op', ''), 'Error', /aten::no_such_op/);
});

// c10::Device("gpu") throws while the arguments are converted; that must become a TypeError, not an
// abort (native/src/dispatch.cc toIValue, DeviceObjType): run it in a child so an abort cannot kill the runner
test("an unknown device string is a TypeError naming 'device', not an abort", () => {
  const index = new URL('../src/tensor/index.js', import.meta.url).href;
  const script = `import { randn } from ${JSON.stringify(index)};
    try { randn([2]).to('gpu'); process.exit(3); }
    catch (e) { process.exit(e instanceof TypeError && /'device'/.test(e.message) ? 0 : 4); }`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000 });
  assert.equal(r.signal, null, `the child was killed by ${r.signal}: ${r.stderr.split('\n')[0]}`);
  assert.equal(r.status, 0, r.stderr);
});
