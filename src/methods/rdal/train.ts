// RDAL and its comparison methods (Gharib et al., OJSP 2024; lndip/RDAL; specs/seed003-rdal.md §3):
//
//   baseline  F, C by Adam 1e-3 on CE(C(F(x)), y_ev); model selection on the lowest validation CE.
//   naive     F, C, D by SGD 1e-2/0.9 on CE + BCE(D(GRL_α(z)), y_sp) — plain gradient reversal (DANN);
//             once α ≥ 0.99, keep the epoch with the highest validation BCE of its own D.
//   rdal      naive + every P epochs a fresh supervised speech classifier D^τ is trained on the frozen
//             latents of the train split (early stop on validation BCE) and its weights replace D's;
//             D's gradient is clipped to ±1; once α ≥ 0.99 keep the period with the highest best-val
//             BCE of D^τ (speech hardest to detect), stop after `patiencePeriods` periods without gain.
//   rdal-m    rdal (period `periodMask`) on inputs masked by a pre-trained, frozen speech-masking U-Net.
//
// One explicit loop (trainRdal), one checkpoint per epoch (resumable), randomness derived from
// (seed, epoch) so a resumed run repeats the same batches.
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { check, checkPosInt, resolveConfig } from '../../config/resolve.js';
import { gatherClips, powerToDb, type SoundscapeSet } from '../../data/soundscape-set.js';
import { EventHead, MASK_UNET_SMALL, MaskUNet, SED_CNN_PAPER, SedEncoder, SpeechMlp, type MaskUNetConfig, type SedCnnConfig } from '../../models/sed-cnn.js';
import { bceWithLogits, crossEntropy, l1Loss, type Module } from '../../nn/index.js';
import { Adam, SGD, clipGradValue_, type OptimizerStateDict } from '../../optim/index.js';
import { manualSeed, noGrad, tensor, tidy, type Tensor } from '../../tensor/index.js';
import { Progress } from '../../util/progress.js';
import { Rng } from '../../util/rng.js';
import { loadCheckpoint, saveCheckpoint } from '../checkpoint.js';

export const RDAL_METHODS = ['baseline', 'naive', 'rdal', 'rdal-m'] as const;
export type RdalMethod = (typeof RDAL_METHODS)[number];

// ---- config ------------------------------------------------------------------------------------

export interface RdalTrainConfig {
  /** Epoch budget (paper 5000; early stopping ends runs far sooner). */
  maxEpochs: number;
  /** Speech/non-speech pairs per batch (32 → 64 clips, exactly half with speech). */
  batchPairs: number;
  /** Baseline: Adam learning rate (1e-3). */
  baselineLr: number;
  /** Adversarial methods: SGD learning rate (1e-2) and momentum (0.9). */
  lr: number;
  momentum: number;
  /** α = 0 for these first epochs (30). */
  alphaZeroEpochs: number;
  /** α = 2/(1+e^(−γp))−1, p = linspace(0, 1, maxEpochs − alphaZeroEpochs); γ = 100. */
  alphaGamma: number;
  /** Model selection starts once α reaches this (0.99). */
  alphaSelect: number;
  /** RDAL: replacement period P in epochs (50). */
  period: number;
  /** RDAL+M: replacement period (70). */
  periodMask: number;
  /** Baseline and naive: stop after this many epochs without a better selection score (50). */
  patienceEpochs: number;
  /** RDAL: stop after more than this many periods without a better score (10). */
  patiencePeriods: number;
  /** RDAL: clamp D's gradient elementwise to ±clipD (1); 0 disables. */
  clipD: number;
  /** After replacing D's weights: keep D's SGD momentum (the reference) or reset it. */
  momentumAfterReplace: 'keep' | 'reset';
  seed: number;
}

/** The supervised attackers (D^τ, the evaluation's speech and gender attackers). */
export interface AttackerTrainConfig {
  lr: number;
  momentum: number;
  maxEpochs: number;
  /** Stop when the validation BCE has not improved for more than this many epochs (50). */
  patience: number;
  batchSize: number;
}

export interface MaskTrainConfig {
  lr: number;
  batchSize: number;
  maxEpochs: number;
  /** Early stop on validation L1 (20). */
  patience: number;
}

export interface RdalConfig {
  model: SedCnnConfig;
  mask: MaskUNetConfig;
  train: RdalTrainConfig;
  attacker: AttackerTrainConfig;
  maskTrain: MaskTrainConfig;
}

/** The reference's settings (paper schedule: up to 5000 epochs; hours per run on a GPU). */
export const RDAL_DEFAULTS: RdalConfig = {
  model: SED_CNN_PAPER,
  mask: MASK_UNET_SMALL,
  train: {
    maxEpochs: 5000, batchPairs: 32, baselineLr: 1e-3, lr: 1e-2, momentum: 0.9,
    alphaZeroEpochs: 30, alphaGamma: 100, alphaSelect: 0.99, period: 50, periodMask: 70,
    patienceEpochs: 50, patiencePeriods: 10, clipD: 1, momentumAfterReplace: 'keep', seed: 0,
  },
  attacker: { lr: 1e-2, momentum: 0.9, maxEpochs: 5000, patience: 50, batchSize: 64 },
  maskTrain: { lr: 1e-3, batchSize: 32, maxEpochs: 200, patience: 20 },
};

/**
 * Defaults merged with `partial`; unknown keys are refused naming them.
 * @example resolveRdalConfig({ train: { maxEpochs: 100, period: 10 } })
 */
export function resolveRdalConfig(partial: unknown = {}): RdalConfig {
  const c = resolveConfig('RdalConfig', RDAL_DEFAULTS, partial);
  const W = 'RdalConfig';
  check(c.model.channels.length === 4 && c.model.channels.every((n) => Number.isInteger(n) && n > 0), W, 'model.channels', 'four positive integers', c.model.channels);
  checkPosInt(W, 'model.latent', c.model.latent);
  check(c.model.latent >= 4, W, 'model.latent', 'at least 4 (the MLPs narrow it to a quarter)', c.model.latent);
  for (const k of ['maxEpochs', 'batchPairs', 'period', 'periodMask', 'patienceEpochs', 'patiencePeriods'] as const) checkPosInt(W, `train.${k}`, c.train[k]);
  check(Number.isInteger(c.train.alphaZeroEpochs) && c.train.alphaZeroEpochs >= 0 && c.train.alphaZeroEpochs < c.train.maxEpochs,
    W, 'train.alphaZeroEpochs', 'an integer in [0, maxEpochs)', c.train.alphaZeroEpochs);
  check(c.train.momentumAfterReplace === 'keep' || c.train.momentumAfterReplace === 'reset', W, 'train.momentumAfterReplace', "'keep' or 'reset'", c.train.momentumAfterReplace);
  for (const k of ['maxEpochs', 'patience', 'batchSize'] as const) checkPosInt(W, `attacker.${k}`, c.attacker[k]);
  check(c.mask.channels.length >= 1 && c.mask.channels.length <= 6, W, 'mask.channels', '1 to 6 positive integers', c.mask.channels);
  return c;
}

/**
 * Presets as overrides of RDAL_DEFAULTS (configs/rdal-<name>.json hold the same values). 'paper' is the
 * reference's schedule; 'cpu' keeps the algorithm but shrinks widths and compresses the schedule so that
 * baseline, NaiveAdv and RDAL × 3 runs fit in about half an hour on two CPU cores: 100 epochs, α = 0 for
 * 10 then ≥ 0.99 from epoch ~42 (γ = 15), P = 10, patience 20 epochs / 3 periods.
 */
export const RDAL_PRESETS = {
  paper: {},
  cpu: {
    model: { channels: [16, 32, 32, 64] },
    train: { maxEpochs: 100, alphaZeroEpochs: 10, alphaGamma: 15, period: 10, periodMask: 10, patienceEpochs: 20, patiencePeriods: 3 },
    attacker: { maxEpochs: 300, patience: 20 },
    maskTrain: { maxEpochs: 40, patience: 5 },
  },
} as const;
export type RdalPreset = keyof typeof RDAL_PRESETS;

/**
 * A preset with `overrides` on top (both validated).
 * @example resolveRdalPreset('cpu', { train: { seed: 3 } })
 */
export function resolveRdalPreset(preset: RdalPreset, overrides: unknown = {}): RdalConfig {
  const base = resolveRdalConfig(RDAL_PRESETS[preset]);
  const c = resolveConfig('RdalConfig', base, overrides);
  return resolveRdalConfig(c);
}

/**
 * The GRL coefficient per epoch: 0 for `zeroEpochs`, then 2/(1+e^(−γp))−1 with p = linspace(0, 1,
 * epochs − zeroEpochs) (lndip/RDAL utils.calculate_grl). Paper: (5000, 30, 100) → α(100) ≈ 0.61, α(294) ≥ 0.99.
 * @example alphaSchedule(5000, 30, 100)[294] // 0.9902
 */
export function alphaSchedule(epochs: number, zeroEpochs: number, gamma: number): number[] {
  const n = epochs - zeroEpochs;
  const out = new Array<number>(zeroEpochs).fill(0);
  for (let i = 0; i < n; i++) {
    const p = n === 1 ? 0 : i / (n - 1);
    out.push(2 / (1 + Math.exp(-gamma * p)) - 1);
  }
  return out;
}

// ---- small helpers -----------------------------------------------------------------------------

/** Shuffled batches of (speech, non-speech) pairs: every batch is half speech (the reference's Dataset). */
function pairBatches(s: SoundscapeSet, pairs: number, rng: Rng): number[][] {
  const sp = rng.shuffle(s.speech.flatMap((y, i) => (y === 1 ? [i] : [])));
  const ns = rng.shuffle(s.speech.flatMap((y, i) => (y === 0 ? [i] : [])));
  const n = Math.min(sp.length, ns.length);
  const out: number[][] = [];
  for (let i = 0; i < n; i += pairs) {
    const end = Math.min(n, i + pairs);
    out.push([...sp.slice(i, end), ...ns.slice(i, end)]);
  }
  return out;
}

function shuffledBatches(n: number, size: number, rng: Rng): number[][] {
  const order = rng.shuffle(Array.from({ length: n }, (_, i) => i));
  const out: number[][] = [];
  for (let i = 0; i < n; i += size) out.push(order.slice(i, i + size));
  return out;
}

const floatLabels = (ys: readonly number[]): Tensor => tensor(Float32Array.from(ys), [ys.length, 1]);
const longLabels = (ys: readonly number[]): Tensor => tensor(BigInt64Array.from(ys, (y) => BigInt(y)), [ys.length]);

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
      out.set(tidy(() => encoder.forward(gatherClips(s, 'logmel', idx)).contiguous().toFloat32Array()), i * d);
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
  const p = noGrad(() => tidy(() => mlp.forward(tensor(z, [n, d])).sigmoid().reshape([n]).toFloat32Array()));
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

// ---- the supervised attacker D^τ --------------------------------------------------------------

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
 * D^τ, and the evaluation's speech and gender attackers.
 * @example const { model, bestValBce } = trainAttacker(train, val, 64, cfg.attacker, new Rng(1));
 */
export function trainAttacker(train: LatentSet, val: LatentSet, d: number, c: AttackerTrainConfig, rng: Rng): AttackerRun {
  const model = new SpeechMlp(d);
  const best = new SpeechMlp(d);
  const opt = new SGD(model.parameters(), { lr: c.lr, momentum: c.momentum });
  let bestValBce = Infinity;
  let bestEpoch = -1;
  let epoch = 0;
  for (; epoch < c.maxEpochs; epoch++) {
    model.train();
    for (const idx of shuffledBatches(train.y.length, c.batchSize, rng)) {
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
export function replaceAdversary(adversary: SpeechMlp, fresh: SpeechMlp, opt: SGD, first: number, momentum: 'keep' | 'reset'): void {
  adversary.loadStateDict(fresh.stateDict());
  if (momentum === 'keep') return;
  const n = adversary.parameters().length;
  const sd: OptimizerStateDict = opt.stateDict();
  const tensors = new Map([...sd.tensors].filter(([k]) => {
    const i = Number(k.split('.')[0]);
    return i < first || i >= first + n;
  }));
  const steps = Object.fromEntries(Object.entries(sd.meta.steps).filter(([k]) => Number(k) < first || Number(k) >= first + n));
  opt.loadStateDict({ tensors, meta: { ...sd.meta, steps } });
}

// ---- RDAL+M's mask -------------------------------------------------------------------------------

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
export function trainMask(train: SoundscapeSet, val: SoundscapeSet, mc: MaskUNetConfig, c: MaskTrainConfig, seed: number, quiet = true): MaskRun {
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
    for (const b of shuffledBatches(spTrain.length, c.batchSize, rng)) {
      tidy(() => {
        const loss = l1(train, b.map((j) => spTrain[j]!));
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
      logmel.set(tidy(() => maskedLogMel(mask, gatherClips(s, 'melPower', idx)).contiguous().toFloat32Array()), i * row);
    }
  });
  return { ...s, logmel };
}

// ---- the training loop ---------------------------------------------------------------------------

export interface RdalEpochRecord {
  epoch: number;
  alpha: number;
  trainCe: number;
  trainBce: number;
  valCe: number;
  valBce: number;
  valEventAcc: number;
  /** The in-training adversary's validation accuracy (threshold 0.5). */
  valAdvAcc: number;
  /** RDAL: the fresh D^τ's best validation BCE at this epoch's verification. */
  verifyBce?: number;
  seconds: number;
}

export interface RdalRun {
  method: RdalMethod;
  encoder: SedEncoder;
  head: EventHead;
  /** The in-training adversary D as selected (for the baseline: untrained, never used). */
  adversary: SpeechMlp;
  history: RdalEpochRecord[];
  /** Selected epoch (−1: none met the selection rule; the last epoch is returned). */
  bestEpoch: number;
  bestScore: number;
  epochsRun: number;
}

export interface TrainRdalOptions {
  method: RdalMethod;
  config: RdalConfig;
  /** Train and validation sets (for rdal-m: already masked by applyMask). */
  train: SoundscapeSet;
  val: SoundscapeSet;
  /** Folder for `checkpoint.safetensors` (written atomically after every epoch). */
  dir?: string;
  resume?: boolean;
  quiet?: boolean;
  onEpoch?: (r: RdalEpochRecord) => void;
}

interface LoopState {
  epoch: number;
  history: RdalEpochRecord[];
  bestEpoch: number;
  bestScore: number;
  bad: number;
  stopped: boolean;
  method: RdalMethod;
  config: RdalConfig;
}

/**
 * Train one method; returns the selected F, C, D.
 * @example const run = trainRdal({ method: 'rdal', config: resolveRdalConfig(), train: data.train, val: data.val });
 */
export function trainRdal(o: TrainRdalOptions): RdalRun {
  const c = o.config;
  const t = c.train;
  const adversarial = o.method !== 'baseline';
  const replacing = o.method === 'rdal' || o.method === 'rdal-m';
  const period = o.method === 'rdal-m' ? t.periodMask : t.period;
  const d = c.model.latent;
  manualSeed(t.seed); // initial weights depend on the run's seed
  const encoder = new SedEncoder(c.model);
  const head = new EventHead(d, c.model.numClasses);
  const adversary = new SpeechMlp(d, { grl: true });
  const best = { encoder: new SedEncoder(c.model), head: new EventHead(d, c.model.numClasses), adversary: new SpeechMlp(d, { grl: true }) };
  const nFC = encoder.parameters().length + head.parameters().length;
  const params = [...encoder.parameters(), ...head.parameters(), ...(adversarial ? adversary.parameters() : [])];
  const opt = adversarial ? new SGD(params, { lr: t.lr, momentum: t.momentum }) : new Adam(params, { lr: t.baselineLr });
  const parts = {
    modules: { encoder, head, adversary, best_encoder: best.encoder, best_head: best.head, best_adversary: best.adversary },
    optimizers: { opt },
  };
  const alphas = alphaSchedule(t.maxEpochs, t.alphaZeroEpochs, t.alphaGamma);
  const ckpt = o.dir === undefined ? undefined : path.join(o.dir, 'checkpoint.safetensors');
  if (o.dir !== undefined) mkdirSync(o.dir, { recursive: true });
  let st: LoopState = { epoch: 0, history: [], bestEpoch: -1, bestScore: o.method === 'baseline' ? Infinity : -Infinity, bad: 0, stopped: false, method: o.method, config: c };
  if (o.resume && ckpt !== undefined && existsSync(ckpt)) st = loadCheckpoint<LoopState>(ckpt, parts);
  const bar = o.quiet ? null : new Progress({ total: Math.max(1, t.maxEpochs - st.epoch), label: o.method });

  try {
    for (let epoch = st.epoch; epoch < t.maxEpochs && !st.stopped; epoch++) {
      const t0 = Date.now();
      const alpha = adversarial ? alphas[epoch]! : 0;
      adversary.alpha = alpha;
      const rng = new Rng(t.seed).derive(`epoch${epoch}`);
      manualSeed(t.seed * 100003 + epoch);

      // 1. one pass over the train pairs: L = CE(C(F(x)), y_ev) [+ BCE(D(GRL_α(F(x))), y_sp)]
      encoder.train(); head.train(); adversary.train();
      let ceSum = 0; let bceSum = 0; let nb = 0;
      for (const idx of pairBatches(o.train, t.batchPairs, rng)) {
        const [ce, bce] = tidy(() => {
          const z = encoder.forward(gatherClips(o.train, 'logmel', idx)); // (B, latent)
          const lCe = crossEntropy(head.forward(z), longLabels(idx.map((i) => o.train.event[i]!)));
          const lBce = adversarial ? bceWithLogits(adversary.forward(z), floatLabels(idx.map((i) => o.train.speech[i]!))) : null;
          const loss = lBce === null ? lCe : lCe.add(lBce);
          opt.zeroGrad();
          loss.backward();
          if (replacing && t.clipD > 0) clipGradValue_(adversary.parameters(), t.clipD);
          opt.step();
          return [lCe.item(), lBce?.item() ?? 0];
        });
        ceSum += ce; bceSum += bce; nb++;
      }

      // 2. validation of the same losses (and the selection score of baseline and naive)
      const v = validate(encoder, head, adversary, o.val);
      const rec: RdalEpochRecord = { epoch, alpha, trainCe: ceSum / nb, trainBce: bceSum / nb, ...v, seconds: 0 };

      // 3. model selection; RDAL: verification and weight replacement every P epochs
      const save = (score: number): void => {
        st.bestScore = score; st.bestEpoch = epoch; st.bad = 0;
        best.encoder.loadStateDict(encoder.stateDict());
        best.head.loadStateDict(head.stateDict());
        best.adversary.loadStateDict(adversary.stateDict()); // D from before any replacement (spec §3 d)
      };
      if (o.method === 'baseline') {
        if (v.valCe < st.bestScore) save(v.valCe);
        else if (++st.bad >= t.patienceEpochs) st.stopped = true;
      } else if (o.method === 'naive') {
        if (alpha >= t.alphaSelect) {
          if (v.valBce > st.bestScore) save(v.valBce);
          else if (++st.bad >= t.patienceEpochs) st.stopped = true;
        }
      } else if (epoch % period === period - 1) {
        const zTrain = { z: encodeSet(encoder, o.train), y: o.train.speech };
        const zVal = { z: encodeSet(encoder, o.val), y: o.val.speech };
        const fresh = trainAttacker(zTrain, zVal, d, c.attacker, new Rng(t.seed).derive(`verify${epoch}`));
        rec.verifyBce = fresh.bestValBce;
        if (alpha >= t.alphaSelect) {
          if (fresh.bestValBce > st.bestScore) save(fresh.bestValBce);
          else if (++st.bad > t.patiencePeriods) st.stopped = true;
        }
        if (alpha > 0) replaceAdversary(adversary, fresh.model, opt as SGD, nFC, t.momentumAfterReplace);
        fresh.model.dispose();
      }

      rec.seconds = (Date.now() - t0) / 1000;
      st.history.push(rec);
      st.epoch = epoch + 1;
      if (ckpt !== undefined) saveCheckpoint(ckpt, parts, st);
      o.onEpoch?.(rec);
      bar?.tick();
    }
  } catch (e) {
    // an interrupted run (error, or a stop from onEpoch) frees what it made; the checkpoint stays
    bar?.done();
    for (const m of [encoder, head, adversary, best.encoder, best.head, best.adversary]) m.dispose();
    opt.dispose();
    throw e;
  }
  bar?.done();
  opt.dispose();
  const selected = st.bestEpoch >= 0;
  const out = selected ? best : { encoder, head, adversary };
  const drop: Module[] = selected ? [encoder, head, adversary] : [best.encoder, best.head, best.adversary];
  for (const m of drop) m.dispose();
  out.encoder.eval(); out.head.eval(); out.adversary.eval();
  return { method: o.method, encoder: out.encoder, head: out.head, adversary: out.adversary, history: st.history,
    bestEpoch: st.bestEpoch, bestScore: st.bestScore, epochsRun: st.epoch };
}

function validate(encoder: SedEncoder, head: EventHead, adversary: SpeechMlp, s: SoundscapeSet): Omit<RdalEpochRecord, 'epoch' | 'alpha' | 'trainCe' | 'trainBce' | 'seconds'> {
  encoder.eval(); head.eval(); adversary.eval();
  const all = Array.from({ length: s.n }, (_, i) => i);
  const r = noGrad(() => {
    let ce = 0; let bce = 0; let evHits = 0; let advHits = 0;
    for (let i = 0; i < s.n; i += 64) {
      const idx = all.slice(i, i + 64);
      tidy(() => {
        const z = encoder.forward(gatherClips(s, 'logmel', idx));
        const logits = head.forward(z);
        const adv = adversary.forward(z); // (B, 1)
        ce += crossEntropy(logits, longLabels(idx.map((j) => s.event[j]!))).item() * idx.length;
        bce += bceWithLogits(adv, floatLabels(idx.map((j) => s.speech[j]!))).item() * idx.length;
        const pred = logits.argmax(1).float().toFloat32Array();
        const a = adv.reshape([idx.length]).toFloat32Array();
        idx.forEach((j, b) => {
          if (pred[b] === s.event[j]) evHits++;
          if ((a[b]! > 0 ? 1 : 0) === s.speech[j]) advHits++;
        });
      });
    }
    return { valCe: ce / s.n, valBce: bce / s.n, valEventAcc: evHits / s.n, valAdvAcc: advHits / s.n };
  });
  encoder.train(); head.train(); adversary.train();
  return r;
}
