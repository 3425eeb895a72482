// The opt-in experiment's first stages (run in order by run.ts), each a function of the shared run
// context and what earlier stages produced; each resumes from its checkpoints in the run folder:
//   data        corpus → splits (source takes kept together) → cached DS2 features → the attackers' protocols
//   target      T, the permitted task's model, on clean training audio
//   obfuscator  F_σ and F_μ against the frozen T
//   deploy      F_σ exported to ONNX with the training set's fixed output level; every utterance through
//               the deployed windowed rule, as frames and as phase-free PCM re-analysed (shipped.ts)
//   outputs     T on clean test audio and on each shipped format
//   edge        what int8 costs T and the primary protocol's frames informed attackers
// The attackers (attacks.ts), inversion networks (inversion.ts) and baselines (baseline-stage.ts) follow.
import path from 'node:path';
import {
  classNames,
  labelled,
  loadExperimentData,
  log1pLevel,
  setsFor,
  type ExperimentData,
} from '../../data/experiment-data.js';
import {
  attackProtocols,
  checkProtocol,
  unseenTestSpeakers,
  type AttackProtocol,
  type ProtocolPlan,
} from '../../data/protocols.js';
import type { LabelledSet } from '../../data/spec-set.js';
import { exportObfuscator, exportObfuscatorInt8 } from '../../deploy/export.js';
import { int8Cost, type Int8Cost } from '../../deploy/int8-cost.js';
import type { DeepSpeech2 } from '../../models/deepspeech2.js';
import { predict, type EpochRecord } from '../../methods/classifier.js';
import { experimentInputs } from '../../methods/stage.js';
import { deployedWindow, trainObfuscator, warmUpObfuscator, type ObfuscatorRun } from '../../methods/obfuscator.js';
import { manualSeed } from '../../tensor/index.js';
import { scoreClassification } from '../metrics.js';
import { classifier, cleanById, inRun, timed, withSource, type RunContext, type SpecById } from './context.js';
import { obfuscatorSeeds, type OutputFormat } from './config.js';
import { shippedOutputs } from './shipped.js';

/** A task's train, val and test sets with integer labels. */
function labelledSplits(
  data: ExperimentData,
  key: string,
): { train: LabelledSet; val: LabelledSet; test: LabelledSet } {
  const sets = setsFor(data, key);
  return {
    train: labelled(data, sets.train, key),
    val: labelled(data, sets.val, key),
    test: labelled(data, sets.test, key),
  };
}

export interface DataStage {
  data: ExperimentData;
  /** Clean features of every utterance by id. */
  clean: SpecById;
  plan: ProtocolPlan;
  /** The protocols that run, in the configured order (the first is primary). */
  protocols: AttackProtocol[];
}

export async function dataStage(run: RunContext): Promise<DataStage> {
  const c = run.config;
  run.log(`[data] ${c.dataset.manifest || c.dataset.root}`);
  const data = await timed(run, 'data', () => loadExperimentData(c.dataset, run.runDir));
  manualSeed(c.seed);
  const plan = attackProtocols(data, {
    attacks: run.spec.attacks,
    heldOutFraction: c.attack.heldOutFraction,
    seed: data.splits.config.seed,
  });
  for (const s of Object.values(plan.splits)) checkProtocol(data, s);
  const protocols = c.attack.protocols.filter((p) => plan.splits[p] !== undefined);
  if (protocols.length === 0) protocols.push('closed-set');
  for (const [p, why] of Object.entries(plan.unavailable)) {
    if (c.attack.protocols.includes(p as AttackProtocol))
      run.report.notes.push(`The ${p} protocol is not available on this corpus: ${why}.`);
  }
  run.report.protocols = { splits: plan.splits, unavailable: plan.unavailable, primary: protocols[0]! };
  run.report.dataset = {
    name: data.corpus.name,
    root: data.corpus.root,
    skipped: data.skipped.length,
    counts: { train: data.sets.train.ids.length, val: data.sets.val.ids.length, test: data.sets.test.ids.length },
  };
  return { data, clean: cleanById(data), plan, protocols };
}

export interface TargetStage {
  model: DeepSpeech2;
  history: EpochRecord[];
  /** The task's test set, scored clean and on every shipped format. */
  test: LabelledSet;
  val: LabelledSet;
  fingerprint: string;
  /** The test utterances' speakers when T never heard them (a corpus split by speakers): its intervals resample them. */
  speakers?: string[];
}

/** T: the permitted task's model, trained on clean training data. */
export async function targetStage(run: RunContext, d: DataStage): Promise<TargetStage> {
  const task = run.spec.task;
  run.log(`[target] T (${task})`);
  const { train, val, test } = labelledSplits(d.data, task);
  const t = await timed(run, 'target', () =>
    classifier(run, 'target', `T ${task}`, train, val, experimentInputs(d.data), run.config.targetTrain),
  );
  const speakers = unseenTestSpeakers(d.data, [...train.set.ids, ...val.set.ids], test.set.ids);
  run.report.target = {
    task: String(task),
    classes: classNames(d.data, task),
    formats: {},
    history: t.history,
    clean: scoreClassification(predict(t.model, test.set), test.labels, test.numClasses, run.config.seed, speakers),
  };
  return { ...t, test, val, speakers };
}

/** F_σ and F_μ, trained on the training split's audio only (labels unused) against the frozen T. */
export async function obfuscatorStage(run: RunContext, d: DataStage, target: TargetStage): Promise<ObfuscatorRun> {
  const c = run.config;
  run.log('[obfuscator] F_σ and F_μ');
  const obf = await timed(run, 'obfuscator', () =>
    trainObfuscator({
      target: target.model,
      obfuscatorConfig: c.obfuscator,
      deobfuscatorConfig: c.deobfuscator,
      train: d.data.sets.train,
      val: target.val,
      config: { ...c.obfuscatorTrain, seed: obfuscatorSeeds(c).obfuscator },
      checkpointPath: inRun(run, 'obfuscator.safetensors'),
      warmupPath: inRun(run, WARMUP_FILE),
      resume: run.resume,
      inputs: experimentInputs(d.data),
      retrain: run.retrain,
      log: run.log,
      ...run.placement,
      onEpoch: (e) =>
        run.log(
          `  obfuscator epoch ${e.epoch + 1}: L_a ${e.la.toFixed(3)}  L_t ${e.lt.toFixed(3)}  L_p ${e.lp.toFixed(3)}  ` +
            `val T acc obfuscated ${(100 * e.valTargetAcc).toFixed(1)}% (clean ${(100 * e.valCleanAcc).toFixed(1)}%)`,
        ),
    }),
  );
  run.report.obfuscator = {
    parameters: obf.obfuscator.numParameters(),
    deobfuscatorParameters: obf.deobfuscator.numParameters(),
    history: obf.history,
    selectedEpoch: obf.selectedEpoch,
  };
  return obf;
}

/** The identity warm-up's result, shared by every obfuscator of a sweep with the same warm-up. */
export const WARMUP_FILE = 'obfuscator-warmup.safetensors';

/** The identity warm-up alone (a sweep's shared stages): the file obfuscatorStage then loads. */
export async function warmupStage(run: RunContext, d: DataStage): Promise<void> {
  const c = run.config;
  if (c.obfuscatorTrain.identityWarmupSteps <= 0) return;
  run.log('[obfuscator] identity warm-up, shared by the obfuscators trained from it');
  await timed(run, 'obfuscator-warmup', () =>
    warmUpObfuscator({
      obfuscatorConfig: c.obfuscator,
      train: d.data.sets.train,
      config: { ...c.obfuscatorTrain, seed: obfuscatorSeeds(c).obfuscator },
      inputs: experimentInputs(d.data),
      warmupPath: inRun(run, WARMUP_FILE),
      log: run.log,
      ...run.placement,
    }),
  );
}

export interface DeployStage {
  onnx: string;
  /** Every utterance's shipped output, per format (per-utterance normalised). */
  shipped: Partial<Record<OutputFormat, SpecById>>;
  /** The shipped outputs' cache file (its key fingerprints the model and the rule). */
  cacheFile: string;
}

/**
 * F_σ as deployed: exported to ONNX with the training set's fixed output level, then every utterance
 * through the windowed rule as an app receives it (frames; PCM re-analysed). `prefix` is put before its
 * file names in the run folder (another obfuscator's attacker set: attacker-set.ts).
 */
export async function deployStage(
  run: RunContext,
  d: DataStage,
  obf: Pick<ObfuscatorRun, 'obfuscator'>,
  prefix = '',
): Promise<DeployStage> {
  const c = run.config;
  const level = log1pLevel(d.data, d.data.sets.train);
  const onnx = inRun(run, `${prefix}obfuscator.onnx`);
  const win = deployedWindow(c.obfuscatorTrain);
  exportObfuscator(obf.obfuscator, onnx, { features: { outputMean: level.mean, outputStd: level.std, ...win } });
  run.report.deployed = {
    onnx: path.relative(run.runDir, onnx),
    outputMean: level.mean,
    outputStd: level.std,
    synthesis: c.synthesis.method,
  };
  run.log(
    `[deploy] ${onnx} (output level ${level.mean.toFixed(3)} ± ${level.std.toFixed(3)}): ${c.attack.formats.join(' and ')} of every utterance (${c.synthesis.method} synthesis for pcm)`,
  );
  const window = { ...win, outputMean: level.mean, outputStd: level.std };
  const out = await timed(run, `${prefix}deploy`, () =>
    shippedOutputs(
      d.data,
      { onnx, window, synthesis: c.synthesis, formats: c.attack.formats },
      path.join(run.runDir, 'features'),
      c.attack.workers,
    ),
  );
  return { onnx, shipped: out.byFormat, cacheFile: out.file };
}

/** T on each shipped format of the task's test set. */
export function targetOnOutputs(run: RunContext, target: TargetStage, dep: DeployStage): void {
  const t = target.test;
  for (const f of run.config.attack.formats) {
    run.report.target!.formats[f] = scoreClassification(
      predict(target.model, withSource(t, dep.shipped[f]!).set),
      t.labels,
      t.numClasses,
      run.config.seed,
      target.speakers,
    );
  }
}

/** The edge stage (issue 7): what int8 costs T and the primary protocol's frames informed attackers. */
export async function edgeStage(
  run: RunContext,
  d: DataStage,
  target: TargetStage,
  obf: ObfuscatorRun,
  dep: DeployStage,
  informed: Record<string, { model: DeepSpeech2; test: LabelledSet }>,
): Promise<void> {
  const mode = run.config.edge.int8;
  if (mode === 'none') return;
  run.log(`[edge] the cost of int8 (${mode}) for T and the informed attackers`);
  await timed(run, 'edge', async () => {
    const int8Onnx = inRun(run, `obfuscator.int8-${mode}.onnx`);
    const r = run.report.deployed!;
    await exportObfuscatorInt8(obf.obfuscator, int8Onnx, mode, d.data.sets.train, {
      features: { outputMean: r.outputMean, outputStd: r.outputStd },
    });
    const attacks: Record<string, Int8Cost> = {};
    for (const [attr, a] of Object.entries(informed))
      attacks[attr] = await int8Cost(a.model, dep.onnx, int8Onnx, a.test);
    run.report.edge = {
      int8: mode,
      onnx: path.relative(run.runDir, dep.onnx),
      int8Onnx: path.relative(run.runDir, int8Onnx),
      target: await int8Cost(target.model, dep.onnx, int8Onnx, target.test),
      attacks,
    };
  });
}
