// The opt-in experiment's stages (run in order by run.ts), each a function of the shared run context and
// what earlier stages produced. A stage resumes from its checkpoints in the run folder.
import path from 'node:path';
import { classNames, labelled, loadExperimentData, setsFor, type ExperimentData } from '../../data/experiment-data.js';
import { mcadamsSpecSets, type AnonymisedSets } from '../../data/features-mcadams.js';
import { mapSet, twinSubset, type LabelledSet, type SpecSet } from '../../data/spec-set.js';
import { exportObfuscator, exportObfuscatorInt8 } from '../../deploy/export.js';
import { int8Cost, type Int8Cost } from '../../deploy/int8-cost.js';
import { resolveDeepSpeech2Config, type DeepSpeech2, type DeepSpeech2Config } from '../../models/deepspeech2.js';
import { predict, trainOrLoadClassifier, type EpochRecord } from '../../methods/classifier.js';
import { trainObfuscator, type ObfuscatorRun } from '../../methods/obfuscator.js';
import { trainCleanXVector } from '../../methods/xvector.js';
import { manualSeed, type Tensor } from '../../tensor/index.js';
import { Progress } from '../../util/progress.js';
import { evaluateAdr, evaluateSpecSystem } from '../baselines.js';
import { scoreClassification } from '../metrics.js';
import { evaluateVerification, type VerificationResult } from '../verification.js';
import type { AttackResult, ExperimentConfig, ExperimentName, ExperimentReport, EXPERIMENTS } from './config.js';

/** What every stage shares: the resolved config, the run folder, the log and the timings. */
export interface RunContext {
  readonly config: ExperimentConfig;
  /** What the experiment permits and attacks. */
  readonly spec: (typeof EXPERIMENTS)[ExperimentName];
  readonly runDir: string;
  readonly resume: boolean;
  readonly log: (line: string) => void;
  /** Seconds per timed step, in the order the steps ran (report.json's `seconds`). */
  readonly seconds: Record<string, number>;
}

/** Run `f` and record its wall time under `name`. */
export async function timed<T>(run: RunContext, name: string, f: () => Promise<T> | T): Promise<T> {
  const t0 = Date.now();
  try {
    return await f();
  } finally {
    run.seconds[name] = (Date.now() - t0) / 1000;
  }
}

/** T's architecture (and every attacker's) for `k` classes. */
function modelConfig(run: RunContext, k: number): DeepSpeech2Config {
  return resolveDeepSpeech2Config({ ...run.config.model, numClasses: k });
}

/** A task's train, val and test sets with integer labels. */
function labelledSplits(data: ExperimentData, key: string): { train: LabelledSet; val: LabelledSet; test: LabelledSet } {
  const sets = setsFor(data, key);
  return { train: labelled(data, sets.train, key), val: labelled(data, sets.val, key), test: labelled(data, sets.test, key) };
}

export async function dataStage(run: RunContext): Promise<ExperimentData> {
  const c = run.config;
  run.log(`[1/5] data: ${c.dataset.manifest || c.dataset.root}`);
  const data = await timed(run, 'data', () => loadExperimentData(c.dataset, run.runDir));
  manualSeed(c.seed);
  return data;
}

export interface TargetStage {
  model: DeepSpeech2;
  history: EpochRecord[];
  /** The task's test set, scored clean and obfuscated by the report. */
  test: LabelledSet;
  val: LabelledSet;
}

/** T: the permitted task's model, trained on clean training data. */
export async function targetStage(run: RunContext, data: ExperimentData): Promise<TargetStage> {
  const task = run.spec.task;
  run.log(`[2/5] target model T (${task})`);
  const { train, val, test } = labelledSplits(data, task);
  const t = await timed(run, 'target', () => trainOrLoadClassifier({ runDir: run.runDir, name: 'target', label: `T ${task}`,
    modelConfig: modelConfig(run, train.numClasses), train, val, config: run.config.targetTrain, resume: run.resume, log: run.log }));
  return { ...t, test, val };
}

/** F_σ and F_μ, trained on the training split's audio only (labels unused) against the frozen T. */
export async function obfuscatorStage(run: RunContext, data: ExperimentData, target: TargetStage): Promise<ObfuscatorRun> {
  const c = run.config;
  run.log('[3/5] obfuscator and deobfuscator');
  return timed(run, 'obfuscator', () => trainObfuscator({
    target: target.model, obfuscatorConfig: c.obfuscator, deobfuscatorConfig: c.deobfuscator, train: data.sets.train, val: target.val,
    config: { ...c.obfuscatorTrain, seed: c.seed }, checkpointPath: path.join(run.runDir, 'obfuscator.safetensors'), resume: run.resume,
    onEpoch: (e) => run.log(`  obfuscator epoch ${e.epoch + 1}: L_a ${e.la.toFixed(3)}  L_t ${e.lt.toFixed(3)}  L_p ${e.lp.toFixed(3)}  ` +
      `val T acc obfuscated ${(100 * e.valTargetAcc).toFixed(1)}% (clean ${(100 * e.valCleanAcc).toFixed(1)}%)`),
  }));
}

/** Every split set (and the speaker-ID protocol's) through F_σ: clean set → its obfuscated twin. */
export async function obfuscateStage(run: RunContext, data: ExperimentData, obf: ObfuscatorRun): Promise<Map<SpecSet, SpecSet>> {
  run.log('[4/5] obfuscating the splits');
  return timed(run, 'obfuscate', () => {
    const all = [...new Set([...Object.values(data.sets), ...Object.values(data.speakerSets ?? {})])];
    const bar = new Progress({ total: all.reduce((n, s) => n + s.ids.length, 0), label: 'obfuscate' });
    const m = new Map<SpecSet, SpecSet>(all.map((s) => [s, mapSet(s, (x: Tensor) => obf.obfuscator.forward(x), () => bar.tick())]));
    bar.done();
    return m;
  });
}

export interface AttackStage {
  results: AttackResult[];
  /** Clean classifiers by attribute, reused to judge McAdams. */
  clean: Record<string, DeepSpeech2>;
  /** Informed attackers and their test sets by attribute, reused to judge int8. */
  informed: Record<string, { model: DeepSpeech2; test: LabelledSet }>;
}

export type TargetScores = Pick<ExperimentReport['target'], 'clean' | 'obfuscated'>;

/** T on the task's clean and obfuscated test audio. */
export function scoreTarget(run: RunContext, target: TargetStage, obf: ObfuscatorRun): TargetScores {
  const t = target.test;
  const seed = run.config.seed;
  return {
    clean: scoreClassification(predict(target.model, t.set), t.labels, t.numClasses, seed),
    obfuscated: scoreClassification(predict(target.model, t.set, (x: Tensor) => obf.obfuscator.forward(x)), t.labels, t.numClasses, seed),
  };
}

/** The clean classifier and the ignorant, informed and reconstruction attackers of every attacked attribute. */
export async function attackStage(run: RunContext, data: ExperimentData, obf: ObfuscatorRun, obfSets: Map<SpecSet, SpecSet>): Promise<AttackStage> {
  const { config: c, spec } = run;
  const reconstruct = (x: Tensor): Tensor => obf.deobfuscator.forward(obf.obfuscator.forward(x));
  run.log(`[5/5] attackers on ${spec.attacks.join(', ')}`);
  const out: AttackStage = { results: [], clean: {}, informed: {} };
  for (const attr of spec.attacks) {
    const sets = setsFor(data, attr);
    const { train, val, test } = labelledSplits(data, attr);
    const k = train.numClasses;
    const clean = await timed(run, `clean-${attr}`, () => trainOrLoadClassifier({ runDir: run.runDir, name: `clean-${attr}`, label: `clean ${attr}`,
      modelConfig: modelConfig(run, k), train, val, config: c.attackerTrain, resume: run.resume, log: run.log }));
    const informed = await timed(run, `informed-${attr}`, () => trainOrLoadClassifier({ runDir: run.runDir, name: `informed-${attr}`, label: `informed ${attr}`,
      modelConfig: modelConfig(run, k), train: { ...train, set: twinSubset(obfSets, sets.train, train.set) },
      val: { ...val, set: twinSubset(obfSets, sets.val, val.set) }, config: c.attackerTrain, resume: run.resume, log: run.log }));
    const obfTest = twinSubset(obfSets, sets.test, test.set);
    out.results.push({
      attribute: String(attr),
      classes: classNames(data, attr),
      clean: scoreClassification(predict(clean.model, test.set), test.labels, k, c.seed),
      ignorant: scoreClassification(predict(clean.model, obfTest), test.labels, k, c.seed),
      informed: scoreClassification(predict(informed.model, obfTest), test.labels, k, c.seed),
      reconstruction: scoreClassification(predict(clean.model, test.set, reconstruct), test.labels, k, c.seed),
      cleanHistory: clean.history,
      informedHistory: informed.history,
    });
    out.clean[String(attr)] = clean.model;
    out.informed[String(attr)] = { model: informed.model, test };
  }
  return out;
}

/** The edge stage (issue 7): the obfuscator as deployed (ONNX, windowed rule), and what int8 costs. */
export async function edgeStage(run: RunContext, data: ExperimentData, target: TargetStage, obf: ObfuscatorRun,
  attacks: AttackStage): Promise<ExperimentReport['edge']> {
  const mode = run.config.edge.int8;
  if (mode === 'none') return undefined;
  run.log(`[edge] ONNX export and the cost of int8 (${mode}) for T and the informed attackers`);
  return timed(run, 'edge', async () => {
    const onnx = path.join(run.runDir, 'obfuscator.onnx');
    const int8Onnx = path.join(run.runDir, `obfuscator.int8-${mode}.onnx`);
    exportObfuscator(obf.obfuscator, onnx);
    await exportObfuscatorInt8(obf.obfuscator, int8Onnx, mode, data.sets.train);
    const attackCosts: Record<string, Int8Cost> = {};
    for (const [attr, a] of Object.entries(attacks.informed)) attackCosts[attr] = await int8Cost(a.model, onnx, int8Onnx, a.test);
    return { int8: mode, onnx, int8Onnx, target: await int8Cost(target.model, onnx, int8Onnx, target.test), attacks: attackCosts };
  });
}

/**
 * Baselines (issue 5), judged by the same attackers: McAdams on audio (T and DS2 attackers), ADR on
 * x-vectors (x-vector classifiers), and VoicePrivacy-style speaker verification for audio systems.
 */
export async function baselineStage(run: RunContext, data: ExperimentData, target: DeepSpeech2, obfSets: Map<SpecSet, SpecSet>,
  cleanAttackers: Record<string, DeepSpeech2>): Promise<{ baselines: ExperimentReport['baselines']; verification: VerificationResult[] }> {
  const { config: c, spec, runDir, resume, log } = run;
  const baselines: ExperimentReport['baselines'] = {};
  const verification: VerificationResult[] = [];
  let mcSets: AnonymisedSets | undefined;
  if (c.baselines.mcadams) {
    log('[baselines] McAdams anonymisation judged by T and the DS2 attackers');
    mcSets = await timed(run, 'mcadams-features', () => mcadamsSpecSets(data, { ...c.mcadams, seed: c.mcadams.seed ?? c.seed }, path.join(runDir, 'features')));
    const twin = mcSets.twin;
    baselines.mcadams = await timed(run, 'mcadams', () => evaluateSpecSystem({
      data, system: 'mcadams', task: spec.task, attacks: spec.attacks, target, twin, model: c.model,
      attackerTrain: c.attackerTrain, cleanAttackers, runDir, resume, seed: c.seed, log,
    }));
  }
  if (c.baselines.adr || c.baselines.verification) {
    log('[baselines] clean x-vector extractor');
    const xv = await timed(run, 'xvector', () => trainCleanXVector(data, c.verification, runDir, log));
    if (c.baselines.adr) {
      log(`[baselines] ADR (opt-out, told to hide ${c.adr.hide}) judged on x-vectors`);
      baselines.adr = await timed(run, 'adr', () => evaluateAdr({ data, task: spec.task, attacks: spec.attacks, extractor: xv.model, config: c.adr, log }));
    }
    if (c.baselines.verification) {
      log('[baselines] speaker verification: ignorant, lazy-informed and informed attackers');
      const judge = (system: string, output: { train: SpecSet; test: SpecSet }): Promise<VerificationResult> => timed(run, `verification-${system}`,
        () => evaluateVerification({ data, system, output, clean: xv.model, config: c.verification, runDir, resume, log }));
      verification.push(await judge('obfuscator', { train: twinSubset(obfSets, data.sets.train, data.sets.train), test: twinSubset(obfSets, data.sets.test, data.sets.test) }));
      if (mcSets) verification.push(await judge('mcadams', { train: mcSets.sets.train, test: mcSets.sets.test }));
    }
    xv.model.dispose();
  }
  return { baselines, verification };
}
