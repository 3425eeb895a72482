// Mixed precision through libtorch's own autocast: under bfloat16 on CPU, conv and matmul outputs are
// bfloat16 while elementwise ops and losses stay float32, exactly as torch 1.13's torch.autocast('cpu')
// (checked with Debian's python3-torch, the same libtorch_cpu.so):
//   with torch.autocast('cpu', dtype=torch.bfloat16):
//     conv2d, conv1d, matmul, mm, linear → bfloat16;  x + 1 → float32;  mse_loss(y_bf16, y_f32) → float32
// Parameters and their gradients stay float32; the state is scoped and restored. float16 runs on CUDA
// only (EARMARK_TEST_DEVICE=cuda).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { conv1d, conv2d, linear } from '../src/nn/functional.js';
import { mseLoss } from '../src/nn/index.js';
import { CycleGanVc2Generator, resolveCycleGanVc2Config } from '../src/models/cyclegan-vc2.js';
import {
  autocast,
  autocastState,
  manualSeed,
  memory,
  parseAmp,
  randn,
  tidy,
  type Tensor,
} from '../src/tensor/index.js';
import { testDevice } from '../src/testing/device.js';

const device = testDevice();

function relErr(a: Tensor, b: Tensor): number {
  const x = a.toFloat32Array();
  const y = b.toFloat32Array();
  let num = 0;
  let den = 0;
  for (let i = 0; i < x.length; i++) {
    num += (x[i]! - y[i]!) ** 2;
    den += y[i]! ** 2;
  }
  return Math.sqrt(num / den);
}

test('bf16 autocast on CPU: conv and matmul in bfloat16, elementwise ops and losses in float32, as torch', () => {
  const before = memory().numTensors;
  tidy(() => {
    manualSeed(0);
    const x = randn([2, 3, 8, 8]);
    const w = randn([4, 3, 3, 3]);
    const w1 = randn([4, 3, 3]);
    const lw = randn([5, 8]);
    const fp32 = conv2d(x, w);
    const r = autocast({ device: 'cpu', dtype: 'bfloat16' }, () => {
      assert.deepEqual(autocastState('cpu'), { enabled: true, dtype: 'bfloat16' });
      const y = conv2d(x, w);
      return {
        y,
        c1: conv1d(x.select(3, 0), w1),
        mm: x.matmul(x),
        lin: linear(x, lw),
        add: x.add(1),
        mse: mseLoss(y, fp32),
      };
    });
    assert.equal(r.y.dtype, 'bfloat16');
    assert.equal(r.c1.dtype, 'bfloat16');
    assert.equal(r.mm.dtype, 'bfloat16');
    assert.equal(r.lin.dtype, 'bfloat16');
    assert.equal(r.add.dtype, 'float32');
    assert.equal(r.mse.dtype, 'float32');
    assert.ok(relErr(r.y, fp32) < 2e-2, `bf16 conv vs fp32: ${relErr(r.y, fp32)}`);
    assert.equal(autocastState('cpu').enabled, false);
  });
  assert.equal(memory().numTensors, before);
});

test('autocast is scoped: nesting, enabled: false, restored after a throw; CPU fp16 and async bodies refused', () => {
  tidy(() => {
    const a = randn([3, 3]);
    autocast({ device: 'cpu' }, () => {
      autocast({ device: 'cpu', enabled: false }, () => {
        assert.equal(autocastState('cpu').enabled, false);
        assert.equal(a.matmul(a).dtype, 'float32');
      });
      assert.equal(autocastState('cpu').enabled, true);
      assert.equal(a.matmul(a).dtype, 'bfloat16');
    });
    assert.throws(
      () =>
        autocast({ device: 'cpu' }, () => {
          throw new Error('boom');
        }),
      /boom/,
    );
    assert.equal(autocastState('cpu').enabled, false);
  });
  assert.throws(() => autocast({ device: 'cpu', dtype: 'float16' }, () => 0), /CPU autocast runs in 'bfloat16' only/);
  assert.throws(
    () => autocast({ device: 'cpu', dtype: 'int8' as never }, () => 0),
    /'dtype' must be 'bfloat16' or 'float16'/,
  );
  assert.throws(() => autocast({ device: 'cpu' }, async () => 0), /'fn' must be synchronous/);
  assert.equal(autocastState('cpu').enabled, false);
  assert.equal(parseAmp('bf16'), 'bfloat16');
  assert.equal(parseAmp('fp16'), 'float16');
  assert.equal(parseAmp('off'), null);
  assert.throws(() => parseAmp('fp8'), /'--amp' must be 'bf16', 'fp16' or 'off', got 'fp8'/);
});

test(`an obfuscator step under autocast on ${device}: low-precision activations, float32 gradients near fp32's`, () => {
  const before = memory().numTensors;
  const dtype = device === 'cpu' ? 'bfloat16' : 'float16';
  manualSeed(4);
  const gen = new CycleGanVc2Generator(resolveCycleGanVc2Config({ channels: 4, residualBlocks: 1 })).to(device);
  const x = tidy(() => randn([2, 161, 16]).to(device));
  const grads = (amp: boolean): Tensor[] =>
    tidy(() => {
      gen.zeroGrad();
      const loss = autocast({ device, dtype, enabled: amp }, () => {
        const y = gen.forward(x);
        assert.equal(y.dtype, amp ? dtype : 'float32');
        return mseLoss(y, x);
      });
      assert.equal(loss.dtype, 'float32');
      loss.backward(); // outside autocast, as torch recommends
      return gen.parameters().map((p) => p.grad!.clone());
    });
  const ref = grads(false);
  const low = grads(true);
  const w = gen.namedParameters().findIndex(([k]) => k === 'lastConvLayer.weight');
  assert.equal(low[w]!.dtype, 'float32');
  assert.ok(relErr(low[w]!, ref[w]!) < 5e-2, `grad rel. error ${relErr(low[w]!, ref[w]!)}`);
  for (const t of [...ref, ...low]) t.dispose();
  gen.dispose();
  x.dispose();
  assert.equal(memory().numTensors, before);
});
