// RDAL+M's speech mask: a U-Net pre-trained on the speech clips to recover the event's mel magnitudes,
// then frozen (checkpointed with its stage identity); the masked log-mels are computed once per set.
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { RDAL_LOGMEL } from '../../audio/functional.js';
import { stageSeed } from '../../config/fingerprint.js';
import { gatherClips, powerToDb, type SoundscapeSet } from '../../data/soundscape-set.js';
import { batchIndices } from '../../data/spec-set.js';
import { MaskUNet, type MaskUNetConfig } from '../../models/sed-cnn.js';
import { l1Loss } from '../../nn/index.js';
import { Adam } from '../../optim/index.js';
import { manualSeed, noGrad, tidy, type Tensor } from '../../tensor/index.js';
import { Progress } from '../../util/progress.js';
import { Rng } from '../../util/rng.js';
import { loadModuleWeights, readCheckpointState, saveCheckpoint } from '../checkpoint.js';
import { checkStage, describeSoundscapes, stageIdentity, type StageIdentity, type StageOptions } from '../stage.js';
import type { MaskTrainConfig } from './config.js';

/** mask ⊙ sqrt(mel power), back to power and dB: (B, 1, 64, T) mel power → (B, 1, 64, T) dB. */
function maskedLogMel(mask: MaskUNet, power: Tensor): Tensor {
  return tidy(() => {
    const mag = power.sqrt();
    const m = mask.forward(mag).mul(mag);
    const [b, , h, w] = power.shape as [number, number, number, number];
    return powerToDb(m.square().reshape([b, h, w])).reshape([b, 1, h, w]);
  });
}

export interface MaskRun {
  mask: MaskUNet;
  bestValL1: number;
  epochs: number;
}

/**
 * Pre-train RDAL+M's mask on the speech clips: L1(M(|X_mix|)⊙|X_mix|, |X_event|) on mel magnitudes,
 * Adam, early stop on validation L1; returns it frozen in eval mode.
 * @example const { mask } = trainMask(data.train, data.val, cfg.mask, cfg.maskTrain, 0);
 */
export function trainMask(
  train: SoundscapeSet,
  val: SoundscapeSet,
  mc: MaskUNetConfig,
  c: MaskTrainConfig,
  seed: number,
  quiet = true,
): MaskRun {
  manualSeed(stageSeed(seed, 'rdal-mask')); // the initial weights depend on (seed, stage) only
  const mask = new MaskUNet(mc);
  const best = new MaskUNet(mc);
  const opt = new Adam(mask.parameters(), { lr: c.lr });
  const spTrain = train.speech.flatMap((y, i) => (y === 1 ? [i] : []));
  const spVal = val.speech.flatMap((y, i) => (y === 1 ? [i] : []));
  const rng = new Rng(seed).derive('mask');
  manualSeed(seed * 7919 + 1);
  const l1 = (s: SoundscapeSet, idx: number[]): Tensor => {
    const mix = gatherClips(s, 'melPower', idx).sqrt(); // (B, 1, 64, T)
    const ev = gatherClips(s, 'eventPower', idx).sqrt();
    return l1Loss(mask.forward(mix).mul(mix), ev);
  };
  const bar = quiet ? null : new Progress({ total: c.maxEpochs, label: 'mask U-Net' });
  let bestValL1 = Infinity;
  let bestEpoch = -1;
  let epoch = 0;
  for (; epoch < c.maxEpochs; epoch++) {
    mask.train();
    for (const b of batchIndices(spTrain.length, c.batchSize, rng)) {
      tidy(() => {
        const loss = l1(
          train,
          b.map((j) => spTrain[j]!),
        );
        opt.zeroGrad();
        loss.backward();
        opt.step();
      });
    }
    mask.eval();
    const v = noGrad(() => tidy(() => l1(val, spVal).item()));
    bar?.tick();
    if (v < bestValL1) {
      bestValL1 = v;
      bestEpoch = epoch;
      best.loadStateDict(mask.stateDict());
    } else if (epoch - bestEpoch > c.patience) {
      epoch++;
      break;
    }
  }
  bar?.done();
  mask.dispose();
  opt.dispose();
  return { mask: best.eval().requiresGrad_(false), bestValL1, epochs: epoch };
}

/**
 * A copy of `s` whose log-mels are recomputed from the masked mel power (M frozen, eval mode: the
 * masking is deterministic, so it is done once per set rather than per batch).
 */
export function applyMask(mask: MaskUNet, s: SoundscapeSet, batch = 64): SoundscapeSet {
  mask.eval();
  const row = s.nMels * s.frames;
  const logmel = new Float32Array(s.n * row);
  noGrad(() => {
    for (let i = 0; i < s.n; i += batch) {
      const idx = Array.from({ length: Math.min(batch, s.n - i) }, (_, j) => i + j);
      logmel.set(
        tidy(() =>
          maskedLogMel(mask, gatherClips(s, 'melPower', idx))
            .contiguous()
            .toFloat32Array(),
        ),
        i * row,
      );
    }
  });
  return { ...s, logmel };
}

export interface TrainOrLoadMaskOptions extends Omit<StageOptions, 'stage' | 'inputs'> {
  /** The run folder: `<dir>/mask.safetensors`. */
  dir: string;
  train: SoundscapeSet;
  val: SoundscapeSet;
  mask: MaskUNetConfig;
  maskTrain: MaskTrainConfig;
  seed: number;
  /** Load a mask made by the same identity (else it is retrained, or refused with retrain: false). */
  resume?: boolean;
  quiet?: boolean;
}

/**
 * RDAL+M's mask from `<dir>/mask.safetensors` when it was made by the same config, seed and clips, or
 * trained (and saved) afresh; frozen, in eval mode.
 * @example const { mask } = trainOrLoadMask({ dir, train: data.train, val: data.val, mask: c.mask, maskTrain: c.maskTrain, seed, resume: true });
 */
export function trainOrLoadMask(o: TrainOrLoadMaskOptions): { mask: MaskUNet; trained?: MaskRun } {
  const file = path.join(o.dir, 'mask.safetensors');
  const id = stageIdentity(
    'rdal-mask',
    { mask: o.mask, maskTrain: o.maskTrain, seed: o.seed },
    { train: describeSoundscapes(o.train), val: describeSoundscapes(o.val), logmel: RDAL_LOGMEL },
  );
  if (
    o.resume &&
    existsSync(file) &&
    checkStage(file, readCheckpointState<{ stage?: StageIdentity }>(file).stage, id, { ...o, label: 'mask U-Net' })
  ) {
    const mask = new MaskUNet(o.mask);
    loadModuleWeights(file, 'mask', mask);
    return { mask: mask.eval().requiresGrad_(false) };
  }
  const m = trainMask(o.train, o.val, o.mask, o.maskTrain, o.seed, o.quiet);
  mkdirSync(o.dir, { recursive: true });
  saveCheckpoint(
    file,
    { modules: { mask: m.mask } },
    { bestValL1: m.bestValL1, epochs: m.epochs, config: o.mask, stage: id },
  );
  return { mask: m.mask, trained: m };
}
