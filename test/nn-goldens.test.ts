// PyTorch 1.13 goldens (scripts/goldens/nn.py): torch's weights loaded by key; outputs, gradients and buffers match.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { manualSeed, memory, tensor, tidy, type Tensor, type TypedArray } from '../src/tensor/index.js';
import { repoRoot } from '../src/util/paths.js';
import {
  BatchNorm1d,
  BatchNorm2d,
  Conv1d,
  Conv2d,
  ConvTranspose2d,
  GLU,
  GRU,
  InstanceNorm2d,
  LayerNorm,
  Linear,
  LSTM,
  MaxPool2d,
  PixelShuffle,
  bceWithLogits,
  crossEntropy,
  l1Loss,
  mseLoss,
  type Module,
} from '../src/nn/index.js';
import { dropout } from '../src/nn/functional.js';

interface Fixture {
  config: Record<string, unknown>;
  keys: string[];
  t: Map<string, Tensor>;
}

/** Read <case>.json and its .bin into tensors (created in the caller's tidy scope). */
function loadFixture(name: string): Fixture {
  const dir = path.join(repoRoot(), 'test', 'fixtures', 'nn');
  const meta = JSON.parse(readFileSync(path.join(dir, `${name}.json`), 'utf8')) as {
    config: Record<string, unknown>;
    keys: string[];
    tensors: Record<string, { dtype: string; shape: number[]; offset: number }>;
  };
  const bin = readFileSync(path.join(dir, `${name}.bin`));
  const t = new Map<string, Tensor>();
  for (const [k, { dtype, shape, offset }] of Object.entries(meta.tensors)) {
    const n = shape.reduce((a, b) => a * b, 1);
    const C = dtype === 'float32' ? Float32Array : dtype === 'float64' ? Float64Array : BigInt64Array;
    const bytes = bin.buffer.slice(bin.byteOffset + offset, bin.byteOffset + offset + n * C.BYTES_PER_ELEMENT);
    t.set(k, tensor(new C(bytes) as TypedArray, shape));
  }
  return { config: meta.config, keys: meta.keys, t };
}

const get = (f: Fixture, k: string): Tensor => {
  const v = f.t.get(k);
  if (v === undefined) throw new Error(`fixture has no tensor '${k}'`);
  return v;
};

/** Largest |a − e| / (atol + rtol·|e|) must be <= 1; the message names the worst element. */
function assertClose(actual: Tensor | null, expected: Tensor, what: string, atol = 1e-5, rtol = 1e-4): void {
  assert.ok(actual !== null, `${what}: no value (missing gradient?)`);
  assert.deepEqual(actual.shape, expected.shape, `${what}: shape`);
  const a = actual.toFloat64Array();
  const e = expected.toFloat64Array();
  let worst = 0;
  let at = -1;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - e[i]!);
    const r = d === 0 ? 0 : d / (atol + rtol * Math.abs(e[i]!));
    if (!(r <= worst)) {
      worst = r;
      at = i;
    }
  }
  assert.ok(
    worst <= 1,
    `${what}: element ${at} is ${a[at]} but torch has ${e[at]} (|diff| ${Math.abs(a[at]! - e[at]!)})`,
  );
}

type Outputs = Record<string, Tensor>;

/** Build, load torch's weights, forward, compare outputs; backprop sum(out·probe) and compare every gradient. */
function layerGolden(
  name: string,
  make: (c: Record<string, unknown>) => Module,
  forward: (m: Module, x: Tensor, f: Fixture) => Outputs,
  opts: { train?: boolean; extra?: string[]; atol?: number; rtol?: number } = {},
): void {
  const before = memory().numTensors;
  tidy(() => {
    const f = loadFixture(name);
    const m = make(f.config);
    try {
      assert.deepEqual([...m.stateDict().keys()], f.keys, 'state-dict keys and order');
      m.loadStateDict(new Map(f.keys.map((k) => [k, get(f, `state.${k}`)])), { source: `${name}.json` });
      m.train(opts.train ?? true);
      const x = get(f, 'input').requiresGrad_(true);
      for (const k of opts.extra ?? []) get(f, k).requiresGrad_(true);
      const outs = forward(m, x, f);
      for (const [k, v] of Object.entries(outs)) assertClose(v, get(f, k), `${name} ${k}`, opts.atol, opts.rtol);
      let loss: Tensor | null = null;
      for (const [k, v] of Object.entries(outs)) {
        const term = v.mul(get(f, `probe.${k}`)).sum();
        loss = loss === null ? term : loss.add(term);
      }
      loss!.backward();
      assertClose(x.grad, get(f, 'grad.input'), `${name} grad of input`, opts.atol, opts.rtol);
      for (const k of opts.extra ?? [])
        assertClose(get(f, k).grad, get(f, `grad.${k}`), `${name} grad of ${k}`, opts.atol, opts.rtol);
      for (const [k, p] of m.namedParameters())
        assertClose(p.grad, get(f, `grad.${k}`), `${name} grad of ${k}`, opts.atol, opts.rtol);
      for (const [k, b] of m.namedBuffers())
        assertClose(b, get(f, `after.${k}`), `${name} buffer ${k} after forward`, opts.atol, opts.rtol);
    } finally {
      m.dispose();
    }
  });
  assert.equal(memory().numTensors, before, 'no tensors leaked');
}

const one = (m: Module, x: Tensor): Outputs => ({
  output: (m as unknown as { forward(x: Tensor): Tensor }).forward(x),
});

test('Linear matches torch', () => layerGolden('linear', () => new Linear(6, 4), one));

test('Conv1d (reflect padding, stride 2) matches torch', () =>
  layerGolden('conv1d_reflect', () => new Conv1d(4, 5, 3, { stride: 2, padding: 1, paddingMode: 'reflect' }), one));

test('Conv2d matches torch', () =>
  layerGolden('conv2d', () => new Conv2d(3, 4, [3, 5], { stride: [2, 1], padding: [1, 2] }), one));

test("Conv2d with groups, dilation, padding 'same' and no bias matches torch", () =>
  layerGolden(
    'conv2d_groups',
    () => new Conv2d(4, 6, 3, { groups: 2, dilation: 2, bias: false, padding: 'same' }),
    one,
  ));

test('ConvTranspose2d (stride, padding, outputPadding, groups) matches torch', () =>
  layerGolden(
    'conv_transpose2d',
    () => new ConvTranspose2d(4, 6, [4, 3], { stride: [2, 1], padding: [1, 1], outputPadding: [1, 0], groups: 2 }),
    one,
  ));

test('InstanceNorm2d (affine) matches torch', () =>
  layerGolden('instance_norm2d', () => new InstanceNorm2d(4, { affine: true }), one));

test('BatchNorm2d in training matches torch, running stats and num_batches_tracked included', () =>
  layerGolden('batch_norm2d_train', () => new BatchNorm2d(4, { momentum: 0.2 }), one, { train: true }));

test('BatchNorm2d in eval uses the running stats as torch', () =>
  layerGolden('batch_norm2d_eval', () => new BatchNorm2d(4), one, { train: false }));

test('BatchNorm1d with momentum null keeps a cumulative average as torch', () =>
  layerGolden('batch_norm1d_cumulative', () => new BatchNorm1d(5, { momentum: null }), one, { train: true }));

test('LayerNorm matches torch', () => layerGolden('layer_norm', () => new LayerNorm([4, 5]), one));

test('bidirectional 2-layer batch-first LSTM with an initial state matches torch', () =>
  layerGolden(
    'lstm_bidir2_batchfirst',
    () => new LSTM(5, 6, { numLayers: 2, bidirectional: true, batchFirst: true }),
    (m, x, f) => (m as LSTM).forward(x, { h: get(f, 'h0'), c: get(f, 'c0') }),
    { extra: ['h0', 'c0'] },
  ));

test('2-layer GRU matches torch', () =>
  layerGolden(
    'gru2',
    () => new GRU(5, 6, { numLayers: 2 }),
    (m, x) => (m as GRU).forward(x),
  ));

test('PixelShuffle matches torch', () => layerGolden('pixel_shuffle', () => new PixelShuffle(2), one));

test('GLU matches torch', () => layerGolden('glu', () => new GLU(1), one));

test('MaxPool2d matches torch', () =>
  layerGolden('max_pool2d', () => new MaxPool2d([2, 3], { stride: 2, padding: 1 }), one));

test('dropout draws the same mask as torch from the same seed', () => {
  const before = memory().numTensors;
  tidy(() => {
    const f = loadFixture('dropout_seed7');
    manualSeed(7);
    assertClose(dropout(get(f, 'input'), 0.3, true), get(f, 'output'), 'dropout', 0, 0);
  });
  assert.equal(memory().numTensors, before);
});

/** A loss golden: value and gradient w.r.t. the input of loss·probe. */
function lossGolden(name: string, fn: (x: Tensor, target: Tensor, f: Fixture) => Tensor): void {
  const before = memory().numTensors;
  tidy(() => {
    const f = loadFixture(name);
    const x = get(f, 'input').requiresGrad_(true);
    const out = fn(x, get(f, 'target'), f);
    assertClose(out, get(f, 'output'), `${name} value`);
    out.mul(get(f, 'probe.output')).sum().backward();
    assertClose(x.grad, get(f, 'grad.input'), `${name} grad of input`);
  });
  assert.equal(memory().numTensors, before);
}

test('crossEntropy with hard targets, class weights, ignoreIndex and label smoothing matches torch', () =>
  lossGolden('ce_hard', (x, t, f) => crossEntropy(x, t, { weight: get(f, 'weight'), labelSmoothing: 0.1 })));

test("crossEntropy over (N, C, T) with reduction 'none' matches torch", () =>
  lossGolden('ce_hard_none', (x, t) => crossEntropy(x, t, { reduction: 'none' })));

test('crossEntropy with soft (probability) targets matches torch', () =>
  lossGolden('ce_soft', (x, t, f) => crossEntropy(x, t, { weight: get(f, 'weight'), labelSmoothing: 0.2 })));

test('bceWithLogits with posWeight matches torch', () =>
  lossGolden('bce_logits', (x, t, f) => bceWithLogits(x, t, { posWeight: get(f, 'weight') })));

test("mseLoss with reduction 'sum' matches torch", () =>
  lossGolden('mse_sum', (x, t) => mseLoss(x, t, { reduction: 'sum' })));

test('l1Loss matches torch', () => lossGolden('l1', (x, t) => l1Loss(x, t)));
