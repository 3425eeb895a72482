// RDAL's supervised attacker D^τ (a fresh MLP on frozen latents, early stop on validation BCE), the
// weight replacement D ← D^τ, and the latent helpers the evaluation's speech and gender attackers share.
import { gatherClips, type SoundscapeSet } from '../../data/soundscape-set.js';
import { batchIndices } from '../../data/spec-set.js';
import { SpeechMlp, type SedEncoder } from '../../models/sed-cnn.js';
import { bceWithLogits } from '../../nn/index.js';
import { SGD, type OptimizerStateDict } from '../../optim/index.js';
import { stageSeed } from '../../config/fingerprint.js';
import { batchTo, deviceOf, manualSeed, noGrad, tensor, tidy, type Tensor } from '../../tensor/index.js';
import type { Rng } from '../../util/rng.js';
import type { AttackerTrainConfig } from './config.js';

/** Binary labels as a (n, 1) float column (BCE targets). */
export const floatLabels = (ys: readonly number[]): Tensor => tensor(Float32Array.from(ys), [ys.length, 1]);

/**
 * Latents z = F(x) of every clip of a set, F in eval mode (BatchNorm running stats, no dropout), so they
 * are deterministic and can be cached for attacker training (spec §3 note c). Returns (n, latent).
 * @example const z = encodeSet(encoder, data.val); // Float32Array of n·64
 */
export function encodeSet(encoder: SedEncoder, s: SoundscapeSet, batch = 64): Float32Array {
  const was = encoder.training;
  encoder.eval();
  const d = encoder.config.latent;
  const out = new Float32Array(s.n * d);
  noGrad(() => {
    for (let i = 0; i < s.n; i += batch) {
      const idx = Array.from({ length: Math.min(batch, s.n - i) }, (_, j) => i + j);
      const x = (): Tensor => batchTo(gatherClips(s, 'logmel', idx), deviceOf(encoder.parameters()[0]!)); // to F's device
      out.set(
        tidy(() => encoder.forward(x()).float().contiguous().toFloat32Array()),
        i * d,
      );
    }
  });
  encoder.train(was);
  return out;
}

function rows(z: Float32Array, d: number, idx: readonly number[]): Tensor {
  const out = new Float32Array(idx.length * d);
  for (const [b, i] of idx.entries()) out.set(z.subarray(i * d, (i + 1) * d), b * d);
  return tensor(out, [idx.length, d]);
}

/** Sigmoid outputs of a speech MLP on cached latents (eval mode). */
export function mlpProbabilities(mlp: SpeechMlp, z: Float32Array, d: number): Float32Array {
  const was = mlp.training;
  mlp.eval();
  const n = z.length / d;
  const p = noGrad(() =>
    tidy(() =>
      mlp
        .forward(tensor(z, [n, d]))
        .sigmoid()
        .reshape([n])
        .toFloat32Array(),
    ),
  );
  mlp.train(was);
  return p;
}

function meanBce(mlp: SpeechMlp, z: Float32Array, d: number, y: readonly number[]): number {
  const was = mlp.training;
  mlp.eval();
  const v = noGrad(() => tidy(() => bceWithLogits(mlp.forward(tensor(z, [y.length, d])), floatLabels(y)).item()));
  mlp.train(was);
  return v;
}

export interface LatentSet {
  /** (n, d) latents. */
  z: Float32Array;
  /** Binary label per row. */
  y: number[];
}

export interface AttackerRun {
  /** The attacker at its lowest validation BCE (eval mode). */
  model: SpeechMlp;
  bestValBce: number;
  bestEpoch: number;
  epochs: number;
}

/**
 * Train a fresh MLP (SGD, early stop on validation BCE, best state kept) on cached latents: RDAL's
 * D^τ, and the evaluation's speech and gender attackers. `rng` draws the batches and names the stage:
 * the MLP is built right after manualSeed(stageSeed(rng.seed, 'attacker')), and a derived stream's seed
 * depends only on its parent's seed and name (new Rng(seed).derive('verify12')), never on what ran before.
 * @example const { model, bestValBce } = trainAttacker(train, val, 64, cfg.attacker, new Rng(seed).derive('speech'));
 */
export function trainAttacker(
  train: LatentSet,
  val: LatentSet,
  d: number,
  c: AttackerTrainConfig,
  rng: Rng,
): AttackerRun {
  manualSeed(stageSeed(rng.seed, 'attacker'));
  const model = new SpeechMlp(d);
  const best = new SpeechMlp(d);
  const opt = new SGD(model.parameters(), { lr: c.lr, momentum: c.momentum });
  let bestValBce = Infinity;
  let bestEpoch = -1;
  let epoch = 0;
  for (; epoch < c.maxEpochs; epoch++) {
    model.train();
    for (const idx of batchIndices(train.y.length, c.batchSize, rng)) {
      tidy(() => {
        const loss = bceWithLogits(model.forward(rows(train.z, d, idx)), floatLabels(idx.map((i) => train.y[i]!)));
        opt.zeroGrad();
        loss.backward();
        opt.step();
      });
    }
    const v = meanBce(model, val.z, d, val.y);
    if (v < bestValBce) {
      bestValBce = v;
      bestEpoch = epoch;
      best.loadStateDict(model.stateDict());
    } else if (epoch - bestEpoch > c.patience) {
      epoch++;
      break;
    }
  }
  model.dispose();
  opt.dispose();
  return { model: best.eval(), bestValBce, bestEpoch, epochs: epoch };
}

/**
 * RDAL's weight replacement: D ← D^τ (exact copy of every parameter and buffer). With 'reset' the SGD
 * momentum of D's parameters (indices `first`…`first + |D|` in `opt`) is dropped, so the next step
 * starts it afresh from the gradient; 'keep' leaves it (the reference does not rebuild its optimiser).
 * @example replaceAdversary(d, fresh.model, opt, nF + nC, 'keep');
 */
export function replaceAdversary(
  adversary: SpeechMlp,
  fresh: SpeechMlp,
  opt: SGD,
  first: number,
  momentum: 'keep' | 'reset',
): void {
  adversary.loadStateDict(fresh.stateDict());
  if (momentum === 'keep') return;
  const n = adversary.parameters().length;
  const sd: OptimizerStateDict = opt.stateDict();
  const tensors = new Map(
    [...sd.tensors].filter(([k]) => {
      const i = Number(k.split('.')[0]);
      return i < first || i >= first + n;
    }),
  );
  const steps = Object.fromEntries(
    Object.entries(sd.meta.steps).filter(([k]) => Number(k) < first || Number(k) >= first + n),
  );
  opt.loadStateDict({ tensors, meta: { ...sd.meta, steps } });
}
