// The opt-in experiments' configuration and report schema (Wang et al. 2022 §8): what each experiment
// permits and attacks, ExperimentConfig with its presets and resolver, and the shape of report.json.
import { resolveConfig } from '../../config/resolve.js';
import { DATASET_DEFAULTS, type DatasetOptions } from '../../data/experiment-data.js';
import { MCADAMS_FEATURE_DEFAULTS, type McAdamsFeatureOptions } from '../../data/features-mcadams.js';
import type { LabelKey } from '../../data/index.js';
import type { Int8Cost } from '../../deploy/int8-cost.js';
import { resolveCycleGanVc2Config, CYCLEGAN_VC2_PRESETS, type CycleGanVc2Config } from '../../models/cyclegan-vc2.js';
import { resolveDeepSpeech2Config, DS2_PRESETS, type DeepSpeech2Config } from '../../models/deepspeech2.js';
import { resolveClassifierTrainConfig, type ClassifierTrainConfig, type EpochRecord } from '../../methods/classifier.js';
import { resolveObfuscatorTrainConfig, type ObfuscatorEpoch, type ObfuscatorTrainConfig } from '../../methods/obfuscator.js';
import { resolveAdrEvalConfig, ADR_EVAL_PRESETS, type AdrEvalConfig, type AdrReport, type SpecSystemReport } from '../baselines.js';
import type { AttackScores, ClassScores } from '../metrics.js';
import { resolveVerificationConfig, VERIFICATION_PRESETS, type VerificationConfig, type VerificationResult } from '../verification.js';

export type ExperimentName = 'fig3a' | 'fig3b' | 'fig4';

/** What each experiment permits and what it attacks. */
export const EXPERIMENTS: Record<ExperimentName, { task: LabelKey; attacks: LabelKey[]; title: string }> = {
  fig3a: { task: 'speaker', attacks: ['gender'], title: 'Fig. 3a: target speaker ID, protect gender' },
  fig3b: { task: 'gender', attacks: ['speaker'], title: 'Fig. 3b: target gender, protect speaker ID' },
  fig4: { task: 'speaker', attacks: ['gender', 'emotion'], title: 'Fig. 4: target speaker ID, attack gender and emotion' },
};

export interface ExperimentConfig {
  experiment: ExperimentName;
  dataset: DatasetOptions;
  /** Seed of everything that is not the split (initialisation, crops). */
  seed: number;
  /** T's architecture (numClasses is set from the data); attackers use the same. */
  model: Omit<DeepSpeech2Config, 'numClasses'>;
  targetTrain: ClassifierTrainConfig;
  attackerTrain: ClassifierTrainConfig;
  obfuscator: CycleGanVc2Config;
  deobfuscator: CycleGanVc2Config;
  obfuscatorTrain: ObfuscatorTrainConfig;
  /** Test utterances shown with spectrograms and audio in the HTML report. */
  reportExamples: number;
  /** The systems judged beside the obfuscator (issue 5): ADR on x-vectors, McAdams on audio, and speaker verification EERs. */
  baselines: { adr: boolean; mcadams: boolean; verification: boolean };
  adr: AdrEvalConfig;
  mcadams: McAdamsFeatureOptions;
  verification: VerificationConfig;
  /** The edge stage: export the obfuscator to ONNX and measure what int8 costs T and the informed attackers ('none' skips it). */
  edge: { int8: 'static' | 'weights' | 'dynamic' | 'none' };
}

const { numClasses: _k, ...MODEL_DEFAULTS } = resolveDeepSpeech2Config({});

/** `paper`: the spec's sizes (GPU-scale). `cpu`: the demo preset, minutes on two cores. */
export const EXPERIMENT_PRESETS: Record<'paper' | 'cpu', Partial<ExperimentConfig>> = {
  paper: {
    model: MODEL_DEFAULTS,
    targetTrain: resolveClassifierTrainConfig({ epochs: 60, lr: 1.5e-4, batchSize: 32 }),
    attackerTrain: resolveClassifierTrainConfig({ epochs: 60, lr: 1.5e-4, batchSize: 32 }),
    obfuscator: resolveCycleGanVc2Config(CYCLEGAN_VC2_PRESETS.obfuscator),
    deobfuscator: resolveCycleGanVc2Config(CYCLEGAN_VC2_PRESETS.deobfuscator),
    obfuscatorTrain: resolveObfuscatorTrainConfig({ epochs: 100, batchSize: 16 }),
    adr: ADR_EVAL_PRESETS.paper,
    verification: VERIFICATION_PRESETS.paper,
  },
  cpu: {
    model: { ...MODEL_DEFAULTS, ...DS2_PRESETS.cpu },
    targetTrain: resolveClassifierTrainConfig({ epochs: 12, lr: 2e-3, batchSize: 16, cropFrames: 96 }),
    attackerTrain: resolveClassifierTrainConfig({ epochs: 8, lr: 2e-3, batchSize: 16, cropFrames: 96 }),
    obfuscator: resolveCycleGanVc2Config(CYCLEGAN_VC2_PRESETS['cpu-obfuscator']),
    deobfuscator: resolveCycleGanVc2Config(CYCLEGAN_VC2_PRESETS['cpu-deobfuscator']),
    // Adam and an identity warm-up instead of the paper's SGD from a random start: measured on the
    // built-in corpus, SGD 1e-2 left T at chance on obfuscated audio after 3 epochs; this reaches
    // 92% (clean 100%) by epoch 3 while L_p rises (see the closing note of issue 4)
    obfuscatorTrain: resolveObfuscatorTrainConfig({ epochs: 8, batchSize: 16, cropFrames: 96, optimizer: 'adam', lr: 1e-3, identityWarmupSteps: 150 }),
    adr: ADR_EVAL_PRESETS.cpu,
    verification: VERIFICATION_PRESETS.cpu,
  },
};

export const EXPERIMENT_DEFAULTS: ExperimentConfig = {
  experiment: 'fig4',
  dataset: DATASET_DEFAULTS,
  seed: 0,
  model: MODEL_DEFAULTS,
  targetTrain: resolveClassifierTrainConfig({}),
  attackerTrain: resolveClassifierTrainConfig({}),
  obfuscator: resolveCycleGanVc2Config(CYCLEGAN_VC2_PRESETS.obfuscator),
  deobfuscator: resolveCycleGanVc2Config(CYCLEGAN_VC2_PRESETS.deobfuscator),
  obfuscatorTrain: resolveObfuscatorTrainConfig({}),
  reportExamples: 2,
  baselines: { adr: true, mcadams: true, verification: true },
  edge: { int8: 'static' },
  adr: ADR_EVAL_PRESETS.cpu,
  mcadams: MCADAMS_FEATURE_DEFAULTS,
  verification: VERIFICATION_PRESETS.cpu,
  ...EXPERIMENT_PRESETS.cpu,
};

/** Defaults ← preset ← overrides, validated. */
export function resolveExperimentConfig(preset: 'cpu' | 'paper', overrides: unknown = {}): ExperimentConfig {
  const base = resolveConfig('ExperimentConfig', EXPERIMENT_DEFAULTS, EXPERIMENT_PRESETS[preset]);
  const c = resolveConfig('ExperimentConfig', base, overrides);
  if (!(c.experiment in EXPERIMENTS)) throw new RangeError(`ExperimentConfig: 'experiment' must be one of ${Object.keys(EXPERIMENTS).join(', ')}, got '${c.experiment}'`);
  resolveClassifierTrainConfig(c.targetTrain);
  resolveClassifierTrainConfig(c.attackerTrain);
  resolveObfuscatorTrainConfig(c.obfuscatorTrain);
  resolveCycleGanVc2Config(c.obfuscator);
  resolveCycleGanVc2Config(c.deobfuscator);
  resolveAdrEvalConfig('cpu', c.adr);
  resolveVerificationConfig('cpu', c.verification);
  return c;
}

/**
 * The obfuscator judged on one attribute: the scores every system gets (clean classifier, ignorant and
 * informed attackers), plus the reconstruction attacker and the clean classifier's training curve.
 */
export interface AttackResult extends AttackScores {
  /** Clean classifier on the deobfuscator's reconstruction of the obfuscated test audio. */
  reconstruction: ClassScores;
  cleanHistory: EpochRecord[];
}

export interface ExperimentReport {
  format: 'earmark-experiment-report';
  version: 1;
  experiment: ExperimentName;
  title: string;
  dataset: { name: string; root: string; counts: Record<string, number>; skipped: number };
  config: ExperimentConfig;
  target: { task: string; classes: string[]; clean: ClassScores; obfuscated: ClassScores; history: EpochRecord[] };
  obfuscator: { parameters: number; deobfuscatorParameters: number; history: ObfuscatorEpoch[] };
  attacks: AttackResult[];
  /** Systems judged beside the obfuscator with the same attackers (absent when switched off). */
  baselines: { adr?: AdrReport; mcadams?: SpecSystemReport };
  /** Speaker-verification EERs (VoicePrivacy style) of every system that outputs spectrograms. */
  verification: VerificationResult[];
  /**
   * The deployed obfuscator (ONNX, windowed rule) in float32 and int8: T's accuracy on the task's test set
   * and each informed attacker's on its attribute's test set. Absent when the edge stage is off.
   */
  edge?: { int8: string; onnx: string; int8Onnx: string; target: Int8Cost; attacks: Record<string, Int8Cost> };
  /** The paper's expectations checked against these numbers, in words. */
  verdicts: { claim: string; holds: boolean; detail: string }[];
  seconds: Record<string, number>;
  createdAt: string;
}
