// Opt-in obfuscator training (Wang et al. 2022, §2–3 of the spec): with the target model T frozen, the
// obfuscator F_σ and the deobfuscator F_μ are trained jointly, alternating per batch (configurable):
//   1) deobfuscator step: L_a = MSE(F_μ(X̃), X) on X̃ = F_σ(X) held constant;
//   2) obfuscator step:   L_σ = λ_t·L_t − λ_p·L_p with T and F_μ frozen (F_γ(X) and T(X) under noGrad);
// SGD lr 1e-2 momentum 0.9 for both (the paper), a checkpoint every epoch (with the stage's identity: the
// configs, the sets' ids, the frozen T's weights), --resume, per-epoch validation. On a device, with
// optional mixed precision, and data-parallel over a process group (methods/placement.ts): the global
// batch is split over the ranks, gradients are averaged, rank 0 alone writes the checkpoint. CycleGAN-VC2
// normalises per sample (InstanceNorm) and T is frozen in eval mode, so W ranks equal one process.
import { stageSeed } from '../config/fingerprint.js';
import { CycleGanVc2Generator, type CycleGanVc2Config } from '../models/cyclegan-vc2.js';
import type { DeepSpeech2 } from '../models/deepspeech2.js';
import { Adam, SGD, type GradScalerState } from '../optim/index.js';
import { broadcastParameters } from '../distributed/index.js';
import { batchTo, deviceOf, manualSeed, noGrad, tidy, type Tensor } from '../tensor/index.js';
import { Progress } from '../util/progress.js';
import { cropBatch, utterance, type LabelledSet, type SpecSet } from '../data/spec-set.js';
import { loadCheckpoint, saveCheckpoint } from './checkpoint.js';
import { accuracy, predict } from './classifier.js';
import { lossA, lossP, lossPRecon, lossSigma, lossT, lossTHard } from './losses.js';
import { cachedIdentityWarmup, type WarmupCache } from './identity-warmup.js';
import { competesInSelection, lambdaPAt } from './lambda-schedule.js';
import type { ObfuscatorTrainConfig } from './obfuscator-config.js';
import { obfuscateCrop } from './obfuscator-crop.js';
import { centre, cropLength, type WindowTrainConfig } from './obfuscator-window.js';
import {
  amp,
  cropRng,
  meanOverRanks,
  onDevice,
  onRank0Only,
  rank0Log,
  rankBatches,
  resolvePlacement,
  scalerFor,
  syncedStep,
  type PlacementOptions,
} from './placement.js';
import {
  describeSet,
  moduleFingerprint,
  resumeLine,
  stageIdentity,
  usableCheckpoint,
  type StageIdentity,
  type StageOptions,
} from './stage.js';

export { deployedWindow } from './obfuscator-window.js';

export {
  OBFUSCATOR_TRAIN_DEFAULTS,
  resolveObfuscatorTrainConfig,
  type ObfuscatorTrainConfig,
} from './obfuscator-config.js';

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
  /** The stage's fingerprint: what an attacker trained on this obfuscator's output names as its input. */
  fingerprint: string;
}

/**
 * `stage` (default 'obfuscator') seeds F_σ (stageSeed(seed, stage)) and F_μ (stageSeed(seed,
 * `${stage}/deobfuscator`)); the identity holds both configs, the sets' ids and the frozen T's weights
 * (hashed), plus `inputs` (e.g. the feature spec).
 */
export interface TrainObfuscatorOptions extends StageOptions, PlacementOptions {
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
  /** Keep the identity warm-up's result in this file and load it when it matches (a sweep's points share it). */
  warmupPath?: string;
}

interface ObfuscatorState {
  epoch: number;
  history: ObfuscatorEpoch[];
  bestEpoch: number;
  config: ObfuscatorTrainConfig;
  stage: StageIdentity;
  /** fp16 loss scales of F_μ's and F_σ's steps (absent without --amp fp16). */
  scalers?: { deobfuscator: GradScalerState; obfuscator: GradScalerState };
}

/**
 * Train F_σ and F_μ against a frozen T. T's parameters are never updated (they are frozen here and
 * checked bit-identical by the tests). `device`, `amp` and `processGroup` place the run (PlacementOptions);
 * T is moved to the device for the run and back after. `config.batchSize` is the global batch.
 * @example const { obfuscator } = await trainObfuscator({ target, obfuscatorConfig, deobfuscatorConfig, train, val, config });
 */
export async function trainObfuscator(o: TrainObfuscatorOptions): Promise<ObfuscatorRun> {
  const c = o.config;
  const P = resolvePlacement(o);
  const log = rank0Log(P, o.log);
  const targetHome = deviceOf(o.target.parameters()[0]!);
  const target = o.target.freeze().to(P.device);
  const id = stageIdentity(
    o.stage ?? 'obfuscator',
    { train: c, obfuscator: o.obfuscatorConfig, deobfuscator: o.deobfuscatorConfig },
    { train: describeSet(o.train), val: describeSet(o.val), target: moduleFingerprint(target), ...o.inputs },
  );
  manualSeed(stageSeed(c.seed, id.stage)); // each network's initial weights depend on (seed, stage) only
  const obf = new CycleGanVc2Generator(o.obfuscatorConfig).to(P.device);
  manualSeed(stageSeed(c.seed, `${id.stage}/deobfuscator`));
  const deobf = new CycleGanVc2Generator(o.deobfuscatorConfig).to(P.device); // before the optimisers: their state lives there too
  const optSigma = makeOptimizer(c, obf.parameters());
  const optMu = makeOptimizer(c, deobf.parameters());
  // the selected epoch's networks (see `selection`), on the host, checkpointed beside the current ones
  const bestObf = new CycleGanVc2Generator(o.obfuscatorConfig);
  const bestDeobf = new CycleGanVc2Generator(o.deobfuscatorConfig);
  const parts = {
    modules: { obfuscator: obf, deobfuscator: deobf, bestObfuscator: bestObf, bestDeobfuscator: bestDeobf },
    optimizers: { obfuscator: optSigma, deobfuscator: optMu },
  };
  let st: ObfuscatorState = { epoch: 0, history: [], bestEpoch: -1, config: c, stage: id };
  const epochs = { key: 'config.train.epochs', value: c.epochs };
  if (usableCheckpoint(o.checkpointPath, id, { ...o, log, label: 'obfuscator', epochs }) !== undefined) {
    st = { ...loadCheckpoint<ObfuscatorState>(o.checkpointPath!, parts), config: c, stage: id }; // on every rank
    log?.(resumeLine('obfuscator', st.epoch, c.epochs, o.checkpointPath!));
  }
  const scalerMu = scalerFor(P, st.scalers?.deobfuscator);
  const scalerSigma = scalerFor(P, st.scalers?.obfuscator);
  const n = o.train.specs.length;
  const quiet = (o.quiet ?? false) || P.rank !== 0;
  await broadcastParameters([obf, deobf], P.pg); // every replica starts from rank 0's networks
  if (st.epoch === 0 && c.identityWarmupSteps > 0)
    await cachedIdentityWarmup(obf, optSigma, o.train, c, quiet, P, warmupCache(o, id.stage, log));
  const steps = (c.epochs - st.epoch) * Math.ceil(n / c.batchSize);
  const bar = quiet || steps <= 0 ? null : new Progress({ total: steps, label: 'obfuscator' });

  for (let epoch = st.epoch; epoch < c.epochs; epoch++) {
    const t0 = Date.now();
    const crops = cropRng(c.seed, epoch); // one stream per sample: the crops do not depend on the sharding
    manualSeed(c.seed * 1000 + epoch);
    obf.train();
    deobf.train();
    const trainMu = c.alternation === 'batch' || epoch % 2 === 0 || epoch < c.warmupEpochs;
    const trainSigma = epoch >= c.warmupEpochs && (c.alternation === 'batch' || epoch % 2 === 1);
    const sums = { la: 0, lt: 0, lp: 0, n: 0 };
    const batches = rankBatches(P, n, c.batchSize, c.seed, epoch);
    for (const [b, idx] of batches.entries()) {
      const x = onDevice(P, cropBatch(o.train, idx, cropLength(c), crops)); // (B/W, F, k·L + 2M) on the device
      // 1) deobfuscator step(s): only μ learns; X̃ (the centre that ships) is a constant here
      if (trainMu) {
        const xt = noGrad(() => tidy(() => amp(P, () => obfuscateCrop((y) => obf.forward(y), x, c)))); // (B/W, F, k·L)
        for (let k = 0; k < c.deobfuscatorSteps; k++) {
          sums.la += tidy(() => {
            const la = amp(P, () => lossA(deobf.forward(xt), centre(x, c)));
            optMu.zeroGrad();
            scalerMu.scale(la).backward();
            return la.item() / c.deobfuscatorSteps; // host sync
          });
          await syncedStep(P, deobf.parameters(), optMu, scalerMu, c.maxNorm); // all-reduce, unscale, clip, step
        }
        xt.dispose();
      }
      // 2) obfuscator step: only σ learns; T and F_μ are frozen, their clean-side outputs are constants
      if (trainSigma) {
        deobf.requiresGrad_(false);
        const [lt, lp] = tidy(() => {
          const lambdaP = lambdaPAt(c.lambdaP, c.lambdaPSchedule, epoch + b / batches.length);
          const { ls, lt: ltT, lp: lpT } = amp(P, () => obfuscatorObjective(target, obf, deobf, x, { ...c, lambdaP }));
          optSigma.zeroGrad();
          scalerSigma.scale(ls).backward();
          return [ltT.item(), lpT.item()]; // host sync
        });
        await syncedStep(P, obf.parameters(), optSigma, scalerSigma, c.maxNorm);
        deobf.requiresGrad_(true);
        sums.lt += lt;
        sums.lp += lp;
      }
      x.dispose();
      sums.n += 1;
      bar?.tick();
    }
    [sums.la, sums.lt, sums.lp] = await meanOverRanks(P, [sums.la, sums.lt, sums.lp]); // the global batches' losses
    const v = validate(target, obf, deobf, o.val, c);
    const rec: ObfuscatorEpoch = {
      epoch,
      la: sums.la / sums.n,
      lt: sums.lt / sums.n,
      lp: sums.lp / sums.n,
      ...v,
      seconds: (Date.now() - t0) / 1000,
    };
    st.history.push(rec);
    const best = st.history[st.bestEpoch];
    const full = competesInSelection(c.lambdaPSchedule, epoch, c.epochs);
    if (full && (c.selection === 'last' || best === undefined || rec.valTargetAcc >= best.valTargetAcc)) {
      st.bestEpoch = epoch;
      bestObf.loadStateDict(obf.stateDict());
      bestDeobf.loadStateDict(deobf.stateDict());
    }
    st.epoch = epoch + 1;
    if (scalerMu.enabled) st.scalers = { deobfuscator: scalerMu.stateDict(), obfuscator: scalerSigma.stateDict() };
    const file = o.checkpointPath;
    if (file !== undefined) await onRank0Only(P, () => saveCheckpoint(file, parts, st), 'the obfuscator checkpoint');
    if (P.rank === 0) o.onEpoch?.(rec);
  }
  bar?.done();
  optSigma.dispose();
  optMu.dispose();
  obf.dispose();
  deobf.dispose();
  target.to(targetHome);
  return {
    obfuscator: bestObf.eval(),
    deobfuscator: bestDeobf.eval(),
    history: st.history,
    selectedEpoch: st.bestEpoch,
    fingerprint: id.fingerprint,
  };
}

/**
 * The obfuscator's objective on one batch: L_σ = λ_t·L_t − λ_p·L_p, where T(X) and F_γ(X) are computed
 * without gradient (constants), so after backward only F_σ (and anything else left trainable) holds
 * gradients. The caller freezes F_μ's parameters; T is frozen for good. With `contextFrames` M > 0 the
 * losses read only the centre of X̃ and X (window-aware training), with `windowsPerCrop` k > 0 the centres of
 * k deployed windows stitched (obfuscator-window.ts).
 * @param x clean batch (B, F, L), or (B, F, k·L + 2M) with context
 */
/** The optimiser of F_σ or F_μ (both networks use the same settings). */
function makeOptimizer(c: ObfuscatorTrainConfig, ps: Tensor[]): SGD | Adam {
  return c.optimizer === 'adam' ? new Adam(ps, { lr: c.lr }) : new SGD(ps, { lr: c.lr, momentum: c.momentum });
}

/** The warm-up cache of a run with `warmupPath`, and F_σ's seed stage (its initial weights). */
function warmupCache(
  o: Pick<TrainObfuscatorOptions, 'warmupPath' | 'obfuscatorConfig' | 'inputs'>,
  stage: string,
  log?: (l: string) => void,
): WarmupCache | undefined {
  if (o.warmupPath === undefined) return undefined;
  return { path: o.warmupPath, stage, obfuscator: o.obfuscatorConfig, inputs: o.inputs ?? {}, log };
}

/**
 * Warm F_σ up alone, as trainObfuscator would (the same initial weights and steps), into `warmupPath`:
 * a sweep does this once for all its points.
 */
export async function warmUpObfuscator(
  o: Pick<TrainObfuscatorOptions, 'obfuscatorConfig' | 'train' | 'config' | 'inputs' | 'log' | 'stage' | 'quiet'> &
    PlacementOptions & { warmupPath: string },
): Promise<void> {
  const c = o.config;
  if (c.identityWarmupSteps <= 0) return;
  const P = resolvePlacement(o);
  const stage = o.stage ?? 'obfuscator';
  manualSeed(stageSeed(c.seed, stage)); // as trainObfuscator builds F_σ
  const obf = new CycleGanVc2Generator(o.obfuscatorConfig).to(P.device);
  const opt = makeOptimizer(c, obf.parameters());
  try {
    await cachedIdentityWarmup(obf, opt, o.train, c, o.quiet ?? false, P, warmupCache(o, stage, rank0Log(P, o.log)));
  } finally {
    opt.dispose();
    obf.dispose();
  }
}

export function obfuscatorObjective(
  target: DeepSpeech2,
  obf: CycleGanVc2Generator,
  deobf: CycleGanVc2Generator,
  x: Tensor,
  c: Pick<ObfuscatorTrainConfig, 'lambdaT' | 'lambdaP' | 'latentStage'> &
    Partial<
      Pick<ObfuscatorTrainConfig, 'cropFrames' | 'contextFrames' | 'windowsPerCrop' | 'targetLoss' | 'privacyLoss'>
    >,
): { ls: Tensor; lt: Tensor; lp: Tensor } {
  const win = {
    cropFrames: c.cropFrames ?? x.size(2),
    contextFrames: c.contextFrames ?? 0,
    windowsPerCrop: c.windowsPerCrop,
  };
  const xc = centre(x, win); // (B, F, L)
  const p = noGrad(() => target.forward(xc)); // (B, T', K)
  const recon = c.privacyLoss === 'reconstruction';
  const zx = recon ? undefined : noGrad(() => deobf.latent(xc, c.latentStage)); // e.g. (B, C, L/4)
  const xt = obfuscateCrop((y) => obf.forward(y), x, win); // X̃ (B, F, L): what ships of the crop's centre
  const lt = (c.targetLoss === 'hard' ? lossTHard : lossT)(target.forward(xt), p);
  const lp = recon ? lossPRecon(deobf.forward(xt), xc) : lossP(deobf.latent(xt, c.latentStage), zx!);
  return { ls: lossSigma(lt, lp, c.lambdaT, c.lambdaP), lt, lp };
}

/** Target accuracy on obfuscated and clean validation utterances, and the deobfuscator's L_a. */
function validate(
  target: DeepSpeech2,
  obf: CycleGanVc2Generator,
  deobf: CycleGanVc2Generator,
  val: LabelledSet,
  c: WindowTrainConfig,
): { valTargetAcc: number; valCleanAcc: number; valLa: number } {
  obf.eval();
  deobf.eval();
  // through the deployed windowed rule when training used it (the utterance's whole windows), else one forward
  const windowed = (c.windowsPerCrop ?? 0) > 0;
  const m = c.contextFrames;
  const whole = (x: Tensor): Tensor => {
    const k = Math.floor((x.size(2) - 2 * m) / c.cropFrames);
    return windowed && k >= 1 ? x.narrow(2, 0, k * c.cropFrames + 2 * m) : x;
  };
  const obfuscate = (x: Tensor): Tensor =>
    windowed ? obfuscateCrop((y) => obf.forward(y), whole(x), c) : obf.forward(x);
  const clean = (x: Tensor): Tensor => (windowed && whole(x) !== x ? centre(whole(x), c) : x);
  const valTargetAcc = accuracy(predict(target, val.set, obfuscate), val.labels);
  const valCleanAcc = accuracy(predict(target, val.set), val.labels);
  let la = 0;
  noGrad(() => {
    for (let i = 0; i < val.set.specs.length; i++) {
      la += tidy(() => {
        const x = batchTo(utterance(val.set, i), deviceOf(obf.parameters()[0]!));
        return lossA(deobf.forward(obfuscate(x)), clean(x)).item();
      });
    }
  });
  obf.train();
  deobf.train();
  return { valTargetAcc, valCleanAcc, valLa: la / Math.max(1, val.set.specs.length) };
}
