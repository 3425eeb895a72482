// The obfuscator's optional identity warm-up (ObfuscatorTrainConfig.identityWarmupSteps, not in the paper):
// F_σ is first fitted to the identity, MSE(F_σ(X), X), so that a CPU budget of a few hundred joint steps
// starts from an obfuscator T can already read.
import type { SpecSet } from '../data/spec-set.js';
import { cropBatch } from '../data/spec-set.js';
import type { CycleGanVc2Generator } from '../models/cyclegan-vc2.js';
import type { Adam, SGD } from '../optim/index.js';
import { manualSeed, tidy } from '../tensor/index.js';
import { Progress } from '../util/progress.js';
import { Rng } from '../util/rng.js';
import { lossA } from './losses.js';
import { amp, onDevice, perRankBatch, scalerFor, syncedStep, type Placement } from './placement.js';

/** The parts of ObfuscatorTrainConfig the warm-up reads. */
export type WarmupConfig = {
  seed: number;
  batchSize: number;
  cropFrames: number;
  identityWarmupSteps: number;
  /** Frames of context on each side (window-aware training): the warm-up crops the same length. */
  contextFrames?: number;
  maxNorm: number;
};

/**
 * Fit F_σ to the identity for `identityWarmupSteps` steps (see ObfuscatorTrainConfig). Data-parallel like
 * the epochs: every rank draws the same global batch and takes its share of it, each sample cropped from
 * its own stream (the same crops whatever the world size).
 */
export async function identityWarmup(
  obf: CycleGanVc2Generator,
  opt: SGD | Adam,
  train: SpecSet,
  c: WarmupConfig,
  quiet: boolean,
  P: Placement,
): Promise<void> {
  const rng = new Rng(c.seed).derive('identity-warmup');
  manualSeed(c.seed * 1000 + 999);
  const bar = quiet ? null : new Progress({ total: c.identityWarmupSteps, label: 'obfuscator identity warm-up' });
  const scaler = scalerFor(P);
  const share = perRankBatch(P, c.batchSize);
  obf.train();
  for (let step = 0; step < c.identityWarmupSteps; step++) {
    const all = Array.from({ length: c.batchSize }, () => rng.int(train.specs.length)); // the global batch, on every rank
    const slots = Array.from({ length: share }, (_, j) => P.rank * share + j); // this rank's positions in it
    const crops = (slot: number): Rng => new Rng(c.seed).derive(`identity-warmup/step${step}/slot${slot}`);
    const host = cropBatch(
      { ...train, specs: slots.map((j) => train.specs[all[j]!]!), frames: slots.map((j) => train.frames[all[j]!]!) },
      slots.map((_, b) => b),
      c.cropFrames + 2 * (c.contextFrames ?? 0),
      (b) => crops(slots[b]!),
    );
    const x = onDevice(P, host);
    tidy(() => {
      const l = amp(P, () => lossA(obf.forward(x), x)); // same MSE as L_a, towards X̃ = X (float32)
      opt.zeroGrad();
      scaler.scale(l).backward();
    });
    x.dispose();
    await syncedStep(P, obf.parameters(), opt, scaler, c.maxNorm);
    bar?.tick();
  }
  bar?.done();
}
