// The obfuscator's training config (Wang et al. 2022 §8 and the spec's defaults), its defaults and its
// validation: typed, resolved once, and hashed into every obfuscator checkpoint (methods/stage.ts).
import { check, checkPosInt, resolveConfig } from '../config/resolve.js';
import type { LatentStage } from '../models/cyclegan-vc2.js';
import { checkLambdaPSchedule, type LambdaPSchedule } from './lambda-schedule.js';

export interface ObfuscatorTrainConfig {
  epochs: number;
  batchSize: number;
  /** Crop length in frames, a multiple of 4 (128 = 1.28 s, CycleGAN-VC2's n_frames). */
  cropFrames: number;
  /**
   * M, frames of context on each side (window-aware training, issue 14): the obfuscator sees crops of
   * cropFrames + 2M frames and every loss reads only the centre cropFrames, as the deployed windowed rule
   * keeps only a window's centre. 0 = the paper (the loss on the whole crop).
   */
  contextFrames: number;
  /**
   * k > 0 (with contextFrames M > 0): train through the deployed windowed rule, k windows of cropFrames + 2M frames
   * per crop of k·cropFrames + 2M, each normalised on its own, their centres stitched (obfuscator-window.ts), so
   * the losses read k·cropFrames frames however short the window. Absent or 0: one window per crop, as before.
   */
  windowsPerCrop: number | undefined;
  /** Optimiser of both networks: 'sgd' (the paper) or 'adam' (converges in far fewer steps; the CPU preset). */
  optimizer: 'sgd' | 'adam';
  /** Learning rate of both networks (paper: SGD 1e-2) and SGD momentum (paper: 0.9). */
  lr: number;
  momentum: number;
  /** Weights of L_t and L_p in L_σ = λ_t·L_t − λ_p·L_p (paper: not given; spec default 1, 1). */
  lambdaT: number;
  lambdaP: number;
  /** λ_p's warm-up and ramp in epochs (lambda-schedule.ts); absent = constant λ_p (the paper). */
  lambdaPSchedule: LambdaPSchedule | undefined;
  /**
   * L_t's targets: 'soft' (absent: the paper, T's whole posterior on X per step) or 'hard' (T's decision on the
   * crop only, losses.ts lossTHard). Absent from the identity when unset, so older checkpoints stay valid.
   */
  targetLoss: 'soft' | 'hard' | undefined;
  /**
   * L_p: 'latent' (absent: the paper, D(F_γ(X̃), F_γ(X))) or 'reconstruction' (D(F_μ(X̃), X), losses.ts
   * lossPRecon). Absent from the identity when unset.
   */
  privacyLoss: 'latent' | 'reconstruction' | undefined;
  /** Where F_γ ends inside the deobfuscator (spec default: after the 2D→1D conv). */
  latentStage: LatentStage;
  /** 'batch': both steps every batch (default); 'epoch': even epochs train F_μ, odd epochs F_σ (lab's Ergo code). */
  alternation: 'batch' | 'epoch';
  /** Deobfuscator steps per obfuscator step (with 'batch' alternation). */
  deobfuscatorSteps: number;
  /** Epochs that train only the deobfuscator before the obfuscator starts. */
  warmupEpochs: number;
  /**
   * Steps that first fit the obfuscator to the identity, MSE(F_σ(X), X), before the joint training
   * (0 = the paper's random start). Not in the paper: it lets a CPU budget of a few hundred joint steps
   * start from an obfuscator T can already read. Only approximate, so L_p's |·| is not stuck at 0.
   */
  identityWarmupSteps: number;
  /** Gradient-norm clipping for both networks; 0 disables. */
  maxNorm: number;
  /**
   * Which epoch's networks to return: 'val-target' = the highest validation accuracy of T on obfuscated
   * audio (later epochs win ties; the spec selects checkpoints on validation target accuracy), or 'last'.
   * Privacy is never part of the selection, so it cannot flatter the attack results. Under a λ_p schedule only
   * epochs that end at the full λ_p compete (else the warm-up's task-only epochs would always win).
   */
  selection: 'val-target' | 'last';
  seed: number;
}

export const OBFUSCATOR_TRAIN_DEFAULTS: ObfuscatorTrainConfig = {
  epochs: 20,
  batchSize: 16,
  cropFrames: 128,
  contextFrames: 0,
  windowsPerCrop: undefined, // absent from the identity, so older checkpoints stay valid
  optimizer: 'sgd',
  lr: 1e-2,
  momentum: 0.9,
  lambdaT: 1,
  lambdaP: 1,
  lambdaPSchedule: undefined, // absent from the identity, so older checkpoints stay valid
  targetLoss: undefined, // absent from the identity, so older checkpoints stay valid
  privacyLoss: undefined,
  latentStage: 'conv2dto1d',
  alternation: 'batch',
  deobfuscatorSteps: 1,
  warmupEpochs: 0,
  identityWarmupSteps: 0,
  maxNorm: 10,
  selection: 'val-target',
  seed: 0,
};

export function resolveObfuscatorTrainConfig(partial: unknown = {}): ObfuscatorTrainConfig {
  const where = 'ObfuscatorTrainConfig';
  const c = resolveConfig(where, OBFUSCATOR_TRAIN_DEFAULTS, partial);
  for (const k of ['epochs', 'batchSize', 'cropFrames', 'deobfuscatorSteps'] as const) checkPosInt(where, k, c[k]);
  check(
    Number.isInteger(c.contextFrames) && c.contextFrames >= 0 && (c.cropFrames + 2 * c.contextFrames) % 4 === 0,
    where,
    'contextFrames',
    'an integer >= 0 with cropFrames + 2·contextFrames a multiple of 4',
    c.contextFrames,
  );
  check(c.cropFrames % 4 === 0, where, 'cropFrames', 'a multiple of 4 (two stride-2 convolutions)', c.cropFrames);
  check(c.lr > 0, where, 'lr', 'a positive number', c.lr);
  check(c.optimizer === 'sgd' || c.optimizer === 'adam', where, 'optimizer', "'sgd' or 'adam'", c.optimizer);
  check(c.lambdaT >= 0 && c.lambdaP >= 0, where, 'lambdaT/lambdaP', 'non-negative', [c.lambdaT, c.lambdaP]);
  checkLambdaPSchedule(where, c.lambdaPSchedule);
  const tl = c.targetLoss;
  check(tl === undefined || tl === 'soft' || tl === 'hard', where, 'targetLoss', "'soft' or 'hard'", tl);
  const pl = c.privacyLoss;
  check(
    pl === undefined || pl === 'latent' || pl === 'reconstruction',
    where,
    'privacyLoss',
    "'latent' or 'reconstruction'",
    pl,
  );
  const k = c.windowsPerCrop;
  check(
    k === undefined || (Number.isInteger(k) && k >= 0 && (k === 0 || c.contextFrames > 0)),
    where,
    'windowsPerCrop',
    'an integer >= 0, and > 0 only with contextFrames > 0 (the windows need their context)',
    k,
  );
  check(
    c.alternation === 'batch' || c.alternation === 'epoch',
    where,
    'alternation',
    "'batch' or 'epoch'",
    c.alternation,
  );
  check(
    Number.isInteger(c.warmupEpochs) && c.warmupEpochs >= 0,
    where,
    'warmupEpochs',
    'an integer >= 0',
    c.warmupEpochs,
  );
  check(
    c.selection === 'val-target' || c.selection === 'last',
    where,
    'selection',
    "'val-target' or 'last'",
    c.selection,
  );
  check(
    Number.isInteger(c.identityWarmupSteps) && c.identityWarmupSteps >= 0,
    where,
    'identityWarmupSteps',
    'an integer >= 0',
    c.identityWarmupSteps,
  );
  return c;
}
