// RDAL's configuration (Gharib et al., OJSP 2024; lndip/RDAL; specs/seed003-rdal.md §3): the methods, the
// training schedule, the attackers' and the mask's settings, presets, and the GRL coefficient schedule.
import { check, checkPosInt, resolveConfig } from '../../config/resolve.js';
import { MASK_UNET_SMALL, SED_CNN_PAPER, type MaskUNetConfig, type SedCnnConfig } from '../../models/sed-cnn.js';

export const RDAL_METHODS = ['baseline', 'naive', 'rdal', 'rdal-m'] as const;
export type RdalMethod = (typeof RDAL_METHODS)[number];

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
    maxEpochs: 5000,
    batchPairs: 32,
    baselineLr: 1e-3,
    lr: 1e-2,
    momentum: 0.9,
    alphaZeroEpochs: 30,
    alphaGamma: 100,
    alphaSelect: 0.99,
    period: 50,
    periodMask: 70,
    patienceEpochs: 50,
    patiencePeriods: 10,
    clipD: 1,
    momentumAfterReplace: 'keep',
    seed: 0,
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
  check(
    c.model.channels.length === 4 && c.model.channels.every((n) => Number.isInteger(n) && n > 0),
    W,
    'model.channels',
    'four positive integers',
    c.model.channels,
  );
  checkPosInt(W, 'model.latent', c.model.latent);
  check(c.model.latent >= 4, W, 'model.latent', 'at least 4 (the MLPs narrow it to a quarter)', c.model.latent);
  for (const k of ['maxEpochs', 'batchPairs', 'period', 'periodMask', 'patienceEpochs', 'patiencePeriods'] as const)
    checkPosInt(W, `train.${k}`, c.train[k]);
  check(
    Number.isInteger(c.train.alphaZeroEpochs) &&
      c.train.alphaZeroEpochs >= 0 &&
      c.train.alphaZeroEpochs < c.train.maxEpochs,
    W,
    'train.alphaZeroEpochs',
    'an integer in [0, maxEpochs)',
    c.train.alphaZeroEpochs,
  );
  check(
    c.train.momentumAfterReplace === 'keep' || c.train.momentumAfterReplace === 'reset',
    W,
    'train.momentumAfterReplace',
    "'keep' or 'reset'",
    c.train.momentumAfterReplace,
  );
  for (const k of ['maxEpochs', 'patience', 'batchSize'] as const) checkPosInt(W, `attacker.${k}`, c.attacker[k]);
  check(
    c.mask.channels.length >= 1 && c.mask.channels.length <= 6,
    W,
    'mask.channels',
    '1 to 6 positive integers',
    c.mask.channels,
  );
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
    train: {
      maxEpochs: 100,
      alphaZeroEpochs: 10,
      alphaGamma: 15,
      period: 10,
      periodMask: 10,
      patienceEpochs: 20,
      patiencePeriods: 3,
    },
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
