// Target-model training speed (issue 15): one DeepSpeech2 step as src/methods/classifier.ts runs it (per-step
// cross-entropy against the utterance label, AdamW, clipping at 400, vote counting, a host sync) on a batch
// of 16 × 161 × 128 at the paper's size, beside eager PyTorch doing the same step (bench/peers/training.py).
import type { BenchRow } from './types.js';
import { manualSeed, randn, tensor, tidy } from '../src/tensor/index.js';
import { DeepSpeech2, DS2_PRESETS, resolveDeepSpeech2Config, voteCount } from '../src/models/deepspeech2.js';
import { crossEntropy } from '../src/nn/index.js';
import { AdamW, clipGradNorm_ } from '../src/optim/index.js';
import { formatValue } from './format.js';
import { timeRow, versus } from './peer.js';

export async function benchTarget(): Promise<BenchRow[]> {
  const [batch, frames, numClasses] = [16, 128, 16];
  manualSeed(0);
  const model = new DeepSpeech2(resolveDeepSpeech2Config({ ...DS2_PRESETS.paper, numClasses }));
  const params = model.parameters();
  const opt = new AdamW(params, { lr: 1e-3, weightDecay: 1e-5 }); // CLASSIFIER_TRAIN_DEFAULTS
  const x = randn([batch, 161, frames]);
  const labels = Array.from({ length: batch }, (_, i) => (i * 7) % numClasses);
  const once = (): void =>
    void tidy(() => {
      const logits = model.forward(x); // (B, T', K)
      const [b, t, k] = logits.shape as [number, number, number];
      const y = tensor(
        BigInt64Array.from({ length: b * t }, (_, j) => BigInt(labels[Math.floor(j / t)]!)),
        [b * t],
      );
      const l = crossEntropy(logits.reshape([b * t, k]), y);
      opt.zeroGrad();
      l.backward();
      clipGradNorm_(params, 400);
      opt.step();
      voteCount(logits.detach());
      return l.item();
    });
  const v = await versus(
    once,
    { case: 'training.ds2_step', args: { preset: 'paper', num_classes: numClasses, batch, frames } },
    { warmup: 2, repeats: 7 },
  );
  model.dispose();
  opt.dispose();
  x.dispose();
  return [
    timeRow(
      'target',
      `DS2 target step, 16 × 128 frames (paper size ${DS2_PRESETS.paper.rnnLayers ?? 5}×64, AdamW)`,
      v,
      'ms',
      1e3,
      { note: `best ${formatValue(v.earmark.best * 1e3)} ms` },
    ),
  ];
}
