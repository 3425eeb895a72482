// The baselines beside the opt-in obfuscator (issue 5), judged by the same attackers and scored with
// the same ClassScores so the report can put them in the same tables and plots:
//  - McAdams (training-free, outputs audio): DS2 spectrograms of anonymised audio for every split
//    (cached like the clean features, src/data/features-mcadams.ts), then T and the DS2 attackers
//    exactly as for the obfuscator:
//    clean classifier on clean audio (circles), ignorant (clean classifier on anonymised audio),
//    informed (classifier trained on anonymised training audio);
//  - ADR (opt-out, outputs x-vectors, told to hide one binary protected attribute — the experiment's,
//    never its granted task): classifiers on x-vectors — clean, ignorant
//    (clean classifier on ADR x-vectors), informed (trained on ADR-transformed training x-vectors) — for
//    the target task and every attacked attribute (fig4: emotion, which ADR was not told about).
// Where the test speakers are unseen (a speaker-disjoint protocol or split), every score's intervals
// resample speakers (metrics.ts), as the obfuscator's are. Speaker-verification EERs of spectrogram/audio
// systems live in verification.ts.
import { resolveConfig } from '../config/resolve.js';
import { labelOf, type LabelKey } from '../data/index.js';
import { classNames, labelled, setsFor, type ExperimentData } from '../data/experiment-data.js';
import { unseenTestSpeakers } from '../data/protocols.js';
import { twinSubset, type LabelledSet, type SpecSet } from '../data/spec-set.js';
import { EarmarkError } from '../errors.js';
import { resolveDeepSpeech2Config, type DeepSpeech2, type DeepSpeech2Config } from '../models/deepspeech2.js';
import type { XVector } from '../models/xvector.js';
import {
  adrTransform,
  resolveAdrTrainConfig,
  trainAdr,
  ADR_TRAIN_PRESETS,
  type AdrEpoch,
  type AdrTrainConfig,
} from '../methods/adr.js';
import { predict, trainOrLoadClassifier, type ClassifierTrainConfig } from '../methods/classifier.js';
import { experimentInputs } from '../methods/stage.js';
import {
  resolveVectorClassifierConfig,
  trainVectorClassifier,
  VECTOR_CLASSIFIER_DEFAULTS,
  type VectorClassifierConfig,
  type VectorSet,
} from '../methods/vector-classifier.js';
import type { AdrConfig } from '../models/adr.js';
import { scoreClassification, type AttackScores, type ClassScores } from './metrics.js';
import { extractXVectors, makeTrialList, scoreTrials, type EerByGender } from './verification.js';

// ---------------------------------------------------------------------------------------------
// A spectrogram system judged by T and the DS2 attackers (McAdams; any precomputed twin sets)

export interface SpecSystemReport {
  system: string;
  target: { task: string; classes: string[]; clean: ClassScores; transformed: ClassScores };
  attacks: AttackScores[];
}

export interface EvaluateSpecSystemOptions {
  data: ExperimentData;
  /** e.g. 'mcadams' (names the informed attackers' checkpoints: <system>-informed-<attr>.safetensors). */
  system: string;
  task: LabelKey;
  attacks: LabelKey[];
  /** The trained target model T (not disposed). */
  target: DeepSpeech2;
  /** Clean set → the system's twin (AnonymisedSets.twin). */
  twin: Map<SpecSet, SpecSet>;
  /** Attacker architecture without numClasses (T's, as the paper). */
  model: Omit<DeepSpeech2Config, 'numClasses'>;
  attackerTrain: ClassifierTrainConfig;
  /** Clean attackers already trained (e.g. by the obfuscator experiment), by attribute; trained here when absent. */
  cleanAttackers?: Partial<Record<string, DeepSpeech2>>;
  /**
   * The attackers' clean labelled sets of an attribute (default: setsFor, the split the paper uses);
   * an experiment passes its protocol's (closed-set or speaker-disjoint) so the baseline is attacked alike.
   */
  attackSets?: (attr: LabelKey) => { train: LabelledSet; val: LabelledSet; test: LabelledSet };
  /** Appended to the informed checkpoints' names (<system>-informed-<attr><tag>), e.g. '-speaker-disjoint'. */
  tag?: string;
  runDir?: string;
  resume?: boolean;
  seed?: number;
  /** What the system's twin sets depend on (e.g. { mcadams: featureInputs(anon.spec) }): part of the informed attackers' identity. */
  inputs?: Record<string, unknown>;
  /** A checkpoint made with other settings: retrain (default) or refuse (false). */
  retrain?: boolean;
  log?: (line: string) => void;
}

/**
 * Judge a spectrogram-producing system (McAdams) by T and the DS2 attackers, as the obfuscator is.
 * @example
 * const anon = await mcadamsSpecSets(data, {}, path.join(runDir, 'features'));
 * const r = await evaluateSpecSystem({ data, system: 'mcadams', task: 'speaker', attacks: ['gender', 'emotion'],
 *   target: T, twin: anon.twin, model: c.model, attackerTrain: c.attackerTrain, runDir });
 */
export async function evaluateSpecSystem(o: EvaluateSpecSystemOptions): Promise<SpecSystemReport> {
  const seed = o.seed ?? 0;
  const resume = o.resume ?? true;
  const mc = (k: number): DeepSpeech2Config => resolveDeepSpeech2Config({ ...o.model, numClasses: k });
  const taskSets = setsFor(o.data, o.task);
  const tTest = labelled(o.data, taskSets.test, o.task);
  const tSpeakers = unseenTestSpeakers(o.data, [...taskSets.train.ids, ...taskSets.val.ids], tTest.set.ids);
  const target = {
    task: String(o.task),
    classes: classNames(o.data, o.task),
    clean: scoreClassification(predict(o.target, tTest.set), tTest.labels, tTest.numClasses, seed, tSpeakers),
    transformed: scoreClassification(
      predict(o.target, twinSubset(o.twin, taskSets.test, tTest.set)),
      tTest.labels,
      tTest.numClasses,
      seed,
      tSpeakers,
    ),
  };
  const attacks: AttackScores[] = [];
  // the system's output of the same utterances, looked up by id in the twins of every split set
  const byId = new Map<string, Float32Array>();
  for (const [clean, t] of o.twin) clean.ids.forEach((id, i) => byId.set(id, t.specs[i]!));
  const twinOf = (s: SpecSet): SpecSet => {
    const missing = s.ids.find((id) => !byId.has(id));
    if (missing !== undefined)
      throw new RangeError(`evaluateSpecSystem: the ${o.system} output of '${missing}' is missing`);
    return { ...s, specs: s.ids.map((id) => byId.get(id)!) };
  };
  for (const attr of o.attacks) {
    const sets = setsFor(o.data, attr);
    const given3 = o.attackSets?.(attr);
    const train = given3?.train ?? labelled(o.data, sets.train, attr);
    const val = given3?.val ?? labelled(o.data, sets.val, attr);
    const test = given3?.test ?? labelled(o.data, sets.test, attr);
    const k = train.numClasses;
    const given = o.cleanAttackers?.[String(attr)];
    const stage = { resume, log: o.log, ...(o.retrain === undefined ? {} : { retrain: o.retrain }) };
    const clean = given
      ? { model: given }
      : await trainOrLoadClassifier({
          runDir: o.runDir,
          name: `clean-${attr}${o.tag ?? ''}`,
          modelConfig: mc(k),
          train,
          val,
          config: o.attackerTrain,
          ...stage,
          inputs: experimentInputs(o.data),
        });
    const informed = await trainOrLoadClassifier({
      runDir: o.runDir,
      name: `${o.system}-informed-${attr}${o.tag ?? ''}`,
      modelConfig: mc(k),
      train: { ...train, set: twinOf(train.set) },
      val: { ...val, set: twinOf(val.set) },
      config: o.attackerTrain,
      ...stage,
      inputs: experimentInputs(o.data, o.inputs),
    });
    const anonTest = twinOf(test.set);
    const spk = unseenTestSpeakers(o.data, [...train.set.ids, ...val.set.ids], test.set.ids);
    attacks.push({
      attribute: String(attr),
      classes: classNames(o.data, attr),
      clean: scoreClassification(predict(clean.model, test.set), test.labels, k, seed, spk),
      ignorant: scoreClassification(predict(clean.model, anonTest), test.labels, k, seed, spk),
      informed: scoreClassification(predict(informed.model, anonTest), test.labels, k, seed, spk),
      informedHistory: informed.history,
    });
    if (!given) clean.model.dispose();
    informed.model.dispose();
  }
  return { system: o.system, target, attacks };
}

// ---------------------------------------------------------------------------------------------
// ADR judged on x-vectors

export interface AdrEvalConfig {
  /** ADR's sizes (inputDim comes from the x-vectors). */
  adr: Omit<AdrConfig, 'inputDim'>;
  adrTrain: AdrTrainConfig;
  /** Classifiers on x-vectors (target model and attackers). */
  classifier: VectorClassifierConfig;
  /**
   * The one binary attribute ADR is told to hide: a protected attribute of the experiment, never its
   * granted task ('' = the experiment's first binary protected attribute, resolved by the experiment).
   */
  hide: string;
  /**
   * Standardise x-vectors with the training split's mean and std, then length-normalise, before ADR and
   * the classifiers (the reference's optional V2D standardisation; Kaldi centres x-vectors too). Without
   * it, x-vectors share a large common direction, so cos(x̂, x) is high even when speaker detail is lost.
   */
  standardize: boolean;
  seed: number;
}

export const ADR_EVAL_DEFAULTS: AdrEvalConfig = {
  adr: { codeDim: 128, adversaryHidden: 128 },
  standardize: true,
  adrTrain: resolveAdrTrainConfig({}),
  classifier: VECTOR_CLASSIFIER_DEFAULTS,
  hide: '',
  seed: 0,
};

/** `paper`: the reference code's schedule; `cpu`: ADR_TRAIN_PRESETS.cpu (a corpus of hundreds of utterances). */
export const ADR_EVAL_PRESETS: Record<'paper' | 'cpu', AdrEvalConfig> = {
  paper: ADR_EVAL_DEFAULTS,
  cpu: { ...ADR_EVAL_DEFAULTS, adrTrain: resolveAdrTrainConfig(ADR_TRAIN_PRESETS.cpu) },
};

/** Preset ← overrides, validated (unknown keys are refused by name). */
export function resolveAdrEvalConfig(preset: 'paper' | 'cpu', partial: unknown = {}): AdrEvalConfig {
  const c = resolveConfig('AdrEvalConfig', ADR_EVAL_PRESETS[preset], partial);
  resolveAdrTrainConfig(c.adrTrain);
  resolveVectorClassifierConfig(c.classifier);
  return c;
}

export interface AdrReport {
  system: 'adr';
  hidden: string;
  /** Speaker (or other task) classifiers on x-vectors: clean, the clean one on ADR output, one retrained on ADR output. */
  target: { task: string; classes: string[]; clean: ClassScores; transformed: ClassScores; retrained: ClassScores };
  attacks: AttackScores[];
  /** EER of cosine scoring on x-vectors (no informed extractor: ADR outputs x-vectors, not audio). */
  verification: { original: EerByGender; ignorant: EerByGender; lazyInformed: EerByGender };
  training: { preLoss: number[]; history: AdrEpoch[] };
}

export interface EvaluateAdrOptions {
  data: ExperimentData;
  task: LabelKey;
  attacks: LabelKey[];
  /** The clean x-vector extractor (verification.ts trainCleanXVector). */
  extractor: XVector;
  config: AdrEvalConfig;
  log?: (line: string) => void;
}

/** x ← (x − μ)/σ per dimension with the statistics of `trainIds`, then x/‖x‖; in place. */
function standardizeInPlace(vecs: Map<string, Float32Array>, trainIds: readonly string[]): void {
  const d = vecs.values().next().value?.length ?? 0;
  const mean = new Float64Array(d);
  const sq = new Float64Array(d);
  const n = trainIds.length;
  for (const id of trainIds) {
    const v = vecs.get(id)!;
    for (let i = 0; i < d; i++) {
      mean[i] = mean[i]! + v[i]! / n;
      sq[i] = sq[i]! + (v[i]! * v[i]!) / n;
    }
  }
  const std = mean.map((m, i) => Math.sqrt(Math.max(sq[i]! - m * m, 1e-12)));
  for (const [id, v] of vecs) {
    const out = new Float32Array(d);
    let norm = 0;
    for (let i = 0; i < d; i++) {
      out[i] = (v[i]! - mean[i]!) / std[i]!;
      norm += out[i]! * out[i]!;
    }
    norm = Math.sqrt(norm) || 1;
    for (let i = 0; i < d; i++) out[i] = out[i]! / norm;
    vecs.set(id, out);
  }
}

/**
 * Train ADR on the training split's x-vectors to hide `config.hide`, then judge it with classifiers on
 * x-vectors for the task and every attack (clean, ignorant, informed), plus x-vector EERs.
 * @example const r = await evaluateAdr({ data, task: 'speaker', attacks: ['gender', 'emotion'], extractor, config: ADR_EVAL_DEFAULTS });
 */
export async function evaluateAdr(o: EvaluateAdrOptions): Promise<AdrReport> {
  const { data, config: c } = o;
  // x-vectors of every utterance in any split set (clean), then ADR's version of each
  const clean = new Map<string, Float32Array>();
  const all = [
    data.sets.train,
    data.sets.val,
    data.sets.test,
    ...(data.speakerSets ? [data.speakerSets.train, data.speakerSets.val, data.speakerSets.test] : []),
  ];
  for (const s of all) {
    const todo: SpecSet = { ids: [], specs: [], frames: [], nFreq: s.nFreq };
    s.ids.forEach((id, i) => {
      if (!clean.has(id)) {
        todo.ids.push(id);
        todo.specs.push(s.specs[i]!);
        todo.frames.push(s.frames[i]!);
      }
    });
    extractXVectors(o.extractor, todo).forEach((v, i) => clean.set(todo.ids[i]!, v));
  }
  if (c.standardize) standardizeInPlace(clean, data.sets.train.ids);
  // '' = the first binary protected attribute; never the granted task
  const hide =
    c.hide !== '' ? c.hide : String(o.attacks.find((a) => a !== o.task && classNames(data, a).length === 2) ?? '');
  if (hide === '' || hide === String(o.task)) {
    throw new EarmarkError(
      'EARMARK_CONFIG',
      `evaluateAdr: 'hide' must name a binary protected attribute (one of ${o.attacks.join(', ')}), ` +
        `never the granted task '${o.task}'; got '${c.hide}'`,
    );
  }
  const hideNames = classNames(data, hide);
  if (hideNames.length !== 2)
    throw new EarmarkError(
      'EARMARK_DATASET',
      `ADR hides one binary attribute; '${hide}' has ${hideNames.length} values (${hideNames.join(', ')})`,
    );
  const trainIds = data.sets.train.ids.filter((id) => labelOf(data.byId.get(id)!, hide) !== undefined);
  o.log?.(`  ADR: training on ${trainIds.length} x-vectors to hide ${hide}`);
  const adr = trainAdr({
    x: trainIds.map((id) => clean.get(id)!),
    y: trainIds.map((id) => hideNames.indexOf(labelOf(data.byId.get(id)!, hide)!)),
    modelConfig: c.adr,
    config: { ...c.adrTrain, seed: c.seed },
    onEpoch: (e) => {
      if ((e.epoch + 1) % Math.max(1, Math.floor(c.adrTrain.epochs / 10)) === 0)
        o.log?.(
          `  ADR epoch ${e.epoch + 1}: adversary BCE ${e.adversaryLoss.toFixed(3)} acc ${(100 * e.adversaryAcc).toFixed(1)}%  cos ${e.cosine.toFixed(3)}`,
        );
    },
  });
  const ids = [...clean.keys()];
  const protectedX = adrTransform(
    adr.model,
    ids.map((id) => clean.get(id)!),
    { w: 'random', seed: c.seed + 1 },
  );
  const anon = new Map(ids.map((id, i) => [id, protectedX[i]!]));
  adr.model.dispose();

  const vectors = (m: Map<string, Float32Array>, l: LabelledSet): VectorSet => ({
    x: l.set.ids.map((id) => m.get(id)!),
    y: l.labels,
  });
  const judge = (key: LabelKey): { clean: ClassScores; transformed: ClassScores; retrained: ClassScores } => {
    const sets = setsFor(data, key);
    const [tr, va, te] = [
      labelled(data, sets.train, key),
      labelled(data, sets.val, key),
      labelled(data, sets.test, key),
    ];
    const k = tr.numClasses;
    const spk = unseenTestSpeakers(data, [...tr.set.ids, ...va.set.ids], te.set.ids);
    const cleanClf = trainVectorClassifier(vectors(clean, tr), vectors(clean, va), k, c.classifier, `adr-clean-${key}`);
    const infClf = trainVectorClassifier(vectors(anon, tr), vectors(anon, va), k, c.classifier, `adr-informed-${key}`);
    const r = {
      clean: scoreClassification(cleanClf.predict(vectors(clean, te).x), te.labels, k, c.seed, spk),
      transformed: scoreClassification(cleanClf.predict(vectors(anon, te).x), te.labels, k, c.seed, spk),
      retrained: scoreClassification(infClf.predict(vectors(anon, te).x), te.labels, k, c.seed, spk),
    };
    cleanClf.dispose();
    infClf.dispose();
    return r;
  };
  const t = judge(o.task);
  const attacks: AttackScores[] = o.attacks.map((attr) => {
    const r = judge(attr);
    return {
      attribute: String(attr),
      classes: classNames(data, attr),
      clean: r.clean,
      ignorant: r.transformed,
      informed: r.retrained,
      informedHistory: [],
    };
  });
  const list = makeTrialList(data, data.sets.test, c.seed);
  return {
    system: 'adr',
    hidden: hide,
    target: { task: String(o.task), classes: classNames(data, o.task), ...t },
    attacks,
    verification: {
      original: scoreTrials(list, clean, clean),
      ignorant: scoreTrials(list, clean, anon),
      lazyInformed: scoreTrials(list, anon, anon),
    },
    training: { preLoss: adr.preHistory, history: adr.history },
  };
}
