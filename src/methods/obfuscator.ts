// Opt-in obfuscator training (Wang et al. 2022, §2–3 of the spec): with the target model T frozen, the
// obfuscator F_σ and the deobfuscator F_μ are trained jointly, alternating per batch (configurable):
//   1) deobfuscator step: L_a = MSE(F_μ(X̃), X) on X̃ = F_σ(X) held constant;
//   2) obfuscator step:   L_σ = λ_t·L_t − λ_p·L_p with T and F_μ frozen (F_γ(X) and T(X) under noGrad);
// SGD lr 1e-2 momentum 0.9 for both (the paper), a checkpoint every epoch, --resume, per-epoch validation.
import { existsSync } from 'node:fs';
import { check, checkPosInt, resolveConfig } from '../config/resolve.js';
import { CycleGanVc2Generator, type CycleGanVc2Config, type LatentStage } from '../models/cyclegan-vc2.js';
import type { DeepSpeech2 } from '../models/deepspeech2.js';
import { Adam, SGD, clipGradNorm_ } from '../optim/index.js';
import { manualSeed, noGrad, tidy, type Tensor } from '../tensor/index.js';
import { Progress } from '../util/progress.js';
import { Rng } from '../util/rng.js';
import { batchIndices, cropBatch, utterance, type LabelledSet, type SpecSet } from '../data/spec-set.js';
import { loadCheckpoint, saveCheckpoint } from './checkpoint.js';
import { accuracy, predict } from './classifier.js';
import { lossA, lossP, lossSigma, lossT } from './losses.js';

export interface ObfuscatorTrainConfig {
  epochs: number;
  batchSize: number;
  /** Crop length in frames, a multiple of 4 (128 = 1.28 s, CycleGAN-VC2's n_frames). */
  cropFrames: number;
  /** Optimiser of both networks: 'sgd' (the paper) or 'adam' (converges in far fewer steps; the CPU preset). */
  optimizer: 'sgd' | 'adam';
  /** Learning rate of both networks (paper: SGD 1e-2) and SGD momentum (paper: 0.9). */
  lr: number;
  momentum: number;
  /** Weights of L_t and L_p in L_σ = λ_t·L_t − λ_p·L_p (paper: not given; spec default 1, 1). */
  lambdaT: number;
  lambdaP: number;
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
   * Privacy is never part of the selection, so it cannot flatter the attack results.
   */
  selection: 'val-target' | 'last';
  seed: number;
}

export const OBFUSCATOR_TRAIN_DEFAULTS: ObfuscatorTrainConfig = {
  epochs: 20,
  batchSize: 16,
  cropFrames: 128,
  optimizer: 'sgd',
  lr: 1e-2,
  momentum: 0.9,
  lambdaT: 1,
  lambdaP: 1,
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
  check(c.cropFrames % 4 === 0, where, 'cropFrames', 'a multiple of 4 (two stride-2 convolutions)', c.cropFrames);
  check(c.lr > 0, where, 'lr', 'a positive number', c.lr);
  check(c.optimizer === 'sgd' || c.optimizer === 'adam', where, 'optimizer', "'sgd' or 'adam'", c.optimizer);
  check(c.lambdaT >= 0 && c.lambdaP >= 0, where, 'lambdaT/lambdaP', 'non-negative', [c.lambdaT, c.lambdaP]);
  check(c.alternation === 'batch' || c.alternation === 'epoch', where, 'alternation', "'batch' or 'epoch'", c.alternation);
  check(Number.isInteger(c.warmupEpochs) && c.warmupEpochs >= 0, where, 'warmupEpochs', 'an integer >= 0', c.warmupEpochs);
  check(c.selection === 'val-target' || c.selection === 'last', where, 'selection', "'val-target' or 'last'", c.selection);
  check(Number.isInteger(c.identityWarmupSteps) && c.identityWarmupSteps >= 0, where, 'identityWarmupSteps', 'an integer >= 0', c.identityWarmupSteps);
  return c;
}

export interface ObfuscatorEpoch {
  epoch: number;
  la: number;
  lt: number;
  lp: number;
  /** Frozen T's accuracy on obfuscated validation utterances (vote counting) and on clean ones. */
  valTargetAcc: number;
  valCleanAcc: number;
  /** L_a of the deobfuscator on whole validation utterances. */
  valLa: number;
  seconds: number;
}

export interface ObfuscatorRun {
  obfuscator: CycleGanVc2Generator;
  deobfuscator: CycleGanVc2Generator;
  history: ObfuscatorEpoch[];
  /** The epoch whose networks were returned (see ObfuscatorTrainConfig.selection). */
  selectedEpoch: number;
}

export interface TrainObfuscatorOptions {
  target: DeepSpeech2;
  obfuscatorConfig: CycleGanVc2Config;
  deobfuscatorConfig: CycleGanVc2Config;
  /** Training utterances; the labels are only used for validation reporting, never in the losses. */
  train: SpecSet;
  val: LabelledSet;
  config: ObfuscatorTrainConfig;
  checkpointPath?: string;
  resume?: boolean;
  onEpoch?: (r: ObfuscatorEpoch) => void;
  quiet?: boolean;
}

interface ObfuscatorState {
  epoch: number;
  history: ObfuscatorEpoch[];
  bestEpoch: number;
  config: ObfuscatorTrainConfig;
}

/**
 * Train F_σ and F_μ against a frozen T. T's parameters are never updated (they are frozen here and
 * checked bit-identical by the tests).
 * @example const { obfuscator } = await trainObfuscator({ target, obfuscatorConfig, deobfuscatorConfig, train, val, config });
 */
export async function trainObfuscator(o: TrainObfuscatorOptions): Promise<ObfuscatorRun> {
  const c = o.config;
  const target = o.target.freeze();
  const obf = new CycleGanVc2Generator(o.obfuscatorConfig);
  const deobf = new CycleGanVc2Generator(o.deobfuscatorConfig);
  const makeOpt = (ps: Tensor[]): SGD | Adam => (c.optimizer === 'adam' ? new Adam(ps, { lr: c.lr }) : new SGD(ps, { lr: c.lr, momentum: c.momentum }));
  const optSigma = makeOpt(obf.parameters());
  const optMu = makeOpt(deobf.parameters());
  // the selected epoch's networks (see `selection`), checkpointed beside the current ones
  const bestObf = new CycleGanVc2Generator(o.obfuscatorConfig);
  const bestDeobf = new CycleGanVc2Generator(o.deobfuscatorConfig);
  const parts = {
    modules: { obfuscator: obf, deobfuscator: deobf, bestObfuscator: bestObf, bestDeobfuscator: bestDeobf },
    optimizers: { obfuscator: optSigma, deobfuscator: optMu },
  };
  let st: ObfuscatorState = { epoch: 0, history: [], bestEpoch: -1, config: c };
  if (o.resume && o.checkpointPath !== undefined && existsSync(o.checkpointPath)) {
    st = loadCheckpoint<ObfuscatorState>(o.checkpointPath, parts);
  }
  const n = o.train.specs.length;
  if (st.epoch === 0 && c.identityWarmupSteps > 0) identityWarmup(obf, optSigma, o.train, c, o.quiet ?? false);
  const bar = o.quiet ? null : new Progress({ total: (c.epochs - st.epoch) * Math.ceil(n / c.batchSize), label: 'obfuscator' });

  for (let epoch = st.epoch; epoch < c.epochs; epoch++) {
    const t0 = Date.now();
    const rng = new Rng(c.seed).derive(`epoch${epoch}`);
    manualSeed(c.seed * 1000 + epoch);
    obf.train();
    deobf.train();
    const trainMu = c.alternation === 'batch' || epoch % 2 === 0 || epoch < c.warmupEpochs;
    const trainSigma = epoch >= c.warmupEpochs && (c.alternation === 'batch' || epoch % 2 === 1);
    const sums = { la: 0, lt: 0, lp: 0, n: 0 };
    for (const idx of batchIndices(n, c.batchSize, rng)) {
      const x = cropBatch(o.train, idx, c.cropFrames, rng); // (B, F, L)
      // 1) deobfuscator step(s): only μ learns; X̃ is a constant here
      if (trainMu) {
        const xt = noGrad(() => tidy(() => obf.forward(x))); // (B, F, L)
        for (let k = 0; k < c.deobfuscatorSteps; k++) {
          sums.la += tidy(() => {
            const la = lossA(deobf.forward(xt), x);
            optMu.zeroGrad();
            la.backward();
            if (c.maxNorm > 0) clipGradNorm_(deobf.parameters(), c.maxNorm);
            optMu.step();
            return la.item() / c.deobfuscatorSteps; // host sync
          });
        }
        xt.dispose();
      }
      // 2) obfuscator step: only σ learns; T and F_μ are frozen, their clean-side outputs are constants
      if (trainSigma) {
        deobf.requiresGrad_(false);
        const [lt, lp] = tidy(() => {
          const { ls, lt: ltT, lp: lpT } = obfuscatorObjective(target, obf, deobf, x, c);
          optSigma.zeroGrad();
          ls.backward();
          if (c.maxNorm > 0) clipGradNorm_(obf.parameters(), c.maxNorm);
          optSigma.step();
          return [ltT.item(), lpT.item()]; // host sync
        });
        deobf.requiresGrad_(true);
        sums.lt += lt;
        sums.lp += lp;
      }
      x.dispose();
      sums.n += 1;
      bar?.tick();
    }
    const v = validate(target, obf, deobf, o.val);
    const rec: ObfuscatorEpoch = {
      epoch, la: sums.la / sums.n, lt: sums.lt / sums.n, lp: sums.lp / sums.n, ...v, seconds: (Date.now() - t0) / 1000,
    };
    st.history.push(rec);
    const best = st.history[st.bestEpoch];
    if (c.selection === 'last' || best === undefined || rec.valTargetAcc >= best.valTargetAcc) {
      st.bestEpoch = epoch;
      bestObf.loadStateDict(obf.stateDict());
      bestDeobf.loadStateDict(deobf.stateDict());
    }
    st.epoch = epoch + 1;
    if (o.checkpointPath !== undefined) saveCheckpoint(o.checkpointPath, parts, st);
    o.onEpoch?.(rec);
  }
  bar?.done();
  optSigma.dispose();
  optMu.dispose();
  obf.dispose();
  deobf.dispose();
  return { obfuscator: bestObf.eval(), deobfuscator: bestDeobf.eval(), history: st.history, selectedEpoch: st.bestEpoch };
}

/** Fit F_σ to the identity for `identityWarmupSteps` steps (see ObfuscatorTrainConfig). */
function identityWarmup(obf: CycleGanVc2Generator, opt: { zeroGrad(): void; step(): void }, train: SpecSet, c: ObfuscatorTrainConfig, quiet: boolean): void {
  const rng = new Rng(c.seed).derive('identity-warmup');
  manualSeed(c.seed * 1000 + 999);
  const bar = quiet ? null : new Progress({ total: c.identityWarmupSteps, label: 'obfuscator identity warm-up' });
  obf.train();
  for (let step = 0; step < c.identityWarmupSteps; step++) {
    const idx = Array.from({ length: c.batchSize }, () => rng.int(train.specs.length));
    tidy(() => {
      const x = cropBatch(train, idx, c.cropFrames, rng);
      const l = lossA(obf.forward(x), x); // same MSE as L_a, towards X̃ = X
      opt.zeroGrad();
      l.backward();
      if (c.maxNorm > 0) clipGradNorm_(obf.parameters(), c.maxNorm);
      opt.step();
    });
    bar?.tick();
  }
  bar?.done();
}

/**
 * The obfuscator's objective on one batch: L_σ = λ_t·L_t − λ_p·L_p, where T(X) and F_γ(X) are computed
 * without gradient (constants), so after backward only F_σ (and anything else left trainable) holds
 * gradients. The caller freezes F_μ's parameters; T is frozen for good.
 * @param x clean batch (B, F, L)
 */
export function obfuscatorObjective(target: DeepSpeech2, obf: CycleGanVc2Generator, deobf: CycleGanVc2Generator, x: Tensor,
  c: Pick<ObfuscatorTrainConfig, 'lambdaT' | 'lambdaP' | 'latentStage'>): { ls: Tensor; lt: Tensor; lp: Tensor } {
  const p = noGrad(() => target.forward(x)); // (B, T', K)
  const zx = noGrad(() => deobf.latent(x, c.latentStage)); // e.g. (B, C, L/4)
  const xt = obf.forward(x); // X̃ (B, F, L)
  const lt = lossT(target.forward(xt), p);
  const lp = lossP(deobf.latent(xt, c.latentStage), zx);
  return { ls: lossSigma(lt, lp, c.lambdaT, c.lambdaP), lt, lp };
}

/** Target accuracy on obfuscated and clean validation utterances, and the deobfuscator's L_a. */
function validate(target: DeepSpeech2, obf: CycleGanVc2Generator, deobf: CycleGanVc2Generator, val: LabelledSet):
  { valTargetAcc: number; valCleanAcc: number; valLa: number } {
  obf.eval();
  deobf.eval();
  const obfuscate = (x: Tensor): Tensor => obf.forward(x);
  const valTargetAcc = accuracy(predict(target, val.set, obfuscate), val.labels);
  const valCleanAcc = accuracy(predict(target, val.set), val.labels);
  let la = 0;
  noGrad(() => {
    for (let i = 0; i < val.set.specs.length; i++) {
      la += tidy(() => {
        const x = utterance(val.set, i);
        return lossA(deobf.forward(obf.forward(x)), x).item();
      });
    }
  });
  obf.train();
  deobf.train();
  return { valTargetAcc, valCleanAcc, valLa: la / Math.max(1, val.set.specs.length) };
}
