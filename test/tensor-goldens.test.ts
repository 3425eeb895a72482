// Golden values from PyTorch 1.13 (scripts/goldens/tensor.py → test/fixtures/tensor/): stft/istft
// on a fixed signal with a periodic Hamming window, and ops whose semantics are easy to get wrong
// (unbiased var, logsumexp of large values, reflect pad, gather).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../src/util/paths.js';
import { hammingWindow, memory, tensor, tidy, type Tensor } from '../src/tensor/index.js';

// ---- fixture loading ----

interface ArrayEntry {
  file: string;
  dtype: 'float32' | 'float64' | 'int64';
  shape: number[];
}

const DIR = path.join(repoRoot(), 'test/fixtures/tensor');
const MANIFEST = JSON.parse(readFileSync(path.join(DIR, 'tensor.json'), 'utf8')) as {
  arrays: Record<string, ArrayEntry>;
};

/** A fixture array as a Tensor of its stored dtype and shape. */
function golden(name: string): Tensor {
  const e = MANIFEST.arrays[name];
  if (e === undefined)
    throw new Error(`test/fixtures/tensor/tensor.json has no array '${name}'; rerun scripts/goldens/tensor.py`);
  const buf = readFileSync(path.join(DIR, e.file));
  const bytes = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
  const data =
    e.dtype === 'float32'
      ? new Float32Array(bytes)
      : e.dtype === 'float64'
        ? new Float64Array(bytes)
        : new BigInt64Array(bytes);
  return tensor(data, e.shape);
}

/** Same shape and |actual - expected| <= atol + rtol |expected| everywhere; names the worst element. */
function assertClose(actual: Tensor, expected: Tensor, atol: number, rtol = 0, what = 'value'): void {
  assert.deepEqual(actual.shape, expected.shape, `${what}: shape`);
  const a = actual.toFloat64Array();
  const b = expected.toFloat64Array();
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < a.length; i++) {
    const excess = Math.abs(a[i]! - b[i]!) - (atol + rtol * Math.abs(b[i]!));
    if (!(excess <= 0) && (worst < 0 || excess > worstExcess)) {
      worst = i;
      worstExcess = excess;
    }
  }
  assert.ok(worst < 0, `${what}: element ${worst} is ${a[worst]} but PyTorch gives ${b[worst]}`);
}

function goldenTest(name: string, body: () => void): void {
  test(name, () => {
    const before = memory().numTensors;
    tidy(body);
    assert.equal(memory().numTensors, before);
  });
}

// ---- spectral ----

goldenTest('the periodic Hamming window matches torch.hamming_window(320)', () => {
  assertClose(hammingWindow(320), golden('hamming320'), 1e-7, 0, 'hamming');
  // periodic: w[0] = 0.08 and the window is not symmetric end to end
  const w = hammingWindow(320).toFloat64Array();
  assert.ok(Math.abs(w[0]! - 0.08) < 1e-6 && Math.abs(w[319]! - w[1]!) < 1e-6);
});

goldenTest('stft (n_fft 320, hop 160, Hamming, centred, reflect) matches torch.stft', () => {
  const spec = golden('signal').stft(320, { hopLength: 160, window: hammingWindow(320) });
  assert.deepEqual(spec.shape, [161, 11, 2]); // (freq, frames, re/im)
  // float32 FFT sums of ~320 terms of magnitude <= 1: absolute error well under 1e-4
  assertClose(spec, golden('stft'), 1e-4, 1e-5, 'stft');
});

goldenTest('istft inverts stft and matches torch.istft', () => {
  const window = hammingWindow(320);
  const recon = golden('stft').istft(320, { hopLength: 160, window, length: 1600 });
  assertClose(recon, golden('istft'), 1e-5, 0, 'istft');
  assertClose(recon, golden('signal'), 1e-5, 0, 'round trip');
});

goldenTest('stft of a batch equals stft of each signal', () => {
  const s = golden('signal');
  const batch = s
    .unsqueeze(0)
    .expand([3, 1600])
    .mul(tensor([1, -0.5, 2], [3, 1]));
  const spec = batch.stft(320, { hopLength: 160, window: hammingWindow(320) });
  assert.deepEqual(spec.shape, [3, 161, 11, 2]);
  assertClose(spec.select(0, 1), golden('stft').mul(-0.5), 1e-4, 1e-5, 'batch item 1');
});

// ---- ops ----

goldenTest('var and std are unbiased by default (n - 1), biased on request', () => {
  const x = golden('x');
  assertClose(x.var(), golden('var_all'), 1e-12, 1e-12, 'var()');
  assertClose(x.var(1), golden('var_dim1'), 1e-12, 1e-12, 'var(1)');
  assertClose(
    x.var(0, { unbiased: false, keepdim: true }),
    golden('var_dim0_biased_keepdim'),
    1e-12,
    1e-12,
    'var(0, biased)',
  );
  assertClose(x.std(1), golden('std_dim1'), 1e-12, 1e-12, 'std(1)');
});

goldenTest('logsumexp of values near 1000 is finite and exact', () => {
  const big = golden('big');
  assertClose(big.logsumexp(1), golden('logsumexp_dim1'), 1e-9, 1e-12, 'logsumexp(1)');
  assertClose(big.logsumexp([0, 1], true), golden('logsumexp_all_keepdim'), 1e-9, 1e-12, 'logsumexp(all)');
});

goldenTest('pad: reflect (1-d and 2-d), replicate and constant follow F.pad order', () => {
  const p = golden('p');
  assertClose(p.pad([3, 2], 'reflect'), golden('pad_reflect_1d'), 0, 0, 'reflect 1-d');
  assertClose(p.pad([2, 1, 1, 2], 'reflect'), golden('pad_reflect_2d'), 0, 0, 'reflect 2-d');
  assertClose(p.pad([2, 3], 'replicate'), golden('pad_replicate_1d'), 0, 0, 'replicate');
  assertClose(p.pad([1, 0, 0, 2], 'constant', -1.5), golden('pad_constant'), 0, 0, 'constant');
});

goldenTest('gather picks out[i][j] = x[i][index[i][j]] (dim 1) and x[index[i][j]][j] (dim 0)', () => {
  const x = golden('x');
  assertClose(x.gather(1, golden('gather_index')), golden('gather_dim1'), 0, 0, 'gather(1)');
  assertClose(x.gather(0, golden('gather_index0')), golden('gather_dim0'), 0, 0, 'gather(0)');
});
