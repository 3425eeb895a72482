// Training x-vector extractors (Snyder et al. 2018) for speaker classification: cross-entropy on random
// crops with Adam, a checkpoint per epoch, and the clean extractor of an experiment (resumed from its
// run folder under the same stage identity). Speaker verification (src/eval/verification.ts) judges systems with them.
import path from 'node:path';
import { stageSeed } from '../config/fingerprint.js';
import { check, checkPosInt, resolveConfig } from '../config/resolve.js';
import { labelled, type ExperimentData } from '../data/experiment-data.js';
import { batchIndices, cropBatch, type LabelledSet, type SpecSet } from '../data/spec-set.js';
import { XVector, XVECTOR_MIN_FRAMES, resolveXVectorConfig, type XVectorConfig } from '../models/xvector.js';
import { crossEntropy } from '../nn/index.js';
import { Adam } from '../optim/index.js';
import { manualSeed, tensor, tidy } from '../tensor/index.js';
import { Rng } from '../util/rng.js';
import { loadCheckpoint, saveCheckpoint } from './checkpoint.js';
import {
  describeSet,
  resumeLine,
  stageIdentity,
  usableCheckpoint,
  type StageIdentity,
  type StageOptions,
} from './stage.js';

export interface XVectorTrainConfig {
  epochs: number;
  batchSize: number;
  /** Random crop length in frames (Kaldi trains on 2–4 s chunks). */
  cropFrames: number;
  lr: number;
  weightDecay: number;
  seed: number;
}

export const XVECTOR_TRAIN_DEFAULTS: XVectorTrainConfig = {
  epochs: 30,
  batchSize: 32,
  cropFrames: 300,
  lr: 1e-3,
  weightDecay: 1e-4,
  seed: 0,
};

/** `cpu`: a minute or two on two cores for the built-in corpus. */
export const XVECTOR_TRAIN_PRESETS: Record<'paper' | 'cpu', Partial<XVectorTrainConfig>> = {
  paper: {},
  cpu: { epochs: 12, batchSize: 16, cropFrames: 150, lr: 2e-3 },
};

export function resolveXVectorTrainConfig(partial: unknown = {}): XVectorTrainConfig {
  const c = resolveConfig('XVectorTrainConfig', XVECTOR_TRAIN_DEFAULTS, partial);
  for (const k of ['epochs', 'batchSize', 'cropFrames'] as const) checkPosInt('XVectorTrainConfig', k, c[k]);
  check(
    c.cropFrames >= XVECTOR_MIN_FRAMES,
    'XVectorTrainConfig',
    'cropFrames',
    `at least ${XVECTOR_MIN_FRAMES} (the TDNN context)`,
    c.cropFrames,
  );
  check(c.lr > 0, 'XVectorTrainConfig', 'lr', 'a positive number', c.lr);
  return c;
}

export interface XVectorEpoch {
  epoch: number;
  loss: number;
  trainAcc: number;
  seconds: number;
}

/** `stage` (default 'xvector') seeds the extractor and names its identity; `inputs` adds to the training set's ids and labels. */
export interface TrainXVectorOptions extends StageOptions {
  /** Spectrograms with speaker labels (numClasses = softmax size). */
  train: LabelledSet;
  /** Architecture without numSpeakers (set from train.numClasses). */
  modelConfig: Partial<Omit<XVectorConfig, 'numSpeakers'>>;
  config: XVectorTrainConfig;
  /** Checkpoint written after every epoch; with `resume`, one made by the same identity is continued. */
  checkpointPath?: string;
  resume?: boolean;
  onEpoch?: (e: XVectorEpoch) => void;
}

interface XVectorState {
  epoch: number;
  history: XVectorEpoch[];
  stage: StageIdentity;
}

function xvectorIdentity(
  o: Pick<TrainXVectorOptions, 'stage' | 'inputs' | 'train' | 'config'>,
  model: XVectorConfig,
): StageIdentity {
  return stageIdentity(o.stage ?? 'xvector', { train: o.config, model }, { train: describeSet(o.train), ...o.inputs });
}

/**
 * Train an x-vector extractor for speaker classification (cross-entropy on random crops, Adam).
 * @example const { model } = await trainXVector({ train: labelled(data, data.sets.train, 'speaker'), modelConfig: XVECTOR_PRESETS.cpu, config });
 */
export async function trainXVector(
  o: TrainXVectorOptions,
): Promise<{ model: XVector; history: XVectorEpoch[]; fingerprint: string }> {
  const c = o.config;
  const mc = resolveXVectorConfig({ ...o.modelConfig, nFeatures: o.train.set.nFreq, numSpeakers: o.train.numClasses });
  const id = xvectorIdentity(o, mc);
  manualSeed(stageSeed(c.seed, id.stage)); // initialisation depends on (seed, stage) only, not on what ran before
  const model = new XVector(mc);
  const opt = new Adam(model.parameters(), { lr: c.lr, weightDecay: c.weightDecay });
  const parts = { modules: { model }, optimizers: { model: opt } };
  let st: XVectorState = { epoch: 0, history: [], stage: id };
  const label = id.stage;
  if (
    usableCheckpoint(o.checkpointPath, id, { ...o, label, epochs: { key: 'config.train.epochs', value: c.epochs } }) !==
    undefined
  ) {
    st = { ...loadCheckpoint<XVectorState>(o.checkpointPath!, parts), stage: id };
    o.log?.(resumeLine(label, st.epoch, c.epochs, o.checkpointPath!));
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
        const y = tensor(
          BigInt64Array.from(idx, (i) => BigInt(o.train.labels[i]!)),
          [idx.length],
        );
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
    const rec = {
      epoch,
      loss: lossSum / Math.max(1, seen),
      trainAcc: hits / Math.max(1, seen),
      seconds: (Date.now() - t0) / 1000,
    };
    st.history.push(rec);
    st.epoch = epoch + 1;
    if (o.checkpointPath !== undefined) saveCheckpoint(o.checkpointPath, parts, st);
    o.onEpoch?.(rec);
  }
  opt.dispose();
  return { model: model.eval(), history: st.history, fingerprint: id.fingerprint };
}

/** What trainCleanXVector needs of a verification config: the architecture and the schedule. */
export interface XVectorExtractorConfig {
  /** Extractor architecture (numSpeakers and nFeatures come from the data). */
  xvector: Omit<XVectorConfig, 'numSpeakers' | 'nFeatures'>;
  train: XVectorTrainConfig;
}

export interface CleanXVectorOptions extends Omit<StageOptions, 'stage'> {
  /** The run folder: checkpoint `xvector-<name>.safetensors` (none without it). */
  runDir?: string | undefined;
  /** Use a checkpoint made by the same identity (default true). */
  resume?: boolean;
  /** The training set (default the main split's training set). */
  train?: SpecSet;
  /** 'clean' (default) or e.g. 'informed-obfuscator'; the stage is `xvector-<name>`. */
  name?: string;
}

/**
 * An x-vector extractor trained on the main split's (or `o.train`'s) training set for speaker
 * classification, resumed or loaded from `<runDir>/xvector-<name>.safetensors` when it was made by the
 * same config and inputs (otherwise retrained, or refused with `retrain: false`).
 * @example const { model } = await trainCleanXVector(data, resolveVerificationConfig('cpu'), { runDir: 'runs/fig4', inputs: experimentInputs(data) });
 */
export async function trainCleanXVector(
  data: ExperimentData,
  config: XVectorExtractorConfig,
  o: CleanXVectorOptions = {},
): Promise<{ model: XVector; history: XVectorEpoch[]; fingerprint: string }> {
  const name = o.name ?? 'clean';
  const l = labelled(data, o.train ?? data.sets.train, 'speaker');
  const ckpt = o.runDir === undefined ? undefined : path.join(o.runDir, `xvector-${name}.safetensors`);
  const mc = resolveXVectorConfig({ ...config.xvector, nFeatures: l.set.nFreq, numSpeakers: l.numClasses });
  const base = { stage: `xvector-${name}`, train: l, config: config.train, ...(o.inputs ? { inputs: o.inputs } : {}) };
  const id = xvectorIdentity(base, mc);
  const label = `x-vector ${name}`;
  const saved = usableCheckpoint<XVectorState>(ckpt, id, {
    ...o,
    resume: o.resume ?? true,
    label,
    epochs: { key: 'config.train.epochs', value: config.train.epochs },
  });
  if (saved !== undefined && saved.epoch >= config.train.epochs) {
    const model = new XVector(mc);
    loadCheckpoint(ckpt!, { modules: { model } });
    o.log?.(resumeLine(label, saved.epoch, config.train.epochs, ckpt!));
    return { model: model.eval(), history: saved.history, fingerprint: id.fingerprint };
  }
  return trainXVector({
    ...base,
    modelConfig: config.xvector,
    log: o.log,
    ...(o.retrain === undefined ? {} : { retrain: o.retrain }),
    ...(ckpt ? { checkpointPath: ckpt, resume: saved !== undefined } : {}),
    onEpoch: (e) =>
      o.log?.(
        `  x-vector ${name} epoch ${e.epoch + 1}/${config.train.epochs}: loss ${e.loss.toFixed(3)}  train ${(100 * e.trainAcc).toFixed(1)}%  (${e.seconds.toFixed(0)} s)`,
      ),
  });
}
