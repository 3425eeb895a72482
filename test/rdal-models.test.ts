// RDAL's networks: parameter counts of the reference (F 1.58 M, D 5,233), its state-dict keys, shapes for
// 100 and 101 frames (true global max pool), and the mask U-Net's size restoration.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EventHead, MASK_UNET_SMALL, MaskUNet, SED_CNN_PAPER, SedEncoder, SpeechMlp } from '../src/models/sed-cnn.js';
import { memory, noGrad, randn, tidy } from '../src/tensor/index.js';

test('SedEncoder (paper widths): 1,584,576 parameters, reference keys, (B, 1, 64, T) → (B, 64) for T = 100 and 101', () => {
  const before = memory().numTensors;
  const f = new SedEncoder(SED_CNN_PAPER);
  assert.equal(f.numParameters(), 1_584_576); // spec §2: "1.58 M used parameters"
  const keys = [...f.stateDict().keys()];
  for (const k of ['block_1.0.weight', 'block_1.2.running_mean', 'block_4.0.bias', 'block_4.2.weight', 'fc.weight'])
    assert.ok(keys.includes(k), k);
  f.eval();
  noGrad(() =>
    tidy(() => {
      assert.deepEqual(f.forward(randn([2, 1, 64, 100])).shape, [2, 64]);
      assert.deepEqual(f.forward(randn([1, 1, 64, 101])).shape, [1, 64]);
    }),
  );
  f.dispose();
  assert.equal(memory().numTensors, before);
});

test('SpeechMlp: 5,233 parameters for a 64-d latent (48-32-16-1), keys block_1.0 … block_4.0; EventHead 64→12', () => {
  const before = memory().numTensors;
  const d = new SpeechMlp(64, { grl: true });
  assert.equal(d.numParameters(), 5233);
  assert.deepEqual(
    [...d.stateDict().keys()],
    [
      'block_1.0.weight',
      'block_1.0.bias',
      'block_2.0.weight',
      'block_2.0.bias',
      'block_3.0.weight',
      'block_3.0.bias',
      'block_4.0.weight',
      'block_4.0.bias',
    ],
  );
  const c = new EventHead(64, 12);
  assert.deepEqual([...c.stateDict().keys()], ['fc.weight', 'fc.bias']);
  noGrad(() => tidy(() => assert.deepEqual(c.forward(d.forward(randn([3, 64])).expand([3, 64])).shape, [3, 12])));
  d.dispose();
  c.dispose();
  assert.equal(memory().numTensors, before);
});

test('MaskUNet: a [0, 1] mask of the input size, also for odd sizes', () => {
  const before = memory().numTensors;
  const m = new MaskUNet(MASK_UNET_SMALL).eval();
  noGrad(() =>
    tidy(() => {
      for (const [h, w] of [
        [64, 100],
        [64, 101],
        [33, 17],
      ] as const) {
        const y = m.forward(randn([2, 1, h, w]).abs());
        assert.deepEqual(y.shape, [2, 1, h, w]);
        assert.ok(y.min().item() >= 0 && y.max().item() <= 1);
      }
    }),
  );
  m.dispose();
  assert.equal(memory().numTensors, before);
});
