// Training a DeepSpeech2 utterance classifier: the target model T (`earmark train-target`) and every
// attacker (same architecture, as the paper says). One explicit loop: random fixed-length crops, per-step
// cross-entropy against the utterance label broadcast to every output step, AdamW (deepspeech.pytorch's
// optimiser) or SGD, validation by vote counting, the best epoch kept, a checkpoint every epoch.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { check, checkPosInt, resolveConfig } from '../config/resolve.js';
import { DeepSpeech2, voteCount, type DeepSpeech2Config } from '../models/deepspeech2.js';
import { crossEntropy } from '../nn/index.js';
import { AdamW, SGD, clipGradNorm_ } from '../optim/index.js';
import { manualSeed, noGrad, tensor, tidy, type Tensor } from '../tensor/index.js';
import { Progress } from '../util/progress.js';
import { Rng } from '../util/rng.js';
import { batchIndices, cropBatch, utterance, type LabelledSet, type SpecSet } from '../data/spec-set.js';
import { loadCheckpoint, readCheckpointState, saveCheckpoint } from './checkpoint.js';

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
  check(c.optimizer === 'adamw' || c.optimizer === 'sgd', 'ClassifierTrainConfig', 'optimizer', "'adamw' or 'sgd'", c.optimizer);
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
}

export interface TrainClassifierOptions {
  /** Shown on the progress bar, e.g. 'target speaker'. */
  name: string;
  modelConfig: DeepSpeech2Config;
  train: LabelledSet;
  val: LabelledSet;
  config: ClassifierTrainConfig;
  /** Checkpoint written atomically after every epoch. */
  checkpointPath?: string;
  /** Continue from checkpointPath if it exists. */
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
}

/**
 * Train a DeepSpeech2 classifier and return the model at its best validation epoch.
 * @example const { model } = await trainClassifier({ name: 'T', modelConfig, train, val, config });
 */
export async function trainClassifier(o: TrainClassifierOptions): Promise<ClassifierRun> {
  const c = o.config;
  const model = new DeepSpeech2(o.modelConfig);
  const best = new DeepSpeech2(o.modelConfig);
  const params = model.parameters();
  const opt = c.optimizer === 'adamw'
    ? new AdamW(params, { lr: c.lr, weightDecay: c.weightDecay })
    : new SGD(params, { lr: c.lr, momentum: 0.9, weightDecay: c.weightDecay });
  const parts = { modules: { model, best }, optimizers: { model: opt } };
  let st: ClassifierState = { epoch: 0, history: [], bestEpoch: -1, bestValAcc: -1, stale: 0, config: c, modelConfig: o.modelConfig };
  if (o.resume && o.checkpointPath !== undefined && existsSync(o.checkpointPath)) {
    st = loadCheckpoint<ClassifierState>(o.checkpointPath, parts);
  }
  const batchesPerEpoch = Math.ceil(o.train.labels.length / c.batchSize);
  const bar = o.quiet ? null : new Progress({ total: (c.epochs - st.epoch) * batchesPerEpoch, label: o.name });

  for (let epoch = st.epoch; epoch < c.epochs; epoch++) {
    if (c.patience > 0 && st.stale >= c.patience) break;
    const t0 = Date.now();
    // every epoch's randomness derives from (seed, epoch), so a resumed run repeats the same crops
    const rng = new Rng(c.seed).derive(`epoch${epoch}`);
    manualSeed(c.seed * 1000 + epoch);
    model.train();
    let lossSum = 0;
    let correct = 0;
    let seen = 0;
    for (const idx of batchIndices(o.train.labels.length, c.batchSize, rng)) {
      const [loss, hits] = tidy(() => {
        const x = cropBatch(o.train.set, idx, c.cropFrames, rng); // (B, F, L)
        const logits = model.forward(x); // (B, T', K)
        const [b, t, k] = logits.shape as [number, number, number];
        const y = labelsPerStep(idx.map((i) => o.train.labels[i]!), t); // (B·T')
        const l = crossEntropy(logits.reshape([b * t, k]), y);
        opt.zeroGrad();
        l.backward();
        if (c.maxNorm > 0) clipGradNorm_(params, c.maxNorm);
        opt.step();
        const pred = voteCount(logits.detach());
        return [l.item(), pred.filter((p, j) => p === o.train.labels[idx[j]!]).length]; // .item(): host sync
      });
      lossSum += loss * idx.length;
      correct += hits;
      seen += idx.length;
      bar?.tick();
    }
    const valAcc = accuracy(predict(model, o.val.set), o.val.labels);
    const rec: EpochRecord = { epoch, trainLoss: lossSum / seen, trainAcc: correct / seen, valAcc, seconds: (Date.now() - t0) / 1000 };
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
    if (o.checkpointPath !== undefined) saveCheckpoint(o.checkpointPath, parts, st);
    o.onEpoch?.(rec);
  }
  bar?.done();
  model.dispose();
  opt.dispose();
  if (st.bestEpoch < 0) best.loadStateDict(best.stateDict()); // no epoch ran: keep the (loaded) best
  return { model: best.eval(), history: st.history, bestEpoch: st.bestEpoch, bestValAcc: st.bestValAcc };
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
  const out = noGrad(() => set.specs.map((_, i) => tidy(() => {
    const x = utterance(set, i);
    return voteCount(model.forward(transform ? transform(x) : x))[0]!;
  })));
  model.train(wasTraining);
  return out;
}

export function accuracy(pred: readonly number[], labels: readonly number[]): number {
  if (pred.length === 0) return 0;
  let n = 0;
  for (let i = 0; i < pred.length; i++) if (pred[i] === labels[i]) n++;
  return n / pred.length;
}

/**
 * Train a classifier checkpointed as `<runDir>/<name>.safetensors`, resuming a partial run, or load it
 * when that checkpoint is already finished (experiment stages are never redone).
 * @example const { model } = await trainOrLoadClassifier({ runDir, name: 'clean-gender', modelConfig, train, val, config });
 */
export async function trainOrLoadClassifier(o: { runDir?: string | undefined; name: string; label?: string; modelConfig: DeepSpeech2Config;
  train: LabelledSet; val: LabelledSet; config: ClassifierTrainConfig; resume?: boolean; log?: ((l: string) => void) | undefined }): Promise<{ model: DeepSpeech2; history: EpochRecord[] }> {
  const resume = o.resume ?? true;
  const label = o.label ?? o.name;
  const ckpt = o.runDir === undefined ? undefined : path.join(o.runDir, `${o.name}.safetensors`);
  if (ckpt !== undefined && resume && existsSync(ckpt)) {
    const st = readCheckpointState<{ epoch: number; history: EpochRecord[] }>(ckpt);
    if (st.epoch >= o.config.epochs) {
      const model = new DeepSpeech2(o.modelConfig);
      loadCheckpoint(ckpt, { modules: { best: model } });
      o.log?.(`  ${label}: finished earlier, loaded ${ckpt}`);
      return { model: model.eval(), history: st.history };
    }
  }
  const r = await trainClassifier({
    name: label, modelConfig: o.modelConfig, train: o.train, val: o.val, config: o.config, resume, quiet: o.log === undefined,
    ...(ckpt ? { checkpointPath: ckpt } : {}),
    onEpoch: (e) => o.log?.(`  ${label} epoch ${e.epoch + 1}/${o.config.epochs}: loss ${e.trainLoss.toFixed(3)}  train ${(100 * e.trainAcc).toFixed(1)}%  val ${(100 * e.valAcc).toFixed(1)}%  (${e.seconds.toFixed(0)} s)`),
  });
  return { model: r.model, history: r.history };
}
