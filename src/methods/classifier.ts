// Training a DeepSpeech2 utterance classifier: the target model T (`earmark train-target`) and every
// attacker (same architecture, as the paper says). One explicit loop: random fixed-length crops, per-step
// cross-entropy against the utterance label broadcast to every output step, AdamW (deepspeech.pytorch's
// optimiser) or SGD, validation by vote counting, the best epoch kept, a checkpoint every epoch that
// stores the stage's identity (config and inputs, methods/stage.ts) and resumes only under the same one.
// On a device, with optional mixed precision, data-parallel over a process group (methods/placement.ts).
// BatchNorm under data parallelism: each rank normalises with its own shard's batch statistics (not
// SyncBatchNorm, so W ranks equal one process running W "ghost" batches of B/W), and the running
// statistics are averaged over the ranks (syncBuffers) at every epoch end, before validation and before
// rank 0 writes the checkpoint, so every rank validates and saves the same model.
import path from 'node:path';
import { stageSeed } from '../config/fingerprint.js';
import { check, checkPosInt, resolveConfig } from '../config/resolve.js';
import { DeepSpeech2, voteCount, type DeepSpeech2Config } from '../models/deepspeech2.js';
import { crossEntropy } from '../nn/index.js';
import { AdamW, SGD, type GradScalerState } from '../optim/index.js';
import { broadcastParameters, syncBuffers } from '../distributed/index.js';
import { batchTo, deviceOf, manualSeed, noGrad, tensor, tidy, type Tensor } from '../tensor/index.js';
import { Progress } from '../util/progress.js';
import { cropBatch, utterance, type LabelledSet, type SpecSet } from '../data/spec-set.js';
import { loadCheckpoint, saveCheckpoint } from './checkpoint.js';
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
  resumeLine,
  stageIdentity,
  usableCheckpoint,
  type StageIdentity,
  type StageOptions,
} from './stage.js';

export interface ClassifierTrainConfig {
  /** Passes over the training utterances (one random crop each per pass). */
  epochs: number;
  batchSize: number;
  /** Crop length in frames (multiple of 4 not required here; 128 = 1.28 s). */
  cropFrames: number;
  optimizer: 'adamw' | 'sgd';
  lr: number;
  weightDecay: number;
  /** Gradient-norm clipping (deepspeech.pytorch uses 400); 0 disables. */
  maxNorm: number;
  /** Stop when validation accuracy has not improved for this many epochs (0: never). */
  patience: number;
  seed: number;
}

export const CLASSIFIER_TRAIN_DEFAULTS: ClassifierTrainConfig = {
  epochs: 30,
  batchSize: 16,
  cropFrames: 128,
  optimizer: 'adamw',
  lr: 1e-3,
  weightDecay: 1e-5,
  maxNorm: 400,
  patience: 0,
  seed: 0,
};

export function resolveClassifierTrainConfig(partial: unknown = {}): ClassifierTrainConfig {
  const c = resolveConfig('ClassifierTrainConfig', CLASSIFIER_TRAIN_DEFAULTS, partial);
  for (const k of ['epochs', 'batchSize', 'cropFrames'] as const) checkPosInt('ClassifierTrainConfig', k, c[k]);
  check(c.lr > 0, 'ClassifierTrainConfig', 'lr', 'a positive number', c.lr);
  check(
    c.optimizer === 'adamw' || c.optimizer === 'sgd',
    'ClassifierTrainConfig',
    'optimizer',
    "'adamw' or 'sgd'",
    c.optimizer,
  );
  return c;
}

export interface EpochRecord {
  epoch: number;
  trainLoss: number;
  trainAcc: number;
  valAcc: number;
  seconds: number;
}

export interface ClassifierRun {
  model: DeepSpeech2;
  history: EpochRecord[];
  bestEpoch: number;
  bestValAcc: number;
  /** The stage's fingerprint (config and inputs): what a later stage built on this model names as its input. */
  fingerprint: string;
}

/**
 * `stage` (default 'classifier') seeds the model and names the checkpoint's identity; `inputs` adds to
 * the ids and labels of `train` and `val` (e.g. the feature spec, an obfuscator's fingerprint).
 */
export interface TrainClassifierOptions extends StageOptions, PlacementOptions {
  /** Shown on the progress bar, e.g. 'target speaker'. */
  name: string;
  modelConfig: DeepSpeech2Config;
  train: LabelledSet;
  val: LabelledSet;
  config: ClassifierTrainConfig;
  /** Checkpoint written atomically after every epoch. */
  checkpointPath?: string;
  /** Continue from checkpointPath if it exists and was made by the same stage identity (else see `retrain`). */
  resume?: boolean;
  /** Called after every epoch (logging). */
  onEpoch?: (r: EpochRecord) => void;
  /** Quiet: no progress bar. */
  quiet?: boolean;
}

interface ClassifierState {
  epoch: number;
  history: EpochRecord[];
  bestEpoch: number;
  bestValAcc: number;
  stale: number;
  config: ClassifierTrainConfig;
  modelConfig: DeepSpeech2Config;
  stage: StageIdentity;
  /** The fp16 loss scale (absent without --amp fp16). */
  scaler?: GradScalerState;
}

/** What made a classifier: its resolved configs and its inputs (the epoch budget may grow on resume). */
function classifierIdentity(
  o: Pick<TrainClassifierOptions, 'stage' | 'inputs' | 'modelConfig' | 'train' | 'val' | 'config'>,
): StageIdentity {
  return stageIdentity(
    o.stage ?? 'classifier',
    { train: o.config, model: o.modelConfig },
    { train: describeSet(o.train), val: describeSet(o.val), ...o.inputs },
  );
}

/**
 * Train a DeepSpeech2 classifier and return the model at its best validation epoch (on the host).
 * `device`, `amp` and `processGroup` place the run; `config.batchSize` is the global batch.
 * @example const { model } = await trainClassifier({ name: 'T', modelConfig, train, val, config });
 */
export async function trainClassifier(o: TrainClassifierOptions): Promise<ClassifierRun> {
  const c = o.config;
  const P = resolvePlacement(o);
  const log = rank0Log(P, o.log);
  const id = classifierIdentity(o);
  manualSeed(stageSeed(c.seed, id.stage)); // the initial weights depend on (seed, stage) only
  const model = new DeepSpeech2(o.modelConfig).to(P.device); // before the optimiser: its state lives there too
  const best = new DeepSpeech2(o.modelConfig); // on the host
  const params = model.parameters();
  const opt =
    c.optimizer === 'adamw'
      ? new AdamW(params, { lr: c.lr, weightDecay: c.weightDecay })
      : new SGD(params, { lr: c.lr, momentum: 0.9, weightDecay: c.weightDecay });
  const parts = { modules: { model, best }, optimizers: { model: opt } };
  let st: ClassifierState = {
    epoch: 0,
    history: [],
    bestEpoch: -1,
    bestValAcc: -1,
    stale: 0,
    config: c,
    modelConfig: o.modelConfig,
    stage: id,
  };
  const epochs = { key: 'config.train.epochs', value: c.epochs };
  if (usableCheckpoint(o.checkpointPath, id, { ...o, log, label: o.name, epochs }) !== undefined) {
    st = { ...loadCheckpoint<ClassifierState>(o.checkpointPath!, parts), config: c, stage: id }; // on every rank
    if (c.patience === 0 || st.stale < c.patience) log?.(resumeLine(o.name, st.epoch, c.epochs, o.checkpointPath!));
  }
  const scaler = scalerFor(P, st.scaler);
  await broadcastParameters(model, P.pg); // every replica starts from rank 0's weights and statistics
  const batchesPerEpoch = Math.ceil(o.train.labels.length / c.batchSize);
  const steps = (c.epochs - st.epoch) * batchesPerEpoch;
  const bar = o.quiet || P.rank !== 0 || steps <= 0 ? null : new Progress({ total: steps, label: o.name });

  for (let epoch = st.epoch; epoch < c.epochs; epoch++) {
    if (c.patience > 0 && st.stale >= c.patience) break;
    const t0 = Date.now();
    // every epoch's randomness derives from (seed, epoch) (a crop stream per sample), so a resumed run
    // repeats the same crops, and W ranks crop as one process
    const crops = cropRng(c.seed, epoch);
    manualSeed(c.seed * 1000 + epoch);
    model.train();
    let lossSum = 0;
    let correct = 0;
    let seen = 0;
    for (const idx of rankBatches(P, o.train.labels.length, c.batchSize, c.seed, epoch)) {
      const x = onDevice(P, cropBatch(o.train.set, idx, c.cropFrames, crops)); // (B/W, F, L)
      const [loss, hits] = tidy(() => {
        const logits = amp(P, () => model.forward(x)).float(); // (B/W, T', K)
        const [b, t, k] = logits.shape as [number, number, number];
        const y = onDevice(
          P,
          labelsPerStep(
            idx.map((i) => o.train.labels[i]!),
            t,
          ),
        ); // (B/W·T')
        const l = crossEntropy(logits.reshape([b * t, k]), y);
        opt.zeroGrad();
        scaler.scale(l).backward();
        const pred = voteCount(logits.detach());
        return [l.item(), pred.filter((p, j) => p === o.train.labels[idx[j]!]).length]; // .item(): host sync
      });
      await syncedStep(P, params, opt, scaler, c.maxNorm); // all-reduce, unscale, clip, step
      x.dispose();
      lossSum += loss * idx.length;
      correct += hits;
      seen += idx.length;
      bar?.tick();
    }
    await syncBuffers(model, P.pg); // BatchNorm running statistics: the ranks' mean (see the header)
    const [trainLoss, trainAcc] = await meanOverRanks(P, [lossSum / seen, correct / seen]);
    const valAcc = accuracy(predict(model, o.val.set), o.val.labels);
    const rec: EpochRecord = {
      epoch,
      trainLoss: trainLoss!,
      trainAcc: trainAcc!,
      valAcc,
      seconds: (Date.now() - t0) / 1000,
    };
    st.history.push(rec);
    if (valAcc > st.bestValAcc) {
      st.bestValAcc = valAcc;
      st.bestEpoch = epoch;
      st.stale = 0;
      best.loadStateDict(model.stateDict());
    } else {
      st.stale += 1;
    }
    st.epoch = epoch + 1;
    if (scaler.enabled) st.scaler = scaler.stateDict();
    const file = o.checkpointPath;
    if (file !== undefined) await onRank0Only(P, () => saveCheckpoint(file, parts, st), `the ${o.name} checkpoint`);
    if (P.rank === 0) o.onEpoch?.(rec);
  }
  bar?.done();
  model.dispose();
  opt.dispose();
  if (st.bestEpoch < 0) best.loadStateDict(best.stateDict()); // no epoch ran: keep the (loaded) best
  return {
    model: best.eval(),
    history: st.history,
    bestEpoch: st.bestEpoch,
    bestValAcc: st.bestValAcc,
    fingerprint: id.fingerprint,
  };
}

/** (B) labels repeated over T' steps → (B·T') int64, step-major within each utterance. */
function labelsPerStep(labels: number[], steps: number): Tensor {
  const y = BigInt64Array.from({ length: labels.length * steps }, (_, j) => BigInt(labels[Math.floor(j / steps)]!));
  return tensor(y, [y.length]);
}

/**
 * Utterance-level predictions (vote counting over per-step argmax) on whole utterances, in eval mode.
 * `transform` (e.g. an obfuscator) is applied to each utterance first.
 */
export function predict(model: DeepSpeech2, set: SpecSet, transform?: (x: Tensor) => Tensor): number[] {
  const wasTraining = model.training;
  model.eval();
  const device = deviceOf(model.parameters()[0]!); // utterances go to the model's device
  const out = noGrad(() =>
    set.specs.map((_, i) =>
      tidy(() => {
        const x = batchTo(utterance(set, i), device);
        return voteCount(model.forward(transform ? transform(x) : x))[0]!;
      }),
    ),
  );
  model.train(wasTraining);
  return out;
}

export function accuracy(pred: readonly number[], labels: readonly number[]): number {
  if (pred.length === 0) return 0;
  let n = 0;
  for (let i = 0; i < pred.length; i++) if (pred[i] === labels[i]) n++;
  return n / pred.length;
}

export interface TrainOrLoadClassifierOptions extends StageOptions, PlacementOptions {
  /** The run folder (no checkpoint without one). */
  runDir?: string | undefined;
  /** The checkpoint's name, `<runDir>/<name>.safetensors`, and the default stage name. */
  name: string;
  /** Shown in the log lines (default `name`). */
  label?: string;
  modelConfig: DeepSpeech2Config;
  train: LabelledSet;
  val: LabelledSet;
  config: ClassifierTrainConfig;
  /** Use the checkpoint in runDir when it was made by the same identity (default true). */
  resume?: boolean;
}

/**
 * Train a classifier checkpointed as `<runDir>/<name>.safetensors`, resuming a partial run, or load it
 * when that checkpoint is already finished; a checkpoint made with another config or inputs is retrained
 * (or, with `retrain: false`, refused), its log line naming the keys that differ.
 * @example const { model, fingerprint } = await trainOrLoadClassifier({ runDir, name: 'clean-gender', modelConfig, train, val, config, inputs: experimentInputs(data) });
 */
export async function trainOrLoadClassifier(
  o: TrainOrLoadClassifierOptions,
): Promise<{ model: DeepSpeech2; history: EpochRecord[]; fingerprint: string }> {
  const label = o.label ?? o.name;
  const stage = o.stage ?? o.name;
  const ckpt = o.runDir === undefined ? undefined : path.join(o.runDir, `${o.name}.safetensors`);
  const id = classifierIdentity({ ...o, stage });
  const epochs = { key: 'config.train.epochs', value: o.config.epochs };
  const saved = usableCheckpoint<{ epoch: number; history: EpochRecord[] }>(ckpt, id, {
    ...o,
    resume: o.resume ?? true,
    label,
    epochs,
  });
  if (saved !== undefined && saved.epoch >= o.config.epochs) {
    const model = new DeepSpeech2(o.modelConfig);
    loadCheckpoint(ckpt!, { modules: { best: model } });
    o.log?.(resumeLine(label, saved.epoch, o.config.epochs, ckpt!));
    return { model: model.eval(), history: saved.history, fingerprint: id.fingerprint };
  }
  const r = await trainClassifier({
    name: label,
    stage,
    modelConfig: o.modelConfig,
    train: o.train,
    val: o.val,
    config: o.config,
    resume: saved !== undefined,
    device: o.device,
    amp: o.amp,
    processGroup: o.processGroup,
    quiet: o.log === undefined,
    log: o.log,
    ...(o.inputs ? { inputs: o.inputs } : {}),
    ...(o.retrain === undefined ? {} : { retrain: o.retrain }),
    ...(ckpt ? { checkpointPath: ckpt } : {}),
    onEpoch: (e) =>
      o.log?.(
        `  ${label} epoch ${e.epoch + 1}/${o.config.epochs}: loss ${e.trainLoss.toFixed(3)}  train ${(100 * e.trainAcc).toFixed(1)}%  val ${(100 * e.valAcc).toFixed(1)}%  (${e.seconds.toFixed(0)} s)`,
      ),
  });
  return { model: r.model, history: r.history, fingerprint: r.fingerprint };
}
