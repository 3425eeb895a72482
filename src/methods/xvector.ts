// Training x-vector extractors (Snyder et al. 2018) for speaker classification: cross-entropy on random
// crops with Adam, a checkpoint per epoch, and the clean extractor of an experiment (resumed from its
// run folder). Speaker verification (src/eval/verification.ts) judges systems with them.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { check, checkPosInt, resolveConfig } from '../config/resolve.js';
import { labelled, type ExperimentData } from '../data/experiment-data.js';
import { batchIndices, cropBatch, type LabelledSet, type SpecSet } from '../data/spec-set.js';
import { XVector, XVECTOR_MIN_FRAMES, resolveXVectorConfig, type XVectorConfig } from '../models/xvector.js';
import { crossEntropy } from '../nn/index.js';
import { Adam } from '../optim/index.js';
import { manualSeed, tensor, tidy } from '../tensor/index.js';
import { Rng } from '../util/rng.js';
import { loadCheckpoint, readCheckpointState, saveCheckpoint } from './checkpoint.js';

export interface XVectorTrainConfig {
  epochs: number;
  batchSize: number;
  /** Random crop length in frames (Kaldi trains on 2–4 s chunks). */
  cropFrames: number;
  lr: number;
  weightDecay: number;
  seed: number;
}

export const XVECTOR_TRAIN_DEFAULTS: XVectorTrainConfig = { epochs: 30, batchSize: 32, cropFrames: 300, lr: 1e-3, weightDecay: 1e-4, seed: 0 };

/** `cpu`: a minute or two on two cores for the built-in corpus. */
export const XVECTOR_TRAIN_PRESETS: Record<'paper' | 'cpu', Partial<XVectorTrainConfig>> = {
  paper: {},
  cpu: { epochs: 12, batchSize: 16, cropFrames: 150, lr: 2e-3 },
};

export function resolveXVectorTrainConfig(partial: unknown = {}): XVectorTrainConfig {
  const c = resolveConfig('XVectorTrainConfig', XVECTOR_TRAIN_DEFAULTS, partial);
  for (const k of ['epochs', 'batchSize', 'cropFrames'] as const) checkPosInt('XVectorTrainConfig', k, c[k]);
  check(c.cropFrames >= XVECTOR_MIN_FRAMES, 'XVectorTrainConfig', 'cropFrames', `at least ${XVECTOR_MIN_FRAMES} (the TDNN context)`, c.cropFrames);
  check(c.lr > 0, 'XVectorTrainConfig', 'lr', 'a positive number', c.lr);
  return c;
}

export interface XVectorEpoch {
  epoch: number;
  loss: number;
  trainAcc: number;
  seconds: number;
}

export interface TrainXVectorOptions {
  /** Spectrograms with speaker labels (numClasses = softmax size). */
  train: LabelledSet;
  /** Architecture without numSpeakers (set from train.numClasses). */
  modelConfig: Partial<Omit<XVectorConfig, 'numSpeakers'>>;
  config: XVectorTrainConfig;
  /** Checkpoint written after every epoch; with `resume`, a finished one is loaded instead of training. */
  checkpointPath?: string;
  resume?: boolean;
  onEpoch?: (e: XVectorEpoch) => void;
}

/**
 * Train an x-vector extractor for speaker classification (cross-entropy on random crops, Adam).
 * @example const { model } = await trainXVector({ train: labelled(data, data.sets.train, 'speaker'), modelConfig: XVECTOR_PRESETS.cpu, config });
 */
export async function trainXVector(o: TrainXVectorOptions): Promise<{ model: XVector; history: XVectorEpoch[] }> {
  const c = o.config;
  manualSeed(c.seed); // initialisation depends on the seed only, not on what ran before
  const model = new XVector(resolveXVectorConfig({ ...o.modelConfig, nFeatures: o.train.set.nFreq, numSpeakers: o.train.numClasses }));
  const opt = new Adam(model.parameters(), { lr: c.lr, weightDecay: c.weightDecay });
  const parts = { modules: { model }, optimizers: { model: opt } };
  let st: { epoch: number; history: XVectorEpoch[] } = { epoch: 0, history: [] };
  if (o.resume && o.checkpointPath !== undefined && existsSync(o.checkpointPath)) {
    st = loadCheckpoint(o.checkpointPath, parts);
  }
  for (let epoch = st.epoch; epoch < c.epochs; epoch++) {
    const t0 = Date.now();
    const rng = new Rng(c.seed).derive(`xvector-epoch${epoch}`);
    manualSeed(c.seed * 1000 + epoch);
    model.train();
    let lossSum = 0;
    let hits = 0;
    let seen = 0;
    for (const idx of batchIndices(o.train.labels.length, c.batchSize, rng, o.train.labels.length > c.batchSize)) {
      if (idx.length < 2) continue; // BatchNorm needs two examples
      const [loss, h] = tidy(() => {
        const x = cropBatch(o.train.set, idx, c.cropFrames, rng); // (B, F, crop)
        const y = tensor(BigInt64Array.from(idx, (i) => BigInt(o.train.labels[i]!)), [idx.length]);
        const logits = model.forward(x); // (B, K)
        const l = crossEntropy(logits, y);
        opt.zeroGrad();
        l.backward();
        opt.step();
        const pred = logits.argmax(1).data() as BigInt64Array;
        return [l.item(), idx.filter((i, j) => Number(pred[j]) === o.train.labels[i]).length];
      });
      lossSum += loss * idx.length;
      hits += h;
      seen += idx.length;
    }
    const rec = { epoch, loss: lossSum / Math.max(1, seen), trainAcc: hits / Math.max(1, seen), seconds: (Date.now() - t0) / 1000 };
    st.history.push(rec);
    st.epoch = epoch + 1;
    if (o.checkpointPath !== undefined) saveCheckpoint(o.checkpointPath, parts, st);
    o.onEpoch?.(rec);
  }
  opt.dispose();
  return { model: model.eval(), history: st.history };
}

/** Load a finished x-vector checkpoint written by trainXVector, or undefined when there is none. */
export function loadXVector(checkpointPath: string, modelConfig: XVectorConfig, epochs: number): { model: XVector; history: XVectorEpoch[] } | undefined {
  if (!existsSync(checkpointPath)) return undefined;
  const st = readCheckpointState<{ epoch: number; history: XVectorEpoch[] }>(checkpointPath);
  if (st.epoch < epochs) return undefined;
  const model = new XVector(modelConfig);
  loadCheckpoint(checkpointPath, { modules: { model } });
  return { model: model.eval(), history: st.history };
}

/** What trainCleanXVector needs of a verification config: the architecture and the schedule. */
export interface XVectorExtractorConfig {
  /** Extractor architecture (numSpeakers and nFeatures come from the data). */
  xvector: Omit<XVectorConfig, 'numSpeakers' | 'nFeatures'>;
  train: XVectorTrainConfig;
}

/**
 * The clean x-vector extractor: trained on the main split's clean training set for speaker
 * classification (resumed from runDir/xvector-clean.safetensors when finished).
 * @example const { model } = await trainCleanXVector(data, resolveVerificationConfig('cpu'), 'runs/fig4');
 */
export async function trainCleanXVector(data: ExperimentData, config: XVectorExtractorConfig, runDir?: string, log?: (l: string) => void,
  train: SpecSet = data.sets.train, name = 'clean'): Promise<{ model: XVector; history: XVectorEpoch[] }> {
  const l = labelled(data, train, 'speaker');
  const ckpt = runDir === undefined ? undefined : path.join(runDir, `xvector-${name}.safetensors`);
  if (ckpt !== undefined) {
    const done = loadXVector(ckpt, resolveXVectorConfig({ ...config.xvector, nFeatures: l.set.nFreq, numSpeakers: l.numClasses }), config.train.epochs);
    if (done) { log?.(`  x-vector ${name}: finished earlier, loaded ${ckpt}`); return done; }
  }
  return trainXVector({
    train: l, modelConfig: config.xvector, config: config.train, ...(ckpt ? { checkpointPath: ckpt, resume: true } : {}),
    onEpoch: (e) => log?.(`  x-vector ${name} epoch ${e.epoch + 1}/${config.train.epochs}: loss ${e.loss.toFixed(3)}  train ${(100 * e.trainAcc).toFixed(1)}%  (${e.seconds.toFixed(0)} s)`),
  });
}
