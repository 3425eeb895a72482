// The BatchNorm model, batch and loss shared by bn-worker.ts and test/distributed-batchnorm.test.ts.
import { DeepSpeech2, resolveDeepSpeech2Config } from '../../src/models/deepspeech2.js';
import { manualSeed, tensor, type Tensor } from '../../src/tensor/index.js';

/** A tiny DeepSpeech2 (BatchNorm2d in the convs, BatchNorm1d before the 2nd RNN and the head), in training mode. */
export function bnModel(seed = true): DeepSpeech2 {
  if (seed) manualSeed(3); // rank 0's seed in bn-worker
  return new DeepSpeech2(
    resolveDeepSpeech2Config({ numClasses: 3, convChannels: 2, rnnLayers: 2, hiddenSize: 8 }),
  ).train();
}

/** A fixed batch (4, 161, 16). */
export function bnBatch(): Tensor {
  return tensor(
    Float32Array.from({ length: 4 * 161 * 16 }, (_, i) => Math.sin(i * 0.37) + 0.5 * Math.cos(i * 0.011)),
    [4, 161, 16],
  );
}

/** Mean over utterances and steps of −log p(class 0). */
export function bnLoss(m: DeepSpeech2, x: Tensor): Tensor {
  return m.forward(x).logSoftmax(-1).select(-1, 0).neg().mean();
}
