// The paper's experiments (Wang et al. 2022 §8): fig3a (target speaker ID, protect gender), fig3b
// (target gender, protect speaker ID), fig4 (target speaker ID, attack gender and emotion). Each stage
// resumes from its checkpoint in the run folder: target T → obfuscator/deobfuscator → for every
// non-permitted attribute a clean classifier (the paper's circles), the ignorant attacker (clean model on
// obfuscated audio), the informed attacker (trained on obfuscated training audio) and a reconstruction
// attacker (clean model on the deobfuscator's output). Every attacker has T's architecture.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { classNames, labelled, loadExperimentData, setsFor } from '../../data/experiment-data.js';
import { mcadamsSpecSets } from '../../data/features-mcadams.js';
import { mapSet, twinSubset, type SpecSet } from '../../data/spec-set.js';
import { exportObfuscator, exportObfuscatorInt8 } from '../../deploy/export.js';
import { int8Cost, type Int8Cost } from '../../deploy/int8-cost.js';
import { resolveDeepSpeech2Config, type DeepSpeech2, type DeepSpeech2Config } from '../../models/deepspeech2.js';
import { predict, trainOrLoadClassifier } from '../../methods/classifier.js';
import { trainObfuscator } from '../../methods/obfuscator.js';
import { manualSeed, type Tensor } from '../../tensor/index.js';
import { writeFileAtomicSync } from '../../util/atomic.js';
import { Progress } from '../../util/progress.js';
import { evaluateAdr, evaluateSpecSystem } from '../baselines.js';
import { scoreClassification, type ClassScores } from '../metrics.js';
import { trainCleanXVector } from '../../methods/xvector.js';
import { evaluateVerification, type VerificationResult } from '../verification.js';
import { EXPERIMENTS, type AttackResult, type ExperimentConfig, type ExperimentReport } from './config.js';
import { writeReportHtml } from './report.js';

export interface RunExperimentOptions {
  config: ExperimentConfig;
  runDir: string;
  /** Continue from the checkpoints in runDir (default true: finished stages are never redone). */
  resume?: boolean;
  log?: (line: string) => void;
}

/**
 * Run one experiment end to end and write report.json and report.html into runDir.
 * @example const r = await runExperiment({ config: resolveExperimentConfig('cpu', { experiment: 'fig4', dataset }), runDir: 'runs/fig4' });
 */
export async function runExperiment(o: RunExperimentOptions): Promise<ExperimentReport> {
  const c = o.config;
  const log = o.log ?? ((l: string) => console.error(l));
  const resume = o.resume ?? true;
  const spec = EXPERIMENTS[c.experiment];
  mkdirSync(o.runDir, { recursive: true });
  writeFileAtomicSync(path.join(o.runDir, 'config.json'), JSON.stringify(c, null, 2));
  const seconds: Record<string, number> = {};
  const timed = async <T>(name: string, f: () => Promise<T> | T): Promise<T> => {
    const t0 = Date.now();
    try { return await f(); } finally { seconds[name] = (Date.now() - t0) / 1000; }
  };

  log(`[1/5] data: ${c.dataset.manifest || c.dataset.root}`);
  const data = await timed('data', () => loadExperimentData(c.dataset, o.runDir));
  manualSeed(c.seed);

  // T: the permitted task's model, trained on clean training data
  log(`[2/5] target model T (${spec.task})`);
  const taskSets = setsFor(data, spec.task);
  const tTrain = labelled(data, taskSets.train, spec.task);
  const tVal = labelled(data, taskSets.val, spec.task);
  const tTest = labelled(data, taskSets.test, spec.task);
  const modelConfig = (k: number): DeepSpeech2Config => resolveDeepSpeech2Config({ ...c.model, numClasses: k });
  const target = await timed('target', () => trainOrLoadClassifier({ runDir: o.runDir, name: 'target', label: `T ${spec.task}`,
    modelConfig: modelConfig(tTrain.numClasses), train: tTrain, val: tVal, config: c.targetTrain, resume, log }));

  // F_σ and F_μ, trained on the training split's audio only (labels unused)
  log('[3/5] obfuscator and deobfuscator');
  const obfRun = await timed('obfuscator', async () => {
    const r = await trainObfuscator({
      target: target.model, obfuscatorConfig: c.obfuscator, deobfuscatorConfig: c.deobfuscator, train: data.sets.train,
      val: tVal, config: { ...c.obfuscatorTrain, seed: c.seed }, checkpointPath: path.join(o.runDir, 'obfuscator.safetensors'), resume,
      onEpoch: (e) => log(`  obfuscator epoch ${e.epoch + 1}: L_a ${e.la.toFixed(3)}  L_t ${e.lt.toFixed(3)}  L_p ${e.lp.toFixed(3)}  ` +
        `val T acc obfuscated ${(100 * e.valTargetAcc).toFixed(1)}% (clean ${(100 * e.valCleanAcc).toFixed(1)}%)`),
    });
    return r;
  });
  const obf = obfRun.obfuscator;
  const deobf = obfRun.deobfuscator;
  const obfuscate = (x: Tensor): Tensor => obf.forward(x);
  const reconstruct = (x: Tensor): Tensor => deobf.forward(obf.forward(x));

  log('[4/5] obfuscating the splits');
  const obfSets = await timed('obfuscate', () => {
    const all = [...new Set([...Object.values(data.sets), ...Object.values(data.speakerSets ?? {})])];
    const bar = new Progress({ total: all.reduce((n, s) => n + s.ids.length, 0), label: 'obfuscate' });
    const m = new Map<SpecSet, SpecSet>(all.map((s) => [s, mapSet(s, obfuscate, () => bar.tick())]));
    bar.done();
    return m;
  });

  const targetScores = {
    clean: scoreClassification(predict(target.model, tTest.set), tTest.labels, tTest.numClasses, c.seed),
    obfuscated: scoreClassification(predict(target.model, tTest.set, obfuscate), tTest.labels, tTest.numClasses, c.seed),
  };

  log(`[5/5] attackers on ${spec.attacks.join(', ')}`);
  const attacks: AttackResult[] = [];
  const cleanAttackers: Record<string, DeepSpeech2> = {};
  const informedAttackers: Record<string, { model: DeepSpeech2; test: ReturnType<typeof labelled> }> = {};
  for (const attr of spec.attacks) {
    const sets = setsFor(data, attr);
    const train = labelled(data, sets.train, attr);
    const val = labelled(data, sets.val, attr);
    const test = labelled(data, sets.test, attr);
    const k = train.numClasses;
    const clean = await timed(`clean-${attr}`, () => trainOrLoadClassifier({ runDir: o.runDir, name: `clean-${attr}`, label: `clean ${attr}`,
      modelConfig: modelConfig(k), train, val, config: c.attackerTrain, resume, log }));
    const informed = await timed(`informed-${attr}`, () => trainOrLoadClassifier({ runDir: o.runDir, name: `informed-${attr}`, label: `informed ${attr}`,
      modelConfig: modelConfig(k), train: { ...train, set: twinSubset(obfSets, sets.train, train.set) },
      val: { ...val, set: twinSubset(obfSets, sets.val, val.set) }, config: c.attackerTrain, resume, log }));
    const obfTest = twinSubset(obfSets, sets.test, test.set);
    attacks.push({
      attribute: String(attr),
      classes: classNames(data, attr),
      clean: scoreClassification(predict(clean.model, test.set), test.labels, k, c.seed),
      ignorant: scoreClassification(predict(clean.model, obfTest), test.labels, k, c.seed),
      informed: scoreClassification(predict(informed.model, obfTest), test.labels, k, c.seed),
      reconstruction: scoreClassification(predict(clean.model, test.set, reconstruct), test.labels, k, c.seed),
      cleanHistory: clean.history,
      informedHistory: informed.history,
    });
    cleanAttackers[String(attr)] = clean.model; // reused to judge McAdams
    informedAttackers[String(attr)] = { model: informed.model, test }; // reused to judge int8
  }

  // The edge stage (issue 7): the obfuscator as deployed (ONNX, windowed rule), and what int8 costs
  let edge: ExperimentReport['edge'];
  if (c.edge.int8 !== 'none') {
    const mode = c.edge.int8;
    log(`[edge] ONNX export and the cost of int8 (${mode}) for T and the informed attackers`);
    edge = await timed('edge', async () => {
      const onnx = path.join(o.runDir, 'obfuscator.onnx');
      const int8Onnx = path.join(o.runDir, `obfuscator.int8-${mode}.onnx`);
      exportObfuscator(obf, onnx);
      await exportObfuscatorInt8(obf, int8Onnx, mode, data.sets.train);
      const attackCosts: Record<string, Int8Cost> = {};
      for (const [attr, a] of Object.entries(informedAttackers)) attackCosts[attr] = await int8Cost(a.model, onnx, int8Onnx, a.test);
      return { int8: mode, onnx, int8Onnx, target: await int8Cost(target.model, onnx, int8Onnx, tTest), attacks: attackCosts };
    });
  }
  for (const a of Object.values(informedAttackers)) a.model.dispose();

  // Baselines (issue 5), judged by the same attackers: McAdams on audio (T and DS2 attackers), ADR on
  // x-vectors (x-vector classifiers), and VoicePrivacy-style speaker verification for audio systems.
  const baselines: ExperimentReport['baselines'] = {};
  const verification: VerificationResult[] = [];
  let mcSets: Awaited<ReturnType<typeof mcadamsSpecSets>> | undefined;
  if (c.baselines.mcadams) {
    log('[baselines] McAdams anonymisation judged by T and the DS2 attackers');
    mcSets = await timed('mcadams-features', () => mcadamsSpecSets(data, { ...c.mcadams, seed: c.mcadams.seed ?? c.seed }, path.join(o.runDir, 'features')));
    baselines.mcadams = await timed('mcadams', () => evaluateSpecSystem({
      data, system: 'mcadams', task: spec.task, attacks: spec.attacks, target: target.model, twin: mcSets!.twin, model: c.model,
      attackerTrain: c.attackerTrain, cleanAttackers, runDir: o.runDir, resume, seed: c.seed, log,
    }));
  }
  if (c.baselines.adr || c.baselines.verification) {
    log('[baselines] clean x-vector extractor');
    const xv = await timed('xvector', () => trainCleanXVector(data, c.verification, o.runDir, log));
    if (c.baselines.adr) {
      log(`[baselines] ADR (opt-out, told to hide ${c.adr.hide}) judged on x-vectors`);
      baselines.adr = await timed('adr', () => evaluateAdr({ data, task: spec.task, attacks: spec.attacks, extractor: xv.model, config: c.adr, log }));
    }
    if (c.baselines.verification) {
      log('[baselines] speaker verification: ignorant, lazy-informed and informed attackers');
      const obfOut = { train: twinSubset(obfSets, data.sets.train, data.sets.train), test: twinSubset(obfSets, data.sets.test, data.sets.test) };
      verification.push(await timed('verification-obfuscator', () => evaluateVerification({ data, system: 'obfuscator', output: obfOut, clean: xv.model, config: c.verification, runDir: o.runDir, resume, log })));
      if (mcSets) {
        const mcOut = { train: mcSets.sets.train, test: mcSets.sets.test };
        verification.push(await timed('verification-mcadams', () => evaluateVerification({ data, system: 'mcadams', output: mcOut, clean: xv.model, config: c.verification, runDir: o.runDir, resume, log })));
      }
    }
    xv.model.dispose();
  }
  for (const m of Object.values(cleanAttackers)) m.dispose();

  const report: ExperimentReport = {
    format: 'earmark-experiment-report',
    version: 1,
    experiment: c.experiment,
    title: spec.title,
    dataset: {
      name: data.corpus.name, root: data.corpus.root, skipped: data.skipped.length,
      counts: { train: data.sets.train.ids.length, val: data.sets.val.ids.length, test: data.sets.test.ids.length },
    },
    config: c,
    target: { task: String(spec.task), classes: classNames(data, spec.task), ...targetScores, history: target.history },
    obfuscator: { parameters: obf.numParameters(), deobfuscatorParameters: deobf.numParameters(), history: obfRun.history },
    attacks,
    baselines,
    verification,
    ...(edge ? { edge } : {}),
    verdicts: verdicts(targetScores, attacks, baselines),
    seconds,
    createdAt: new Date().toISOString(),
  };
  writeFileAtomicSync(path.join(o.runDir, 'report.json'), JSON.stringify(report, null, 2));
  await writeReportHtml(path.join(o.runDir, 'report.html'), report, { data, target: target.model, obfuscator: obf, deobfuscator: deobf, examples: c.reportExamples });
  target.model.dispose();
  obf.dispose();
  deobf.dispose();
  return report;
}

/** The paper's claims (and the acceptance bounds) checked against measured numbers. */
function verdicts(t: { clean: ClassScores; obfuscated: ClassScores }, attacks: AttackResult[], baselines: ExperimentReport['baselines']): ExperimentReport['verdicts'] {
  const pts = (x: number): string => `${(100 * x).toFixed(1)}%`;
  const out: ExperimentReport['verdicts'] = [];
  const drop = t.clean.accuracy - t.obfuscated.accuracy;
  out.push({ claim: "T's accuracy on obfuscated audio is within 6 points of its clean accuracy", holds: drop <= 0.06,
    detail: `clean ${pts(t.clean.accuracy)}, obfuscated ${pts(t.obfuscated.accuracy)} (drop ${(100 * drop).toFixed(1)} points)` });
  for (const a of attacks) {
    const chance = Math.max(a.ignorant.chanceUniform, a.ignorant.chanceMajority);
    out.push({ claim: `the ignorant ${a.attribute} attacker is within 10 points of chance`, holds: a.ignorant.accuracy - chance <= 0.10,
      detail: `${pts(a.ignorant.accuracy)} vs chance ${pts(chance)} (majority class ${pts(a.ignorant.chanceMajority)}, 1/K ${pts(a.ignorant.chanceUniform)})` });
    out.push({ claim: `the informed ${a.attribute} attacker stays below the clean ${a.attribute} classifier`, holds: a.informed.accuracy < a.clean.accuracy,
      detail: `informed ${pts(a.informed.accuracy)} vs clean ${pts(a.clean.accuracy)}` });
    for (const [name, rep] of [['ADR', baselines.adr], ['McAdams', baselines.mcadams]] as const) {
      const b = rep?.attacks.find((x) => x.attribute === a.attribute);
      if (b === undefined) continue;
      out.push({ claim: `the opt-in obfuscator protects ${a.attribute} better than ${name} against informed attackers`, holds: a.informed.accuracy < b.informed.accuracy,
        detail: `informed attacker: obfuscator ${pts(a.informed.accuracy)}, ${name} ${pts(b.informed.accuracy)}` });
    }
  }
  return out;
}

/** Write JSON atomically (helper for callers that store extra files in a run folder). */
export function writeJson(file: string, value: unknown): void {
  writeFileAtomicSync(file, JSON.stringify(value, null, 2));
}

