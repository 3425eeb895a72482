// Speaker-verification privacy, VoicePrivacy style (anchors §2.2–2.3): x-vector extractors trained for
// speaker classification, cosine scoring of trial utterances against speaker-mean enrolment models, and
// the EER per gender under four attackers of a system that outputs spectrograms (the obfuscator) or
// audio (McAdams, turned into DS2 spectrograms):
//   original       clean extractor, clean enrolment, clean trials (the privacy-free reference, VPC "OO")
//   ignorant       clean extractor, clean enrolment, transformed trials ("OA")
//   lazyInformed   clean extractor, transformed enrolment and trials ("AA")
//   informed       extractor retrained on transformed training data, transformed enrolment and trials
//                  (VPC 2022's semi-informed ASV_eval^anon, the number VPC 2024 ranks by)
// Extractors (src/methods/xvector.ts) train on the main split's training set (speaker-disjoint where the corpus is, as VPC);
// trials come from its test set: per test speaker, half the utterances (seeded) enrol, the rest are
// trials against every enrolled speaker of the same gender (VPC trial lists are per gender).
import { resolveConfig } from '../config/resolve.js';
import { labelOf } from '../data/index.js';
import type { ExperimentData } from '../data/experiment-data.js';
import { mapSet, utterance, type SpecSet } from '../data/spec-set.js';
import { XVECTOR_MIN_FRAMES, type XVector } from '../models/xvector.js';
import {
  resolveXVectorTrainConfig,
  trainCleanXVector,
  XVECTOR_TRAIN_DEFAULTS,
  XVECTOR_TRAIN_PRESETS,
  type XVectorEpoch,
  type XVectorExtractorConfig,
} from '../methods/xvector.js';
import { noGrad, tidy, type Tensor } from '../tensor/index.js';
import { Rng } from '../util/rng.js';
import { computeEer, cosine, type EerResult } from './eer.js';

// ---------------------------------------------------------------------------------------------
// Extraction

/** A spectrogram transform applied to each utterance (1, F, T) → (1, F, T), e.g. the obfuscator. */
export type SpecTransform = (x: Tensor) => Tensor;

/**
 * Length-normalised x-vectors of every utterance of `set` (eval mode, whole utterances; utterances
 * shorter than the TDNN context are tiled). Returns one Float32Array(embedDim) per utterance.
 * @example const xv = extractXVectors(model, data.sets.test); // xv[i].length === 512
 */
export function extractXVectors(model: XVector, set: SpecSet, transform?: SpecTransform): Float32Array[] {
  const wasTraining = model.training;
  model.eval();
  const out = noGrad(() =>
    set.specs.map((_, i) =>
      tidy(() => {
        let x = utterance(set, i); // (1, F, T)
        if (transform) x = transform(x);
        const t = x.size(2);
        if (t < XVECTOR_MIN_FRAMES) x = x.repeat([1, 1, Math.ceil(XVECTOR_MIN_FRAMES / t)]);
        return model.embed(x).toFloat32Array();
      }),
    ),
  );
  model.train(wasTraining);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Trials and scoring

export interface TrialList {
  /** Enrolment utterance ids per speaker. */
  enrol: Map<string, string[]>;
  /** Trial utterance ids (their speaker is the claimed identity's truth). */
  trials: string[];
  speakerOf: Map<string, string>;
  genderOf: Map<string, string>;
}

/**
 * Split each test speaker's utterances into enrolment (half, seeded, at least one) and trials.
 * Speakers with fewer than two utterances are left out.
 */
export function makeTrialList(data: ExperimentData, set: SpecSet, seed = 0): TrialList {
  const bySpeaker = new Map<string, string[]>();
  const speakerOf = new Map<string, string>();
  const genderOf = new Map<string, string>();
  for (const id of set.ids) {
    const u = data.byId.get(id)!;
    const spk = labelOf(u, 'speaker');
    if (spk === undefined) continue;
    speakerOf.set(id, spk);
    genderOf.set(spk, labelOf(u, 'gender') ?? 'unknown');
    (bySpeaker.get(spk) ?? bySpeaker.set(spk, []).get(spk)!).push(id);
  }
  const enrol = new Map<string, string[]>();
  const trials: string[] = [];
  for (const spk of [...bySpeaker.keys()].sort()) {
    const ids = bySpeaker.get(spk)!.slice().sort();
    if (ids.length < 2) continue;
    new Rng(seed).derive(`enrol-${spk}`).shuffle(ids);
    const k = Math.max(1, Math.floor(ids.length / 2));
    enrol.set(spk, ids.slice(0, k));
    trials.push(...ids.slice(k));
  }
  return { enrol, trials, speakerOf, genderOf };
}

/** EERs by gender ('female', 'male', … as labelled) and over all same-gender trials ('all'). */
export type EerByGender = Record<string, EerResult>;

/**
 * Cosine scores of every trial against every enrolled speaker of the same gender (the enrolment model
 * is the mean of the speaker's enrolment x-vectors), and the EER per gender.
 * @param enrolVec x-vectors of the enrolment utterances, by id
 * @param trialVec x-vectors of the trial utterances, by id
 */
export function scoreTrials(
  list: TrialList,
  enrolVec: Map<string, Float32Array>,
  trialVec: Map<string, Float32Array>,
): EerByGender {
  const models = new Map<string, Float64Array>();
  for (const [spk, ids] of list.enrol) {
    const m = new Float64Array(enrolVec.get(ids[0]!)!.length);
    for (const id of ids) {
      const v = enrolVec.get(id);
      if (v === undefined) throw new RangeError(`scoreTrials: no enrolment x-vector for '${id}'`);
      for (let i = 0; i < m.length; i++) m[i] = m[i]! + v[i]! / ids.length;
    }
    models.set(spk, m);
  }
  const scores = new Map<string, { tar: number[]; non: number[] }>();
  const bucket = (g: string): { tar: number[]; non: number[] } =>
    scores.get(g) ?? scores.set(g, { tar: [], non: [] }).get(g)!;
  for (const id of list.trials) {
    const v = trialVec.get(id);
    if (v === undefined) throw new RangeError(`scoreTrials: no trial x-vector for '${id}'`);
    const truth = list.speakerOf.get(id)!;
    const g = list.genderOf.get(truth)!;
    for (const [spk, m] of models) {
      if (list.genderOf.get(spk) !== g) continue;
      const s = cosine(m, v);
      const b = bucket(g);
      (spk === truth ? b.tar : b.non).push(s);
      (spk === truth ? bucket('all').tar : bucket('all').non).push(s);
    }
  }
  const out: EerByGender = {};
  for (const [g, s] of [...scores].sort(([a], [b]) => a.localeCompare(b))) {
    if (s.tar.length > 0 && s.non.length > 0) out[g] = computeEer(s.tar, s.non);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// The four attackers

export interface VerificationConfig extends XVectorExtractorConfig {
  /** Seed of the enrolment/trial split. */
  trialSeed: number;
}

export interface VerificationResult {
  system: string;
  /** EERs (0–1) per scenario and gender; higher = more privacy, 0.5 = chance. */
  original: EerByGender;
  ignorant: EerByGender;
  lazyInformed: EerByGender;
  informed: EerByGender;
  trials: { speakers: number; enrolment: number; trials: number };
  informedHistory: XVectorEpoch[];
}

/** Spectrogram sets of one system's output: a per-utterance transform, or precomputed sets (McAdams). */
export type SystemOutput = SpecTransform | { train: SpecSet; test: SpecSet; enrolTest?: SpecSet };

export interface EvaluateVerificationOptions {
  data: ExperimentData;
  /** Name used in logs and checkpoint files, e.g. 'obfuscator' or 'mcadams'. */
  system: string;
  /**
   * The system's output for the main split's train and test sets: a spectrogram transform, or sets
   * aligned with data.sets.train/test by id. `enrolTest` (optional) is a second anonymisation of the
   * test set for the lazy-informed enrolment (VPC: another random target or α); default `test`.
   */
  output: SystemOutput;
  /** The clean extractor (from trainCleanXVector), shared by every system. */
  clean: XVector;
  config: VerificationConfig;
  /** Folder for the informed extractor's checkpoint (resumed when finished). */
  runDir?: string;
  resume?: boolean;
  /** What the system's output depends on (e.g. the obfuscator's fingerprint), for the informed extractor's identity. */
  inputs?: Record<string, unknown>;
  /** A checkpoint made with other settings: retrain (default) or refuse (false). */
  retrain?: boolean;
  log?: (line: string) => void;
}

export const VERIFICATION_DEFAULTS: VerificationConfig = {
  xvector: { channels: 512, poolChannels: 1500, embedDim: 512 },
  train: XVECTOR_TRAIN_DEFAULTS,
  trialSeed: 0,
};

export const VERIFICATION_PRESETS: Record<'paper' | 'cpu', VerificationConfig> = {
  paper: VERIFICATION_DEFAULTS,
  cpu: {
    xvector: { channels: 64, poolChannels: 192, embedDim: 512 },
    train: resolveXVectorTrainConfig(XVECTOR_TRAIN_PRESETS.cpu),
    trialSeed: 0,
  },
};

export function resolveVerificationConfig(preset: 'paper' | 'cpu', partial: unknown = {}): VerificationConfig {
  const c = resolveConfig('VerificationConfig', VERIFICATION_PRESETS[preset], partial);
  resolveXVectorTrainConfig(c.train);
  return c;
}

function byId(set: SpecSet, vecs: Float32Array[]): Map<string, Float32Array> {
  return new Map(set.ids.map((id, i) => [id, vecs[i]!]));
}

/** The system's sets aligned with (train, test) by id. */
function outputSets(data: ExperimentData, out: SystemOutput): { train: SpecSet; test: SpecSet; enrolTest: SpecSet } {
  if (typeof out === 'function') {
    const test = mapSet(data.sets.test, out);
    return { train: mapSet(data.sets.train, out), test, enrolTest: test };
  }
  return { train: out.train, test: out.test, enrolTest: out.enrolTest ?? out.test };
}

/**
 * EERs of one system under the original, ignorant, lazy-informed and informed attackers.
 * @example
 * const clean = await trainCleanXVector(data, cfg, { runDir });
 * const r = await evaluateVerification({ data, system: 'obfuscator', output: (x) => obf.forward(x), clean: clean.model, config: cfg, runDir });
 * r.ignorant.all.eer // e.g. 0.41
 */
export async function evaluateVerification(o: EvaluateVerificationOptions): Promise<VerificationResult> {
  const { data, config } = o;
  const list = makeTrialList(data, data.sets.test, config.trialSeed);
  const sys = outputSets(data, o.output);
  const clean = o.clean;
  const cleanTest = byId(data.sets.test, extractXVectors(clean, data.sets.test));
  const anonTestClean = byId(sys.test, extractXVectors(clean, sys.test));
  const anonEnrolClean =
    sys.enrolTest === sys.test ? anonTestClean : byId(sys.enrolTest, extractXVectors(clean, sys.enrolTest));

  o.log?.(`  verification ${o.system}: informed extractor on transformed training data`);
  const informed = await trainCleanXVector(data, config, {
    runDir: o.runDir,
    resume: o.resume ?? true,
    log: o.log,
    train: sys.train,
    name: `informed-${o.system}`,
    ...(o.inputs ? { inputs: o.inputs } : {}),
    ...(o.retrain === undefined ? {} : { retrain: o.retrain }),
  });
  const anonTestInf = byId(sys.test, extractXVectors(informed.model, sys.test));
  const anonEnrolInf =
    sys.enrolTest === sys.test ? anonTestInf : byId(sys.enrolTest, extractXVectors(informed.model, sys.enrolTest));
  informed.model.dispose();

  return {
    system: o.system,
    original: scoreTrials(list, cleanTest, cleanTest),
    ignorant: scoreTrials(list, cleanTest, anonTestClean),
    lazyInformed: scoreTrials(list, anonEnrolClean, anonTestClean),
    informed: scoreTrials(list, anonEnrolInf, anonTestInf),
    trials: {
      speakers: list.enrol.size,
      enrolment: [...list.enrol.values()].reduce((n, v) => n + v.length, 0),
      trials: list.trials.length,
    },
    informedHistory: informed.history,
  };
}
