// The standalone steps behind `earmark train-target` and `earmark train-obfuscator`: the same stages
// as an experiment, run one at a time into a folder (checkpoint, resolved config, result JSON).
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { EarmarkError } from '../../errors.js';
import type { LabelKey } from '../../data/index.js';
import { DeepSpeech2, resolveDeepSpeech2Config, type DeepSpeech2Config } from '../../models/deepspeech2.js';
import { loadCheckpoint, readCheckpointState } from '../../methods/checkpoint.js';
import { predict, trainClassifier, type ClassifierTrainConfig } from '../../methods/classifier.js';
import { trainObfuscator, type ObfuscatorTrainConfig } from '../../methods/obfuscator.js';
import { experimentInputs } from '../../methods/stage.js';
import { onRank0 } from '../../distributed/index.js';
import type { PlacementOptions } from '../../methods/placement.js';
import type { CycleGanVc2Config } from '../../models/cyclegan-vc2.js';
import { writeFileAtomicSync } from '../../util/atomic.js';
import { labelled, loadExperimentData, setsFor, type DatasetOptions } from '../../data/experiment-data.js';
import { scoreClassification, type ClassScores } from '../metrics.js';

/** `device`, `amp` and `processGroup` place the training (a data-parallel job: rank 0 writes the files). */
export interface TrainTargetOptions extends PlacementOptions {
  task: LabelKey;
  dataset: DatasetOptions;
  model: Omit<DeepSpeech2Config, 'numClasses'>;
  train: ClassifierTrainConfig;
  out: string;
  resume: boolean;
  /** With resume, a checkpoint made with other settings or data: retrain (default) or refuse (false). */
  retrain?: boolean;
}

export interface TrainTargetResult {
  checkpoint: string;
  val: ClassScores;
  test: ClassScores;
  bestEpoch: number;
}

/** Train T for one task on a dataset's train split; report validation and test accuracy (vote counting). */
export async function runTrainTarget(o: TrainTargetOptions): Promise<TrainTargetResult> {
  mkdirSync(o.out, { recursive: true });
  const data = await loadExperimentData(o.dataset, o.out);
  const sets = setsFor(data, o.task);
  const [train, val, test] = [sets.train, sets.val, sets.test].map((s) => labelled(data, s, o.task)) as [
    ReturnType<typeof labelled>,
    ReturnType<typeof labelled>,
    ReturnType<typeof labelled>,
  ];
  const modelConfig = resolveDeepSpeech2Config({ ...o.model, numClasses: train.numClasses });
  const checkpoint = path.join(o.out, 'target.safetensors');
  const run = await trainClassifier({
    name: `T ${o.task}`,
    stage: 'target',
    modelConfig,
    train,
    val,
    config: o.train,
    checkpointPath: checkpoint,
    resume: o.resume,
    inputs: experimentInputs(data),
    retrain: o.retrain ?? true,
    log: (l) => console.error(l),
    device: o.device,
    amp: o.amp,
    processGroup: o.processGroup,
    onEpoch: (e) =>
      console.error(
        `  epoch ${e.epoch + 1}/${o.train.epochs}: loss ${e.trainLoss.toFixed(3)}, val ${(100 * e.valAcc).toFixed(1)}%`,
      ),
  });
  const result: TrainTargetResult = {
    checkpoint,
    val: scoreClassification(predict(run.model, val.set), val.labels, val.numClasses),
    test: scoreClassification(predict(run.model, test.set), test.labels, test.numClasses),
    bestEpoch: run.bestEpoch,
  };
  await onRank0(
    o.processGroup ?? null,
    () =>
      writeFileAtomicSync(
        path.join(o.out, 'target.json'),
        JSON.stringify(
          {
            task: o.task,
            modelConfig,
            train: o.train,
            dataset: o.dataset,
            ...result,
            fingerprint: run.fingerprint,
            history: run.history,
          },
          null,
          2,
        ),
      ),
    'target.json',
  );
  run.model.dispose();
  return result;
}

/** A trained target model from a checkpoint written by train-target or an experiment. */
export function loadTarget(checkpoint: string): DeepSpeech2 {
  const st = readCheckpointState<{ modelConfig?: DeepSpeech2Config }>(checkpoint);
  if (st.modelConfig === undefined)
    throw new EarmarkError(
      'EARMARK_CHECKPOINT',
      `${checkpoint} holds no DeepSpeech2 config; give a checkpoint written by \`earmark train-target\``,
    );
  const model = new DeepSpeech2(resolveDeepSpeech2Config(st.modelConfig));
  loadCheckpoint(checkpoint, { modules: { best: model } });
  return model.eval();
}

export interface TrainObfuscatorOptions extends PlacementOptions {
  target: string;
  task: LabelKey;
  dataset: DatasetOptions;
  obfuscator: CycleGanVc2Config;
  deobfuscator: CycleGanVc2Config;
  train: ObfuscatorTrainConfig;
  out: string;
  resume: boolean;
  /** With resume, a checkpoint made with other settings, data or target: retrain (default) or refuse (false). */
  retrain?: boolean;
}

/** Train F_σ and F_μ against a frozen target checkpoint. */
export async function runTrainObfuscator(
  o: TrainObfuscatorOptions,
): Promise<{ checkpoint: string; valTargetAcc: number; valCleanAcc: number }> {
  mkdirSync(o.out, { recursive: true });
  const data = await loadExperimentData(o.dataset, o.out);
  const target = loadTarget(o.target);
  const val = labelled(data, setsFor(data, o.task).val, o.task);
  if (val.numClasses !== target.config.numClasses) {
    throw new EarmarkError(
      'EARMARK_CHECKPOINT',
      `${o.target} predicts ${target.config.numClasses} classes but '${o.task}' has ${val.numClasses} in this dataset; was it trained for another task or dataset?`,
    );
  }
  const checkpoint = path.join(o.out, 'obfuscator.safetensors');
  const run = await trainObfuscator({
    target,
    obfuscatorConfig: o.obfuscator,
    deobfuscatorConfig: o.deobfuscator,
    train: data.sets.train,
    val,
    config: o.train,
    checkpointPath: checkpoint,
    resume: o.resume,
    inputs: experimentInputs(data),
    retrain: o.retrain ?? true,
    log: (l) => console.error(l),
    device: o.device,
    amp: o.amp,
    processGroup: o.processGroup,
    onEpoch: (e) =>
      console.error(
        `  epoch ${e.epoch + 1}/${o.train.epochs}: L_a ${e.la.toFixed(3)} L_t ${e.lt.toFixed(3)} L_p ${e.lp.toFixed(3)}; val T ${(100 * e.valTargetAcc).toFixed(1)}% obfuscated, ${(100 * e.valCleanAcc).toFixed(1)}% clean`,
      ),
  });
  const last = run.history[run.history.length - 1];
  await onRank0(
    o.processGroup ?? null,
    () =>
      writeFileAtomicSync(
        path.join(o.out, 'obfuscator.json'),
        JSON.stringify(
          {
            target: o.target,
            task: o.task,
            obfuscator: o.obfuscator,
            deobfuscator: o.deobfuscator,
            train: o.train,
            dataset: o.dataset,
            fingerprint: run.fingerprint,
            history: run.history,
          },
          null,
          2,
        ),
      ),
    'obfuscator.json',
  );
  for (const m of [target, run.obfuscator, run.deobfuscator]) m.dispose();
  return { checkpoint, valTargetAcc: last?.valTargetAcc ?? NaN, valCleanAcc: last?.valCleanAcc ?? NaN };
}
