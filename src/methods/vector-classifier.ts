// Training a VectorClassifier: cross-entropy on mini-batches of vectors with Adam, keeping the epoch with
// the best validation accuracy (ADR's target model and attackers on x-vectors).
import { stageSeed } from '../config/fingerprint.js';
import { check, checkPosInt, resolveConfig } from '../config/resolve.js';
import { VectorClassifier } from '../models/vector-classifier.js';
import { crossEntropy } from '../nn/index.js';
import { Adam } from '../optim/index.js';
import { manualSeed, noGrad, tensor, tidy, type Tensor } from '../tensor/index.js';
import { Rng } from '../util/rng.js';

export interface VectorClassifierConfig {
  /** Hidden width of the one-hidden-layer MLP (0: logistic regression). */
  hidden: number;
  epochs: number;
  batchSize: number;
  lr: number;
  weightDecay: number;
  seed: number;
}

export const VECTOR_CLASSIFIER_DEFAULTS: VectorClassifierConfig = {
  hidden: 256,
  epochs: 60,
  batchSize: 32,
  lr: 1e-3,
  weightDecay: 1e-4,
  seed: 0,
};

export function resolveVectorClassifierConfig(partial: unknown = {}): VectorClassifierConfig {
  const c = resolveConfig('VectorClassifierConfig', VECTOR_CLASSIFIER_DEFAULTS, partial);
  for (const k of ['epochs', 'batchSize'] as const) checkPosInt('VectorClassifierConfig', k, c[k]);
  check(
    Number.isInteger(c.hidden) && c.hidden >= 0,
    'VectorClassifierConfig',
    'hidden',
    'a non-negative integer',
    c.hidden,
  );
  return c;
}

/** Vectors and one integer label each. */
export interface VectorSet {
  x: Float32Array[];
  y: number[];
}

function matrix(x: readonly Float32Array[], idx: readonly number[]): Tensor {
  const d = x[0]!.length;
  const out = new Float32Array(idx.length * d);
  idx.forEach((i, j) => out.set(x[i]!, j * d));
  return tensor(out, [idx.length, d]);
}

function predictVectors(m: VectorClassifier, x: readonly Float32Array[]): number[] {
  if (x.length === 0) return [];
  return noGrad(() =>
    tidy(() =>
      Array.from(
        m
          .forward(
            matrix(
              x,
              x.map((_, i) => i),
            ),
          )
          .argmax(1)
          .data() as BigInt64Array,
        Number,
      ),
    ),
  );
}

/**
 * Train an MLP on vectors (cross-entropy, Adam), keeping the epoch with the best validation accuracy;
 * returns its predictions function. The model is disposed by `dispose()`. It is built right after
 * manualSeed(stageSeed(c.seed, stage)), so two classifiers of one run start from different weights.
 * @example const clf = trainVectorClassifier(train, val, 2, config, 'adr-informed-gender');
 */
export function trainVectorClassifier(
  train: VectorSet,
  val: VectorSet,
  k: number,
  c: VectorClassifierConfig,
  stage = 'vector-classifier',
): { predict: (x: readonly Float32Array[]) => number[]; bestValAcc: number; dispose: () => void } {
  if (train.x.length === 0) throw new RangeError('trainVectorClassifier: the training set is empty');
  const dim = train.x[0]!.length;
  manualSeed(stageSeed(c.seed, stage));
  const model = new VectorClassifier(dim, c.hidden, k);
  const best = new VectorClassifier(dim, c.hidden, k);
  best.loadStateDict(model.stateDict());
  const opt = new Adam(model.parameters(), { lr: c.lr, weightDecay: c.weightDecay });
  const rng = new Rng(c.seed).derive(stage);
  let bestAcc = -1;
  for (let e = 0; e < c.epochs; e++) {
    const order = rng.shuffle(train.x.map((_, i) => i));
    for (let i = 0; i < order.length; i += c.batchSize) {
      const idx = order.slice(i, i + c.batchSize);
      tidy(() => {
        const l = crossEntropy(
          model.forward(matrix(train.x, idx)),
          tensor(
            BigInt64Array.from(idx, (j) => BigInt(train.y[j]!)),
            [idx.length],
          ),
        );
        opt.zeroGrad();
        l.backward();
        opt.step();
      });
    }
    const evalSet = val.x.length > 0 ? val : train;
    const p = predictVectors(model, evalSet.x);
    const acc = p.filter((v, i) => v === evalSet.y[i]).length / p.length;
    if (acc > bestAcc) {
      bestAcc = acc;
      best.loadStateDict(model.stateDict());
    }
  }
  opt.dispose();
  model.dispose();
  return { predict: (x) => predictVectors(best, x), bestValAcc: bestAcc, dispose: () => best.dispose() };
}
