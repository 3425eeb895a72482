// The obfuscator's optional identity warm-up (ObfuscatorTrainConfig.identityWarmupSteps, not in the paper):
// F_σ is first fitted to the identity, MSE(F_σ(X), X), so that a CPU budget of a few hundred joint steps
// starts from an obfuscator T can already read. The warm-up reads neither T nor λ_p, so with a `cache` file
// its result (F_σ and its optimiser) is kept and loaded by every obfuscator with the same warm-up identity:
// a sweep's points share one (bit-identical to warming each up, tested in obfuscator-method.test.ts).
import type { SpecSet } from '../data/spec-set.js';
import { cropBatch } from '../data/spec-set.js';
import type { CycleGanVc2Generator } from '../models/cyclegan-vc2.js';
import type { Adam, SGD } from '../optim/index.js';
import { manualSeed, tidy } from '../tensor/index.js';
import { Progress } from '../util/progress.js';
import { Rng } from '../util/rng.js';
import { lossA } from './losses.js';
import type { CycleGanVc2Config } from '../models/cyclegan-vc2.js';
import { loadCheckpoint, saveCheckpoint } from './checkpoint.js';
import { amp, onDevice, onRank0Only, perRankBatch, scalerFor, syncedStep, type Placement } from './placement.js';
import { describeSet, stageIdentity, usableCheckpoint, type StageIdentity } from './stage.js';

/** The parts of ObfuscatorTrainConfig the warm-up reads. */
export type WarmupConfig = {
  seed: number;
  batchSize: number;
  cropFrames: number;
  identityWarmupSteps: number;
  /** Frames of context on each side (window-aware training): the warm-up crops the same length. */
  contextFrames?: number;
  maxNorm: number;
  optimizer: 'sgd' | 'adam';
  lr: number;
  momentum: number;
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

/** Where a warm-up is kept, and what it depends on besides its config. */
export interface WarmupCache {
  /** The file, e.g. `<runDir>/obfuscator-warmup.safetensors`. */
  path: string;
  /** The obfuscator's seed stage (its initial weights), architecture, training set and inputs. */
  stage: string;
  obfuscator: CycleGanVc2Config;
  inputs: Record<string, unknown>;
  log?: ((line: string) => void) | undefined;
}

/** The identity of a warm-up: what its result depends on (not T, not λ_p, not the deobfuscator). */
export function warmupIdentity(c: WarmupConfig, train: SpecSet, cache: WarmupCache, P: Placement): StageIdentity {
  const { seed, batchSize, cropFrames, identityWarmupSteps, contextFrames, maxNorm, optimizer, lr, momentum } = c;
  return stageIdentity(
    `${cache.stage}/identity-warmup`,
    {
      warmup: { seed, batchSize, cropFrames, identityWarmupSteps, contextFrames, maxNorm, optimizer, lr, momentum },
      obfuscator: cache.obfuscator,
    },
    { train: describeSet(train), ...cache.inputs, device: P.device, amp: P.amp },
  );
}

/**
 * identityWarmup, or its result loaded from `cache.path` when that file was made by the same warm-up;
 * a new result is saved there. A data-parallel run (world size > 1) warms up without the file.
 */
export async function cachedIdentityWarmup(
  obf: CycleGanVc2Generator,
  opt: SGD | Adam,
  train: SpecSet,
  c: WarmupConfig,
  quiet: boolean,
  P: Placement,
  cache?: WarmupCache,
): Promise<void> {
  if (cache === undefined || P.worldSize > 1) return identityWarmup(obf, opt, train, c, quiet, P);
  const id = warmupIdentity(c, train, cache, P);
  const parts = { modules: { obfuscator: obf }, optimizers: { obfuscator: opt } };
  const opts = { resume: true, retrain: true, log: cache.log, label: 'identity warm-up' };
  if (usableCheckpoint(cache.path, id, opts) !== undefined) {
    loadCheckpoint(cache.path, parts);
    cache.log?.(`  identity warm-up: loaded ${cache.path}`);
    return;
  }
  await identityWarmup(obf, opt, train, c, quiet, P);
  await onRank0Only(P, () => saveCheckpoint(cache.path, parts, { epoch: 0, stage: id }), 'the identity warm-up');
}
