// The fresh inversion attacker (issue 11): a NEW network trained, against the frozen obfuscator, to map
// what ships back to the clean input, on (F_σ(X) as shipped, X) pairs of the public training split:
//   L_inv = MSE(G(X̃), X)   (the deobfuscator's L_a, but G never took part in training F_σ)
// The co-trained deobfuscator F_μ is the adversary F_σ was trained to fool, so it understates what a
// fresh attacker recovers (RDAL's argument); this one did not shape the obfuscator. G is a CycleGAN-VC2
// generator of any width (the deobfuscator's architecture, or larger). One explicit loop: aligned random
// crops, Adam, validation MSE on whole utterances, the best validation epoch kept (selection uses
// validation only), a checkpoint every epoch holding the fingerprint of its config and inputs; a
// checkpoint made from other settings is retrained from scratch with a log line naming what differs.
import { existsSync } from 'node:fs';
import { fingerprint, fingerprintDiff, stageSeed } from '../config/fingerprint.js';
import type { SpecSet } from '../data/spec-set.js';
import { CycleGanVc2Generator, type CycleGanVc2Config } from '../models/cyclegan-vc2.js';
import { Adam, clipGradNorm_ } from '../optim/index.js';
import { manualSeed, noGrad, tensor, tidy, type Tensor } from '../tensor/index.js';
import { Progress } from '../util/progress.js';
import { Rng } from '../util/rng.js';
import { batchIndices, utterance } from '../data/spec-set.js';
import { loadCheckpoint, readCheckpointState, saveCheckpoint } from './checkpoint.js';
import { lossA } from './losses.js';

export interface InversionLoopConfig {
  epochs: number;
  batchSize: number;
  /** Crop length in frames, a multiple of 4. */
  cropFrames: number;
  lr: number;
  maxNorm: number;
  seed: number;
}

/** Shipped inputs X̃ and clean targets X, aligned by index (same ids, same frame counts). */
export interface InversionPairs {
  input: SpecSet;
  target: SpecSet;
}

export interface InversionEpoch {
  epoch: number;
  trainMse: number;
  valMse: number;
  seconds: number;
}

export interface TrainInversionOptions {
  /** Progress label and log name. */
  name: string;
  /** The stage name: the model is built right after manualSeed(stageSeed(seed, stage)). */
  stage: string;
  generator: CycleGanVc2Config;
  train: InversionPairs;
  val: InversionPairs;
  config: InversionLoopConfig;
  /** What the pairs are made of (split ids, the shipped outputs' cache key), fingerprinted with the config. */
  inputs: unknown;
  checkpointPath?: string;
  resume?: boolean;
  log?: (line: string) => void;
}

interface InversionState {
  epoch: number;
  history: InversionEpoch[];
  bestEpoch: number;
  bestValMse: number;
  fingerprint: string;
  made: { config: InversionLoopConfig; generator: CycleGanVc2Config; inputs: unknown };
}

/** Random aligned crops (B, F, crop) of the same utterances and start frames from both sets (short ones tiled). */
function pairedCrops(p: InversionPairs, idx: readonly number[], crop: number, rng: Rng): [Tensor, Tensor] {
  const f = p.input.nFreq;
  const a = new Float32Array(idx.length * f * crop);
  const b = new Float32Array(idx.length * f * crop);
  for (const [k, i] of idx.entries()) {
    const n = p.input.frames[i]!;
    const start = n > crop ? rng.int(n - crop + 1) : 0;
    for (let r = 0; r < f; r++) {
      for (let t = 0; t < crop; t++) {
        const src = r * n + ((start + t) % n);
        a[k * f * crop + r * crop + t] = p.input.specs[i]![src]!;
        b[k * f * crop + r * crop + t] = p.target.specs[i]![src]!;
      }
    }
  }
  return [tensor(a, [idx.length, f, crop]), tensor(b, [idx.length, f, crop])];
}

/** Mean MSE of G over whole utterances. */
function validationMse(g: CycleGanVc2Generator, p: InversionPairs): number {
  let sum = 0;
  noGrad(() => {
    for (let i = 0; i < p.input.specs.length; i++)
      sum += tidy(() => lossA(g.forward(utterance(p.input, i)), utterance(p.target, i)).item());
  });
  return sum / Math.max(1, p.input.specs.length);
}

function checkPairs(p: InversionPairs, what: string): void {
  if (
    p.input.ids.length !== p.target.ids.length ||
    p.input.ids.some((id, i) => id !== p.target.ids[i] || p.input.frames[i] !== p.target.frames[i])
  ) {
    throw new RangeError(
      `trainInversion: the ${what} inputs and targets are not the same utterances with the same frame counts`,
    );
  }
  if (p.input.ids.length === 0) throw new RangeError(`trainInversion: the ${what} set is empty`);
}

/**
 * Train (or load, or resume) a fresh inversion network; returns it at its best validation epoch.
 * @example const { model } = await trainInversion({ name: 'inversion', stage: 'inversion-large-frames', generator, train, val, config, inputs });
 */
export async function trainInversion(
  o: TrainInversionOptions,
): Promise<{ model: CycleGanVc2Generator; history: InversionEpoch[]; bestEpoch: number }> {
  checkPairs(o.train, 'training');
  checkPairs(o.val, 'validation');
  const c = o.config;
  const made = { config: c, generator: o.generator, inputs: o.inputs };
  const fp = fingerprint(made);
  let st: InversionState = { epoch: 0, history: [], bestEpoch: -1, bestValMse: Infinity, fingerprint: fp, made };
  let resumeFrom = false;
  if (o.resume && o.checkpointPath !== undefined && existsSync(o.checkpointPath)) {
    const saved = readCheckpointState<InversionState>(o.checkpointPath);
    if (saved.fingerprint === fp) resumeFrom = true;
    else
      o.log?.(
        `  ${o.name}: ${o.checkpointPath} was made from other settings (${fingerprintDiff(saved.made, made).join(', ') || 'unknown keys'}); retraining`,
      );
  }
  manualSeed(stageSeed(c.seed, o.stage));
  const model = new CycleGanVc2Generator(o.generator);
  const best = new CycleGanVc2Generator(o.generator);
  const opt = new Adam(model.parameters(), { lr: c.lr });
  const parts = { modules: { model, best }, optimizers: { model: opt } };
  if (resumeFrom) {
    st = loadCheckpoint<InversionState>(o.checkpointPath!, parts);
    if (st.epoch >= c.epochs) o.log?.(`  ${o.name}: finished earlier, loaded ${o.checkpointPath}`);
  }
  const n = o.train.input.specs.length;
  const bar =
    o.log === undefined || st.epoch >= c.epochs
      ? null
      : new Progress({ total: (c.epochs - st.epoch) * Math.ceil(n / c.batchSize), label: o.name });
  for (let epoch = st.epoch; epoch < c.epochs; epoch++) {
    const t0 = Date.now();
    const rng = new Rng(c.seed).derive(`${o.stage}/epoch${epoch}`);
    manualSeed(stageSeed(c.seed, `${o.stage}/epoch${epoch}`));
    model.train();
    let sum = 0;
    let batches = 0;
    for (const idx of batchIndices(n, c.batchSize, rng)) {
      sum += tidy(() => {
        const [xt, x] = pairedCrops(o.train, idx, c.cropFrames, rng); // (B, F, crop) each
        const l = lossA(model.forward(xt), x); // MSE(G(X̃), X)
        opt.zeroGrad();
        l.backward();
        if (c.maxNorm > 0) clipGradNorm_(model.parameters(), c.maxNorm);
        opt.step();
        return l.item(); // host sync
      });
      batches++;
      bar?.tick();
    }
    model.eval();
    const valMse = validationMse(model, o.val);
    const rec: InversionEpoch = {
      epoch,
      trainMse: sum / Math.max(1, batches),
      valMse,
      seconds: (Date.now() - t0) / 1000,
    };
    st.history.push(rec);
    if (valMse < st.bestValMse) {
      st.bestValMse = valMse;
      st.bestEpoch = epoch;
      best.loadStateDict(model.stateDict());
    }
    st.epoch = epoch + 1;
    if (o.checkpointPath !== undefined) saveCheckpoint(o.checkpointPath, parts, st);
    o.log?.(
      `  ${o.name} epoch ${epoch + 1}/${c.epochs}: train MSE ${rec.trainMse.toFixed(4)}  val MSE ${valMse.toFixed(4)}  (${rec.seconds.toFixed(0)} s)`,
    );
  }
  bar?.done();
  model.dispose();
  opt.dispose();
  return { model: best.eval(), history: st.history, bestEpoch: st.bestEpoch };
}
