// RDAL and its comparison methods (Gharib et al., OJSP 2024; lndip/RDAL; specs/seed003-rdal.md §3):
//
//   baseline  F, C by Adam 1e-3 on CE(C(F(x)), y_ev); model selection on the lowest validation CE.
//   naive     F, C, D by SGD 1e-2/0.9 on CE + BCE(D(GRL_α(z)), y_sp) — plain gradient reversal (DANN);
//             once α ≥ 0.99, keep the epoch with the highest validation BCE of its own D.
//   rdal      naive + every P epochs a fresh supervised speech classifier D^τ is trained on the frozen
//             latents of the train split (early stop on validation BCE) and its weights replace D's;
//             D's gradient is clipped to ±1; once α ≥ 0.99 keep the period with the highest best-val
//             BCE of D^τ (speech hardest to detect), stop after `patiencePeriods` periods without gain.
//   rdal-m    rdal (period `periodMask`) on inputs masked by a pre-trained, frozen speech-masking U-Net.
//
// One explicit loop (trainRdal), one checkpoint per epoch (resumable under the same stage identity: config
// and clips), models built right after seeding from (seed, stage), randomness derived from (seed, epoch)
// so a resumed run repeats the same batches. F, C and D train on `device` (optionally under autocast);
// D^τ is fitted on the host from cached latents (a small MLP) and copied into D; one process (no process
// group: the per-period attacker and the stop rule would have to be agreed between ranks).
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { stageSeed } from '../../config/fingerprint.js';
import { RDAL_LOGMEL } from '../../audio/functional.js';
import { gatherClips, type SoundscapeSet } from '../../data/soundscape-set.js';
import { EventHead, SedEncoder, SpeechMlp } from '../../models/sed-cnn.js';
import { bceWithLogits, crossEntropy, type Module } from '../../nn/index.js';
import { Adam, SGD, clipGradValue_ } from '../../optim/index.js';
import { batchTo, deviceOf, manualSeed, noGrad, tensor, tidy, type Tensor } from '../../tensor/index.js';
import { amp, resolvePlacement, scalerFor, type PlacementOptions } from '../placement.js';
import { Progress } from '../../util/progress.js';
import { Rng } from '../../util/rng.js';
import { loadCheckpoint, saveCheckpoint } from '../checkpoint.js';
import {
  describeSoundscapes,
  resumeLine,
  stageIdentity,
  usableCheckpoint,
  type StageIdentity,
  type StageOptions,
} from '../stage.js';
import { encodeSet, floatLabels, replaceAdversary, trainAttacker } from './adversary.js';
import { alphaSchedule, type RdalConfig, type RdalMethod } from './config.js';

/** Shuffled batches of (speech, non-speech) pairs: every batch is half speech (the reference's Dataset). */
function pairBatches(s: SoundscapeSet, pairs: number, rng: Rng): number[][] {
  const sp = rng.shuffle(s.speech.flatMap((y, i) => (y === 1 ? [i] : [])));
  const ns = rng.shuffle(s.speech.flatMap((y, i) => (y === 0 ? [i] : [])));
  const n = Math.min(sp.length, ns.length);
  const out: number[][] = [];
  for (let i = 0; i < n; i += pairs) {
    const end = Math.min(n, i + pairs);
    out.push([...sp.slice(i, end), ...ns.slice(i, end)]);
  }
  return out;
}

const longLabels = (ys: readonly number[]): Tensor =>
  tensor(
    BigInt64Array.from(ys, (y) => BigInt(y)),
    [ys.length],
  );

export interface RdalEpochRecord {
  epoch: number;
  alpha: number;
  trainCe: number;
  trainBce: number;
  valCe: number;
  valBce: number;
  valEventAcc: number;
  /** The in-training adversary's validation accuracy (threshold 0.5). */
  valAdvAcc: number;
  /** RDAL: the fresh D^τ's best validation BCE at this epoch's verification. */
  verifyBce?: number;
  /** RDAL: D's weights were replaced by D^τ's at the end of this epoch. */
  replaced?: boolean;
  seconds: number;
}

export interface RdalRun {
  method: RdalMethod;
  encoder: SedEncoder;
  head: EventHead;
  /** The in-training adversary D as selected (for the baseline: untrained, never used). */
  adversary: SpeechMlp;
  history: RdalEpochRecord[];
  /** Selected epoch (−1: none met the selection rule; the last epoch is returned). */
  bestEpoch: number;
  bestScore: number;
  epochsRun: number;
  /** The run's stage fingerprint (config and clips). */
  fingerprint: string;
  /** How many times D's weights were replaced by a fresh classifier's (RDAL, RDAL+M; 0 otherwise). */
  replacements: number;
}

/** The stage is the method; `inputs` adds to the clips of `train` and `val` and the log-mel spec. */
export interface TrainRdalOptions extends Omit<StageOptions, 'stage'>, Omit<PlacementOptions, 'processGroup'> {
  method: RdalMethod;
  config: RdalConfig;
  /** Train and validation sets (for rdal-m: already masked by applyMask). */
  train: SoundscapeSet;
  val: SoundscapeSet;
  /** Folder for `checkpoint.safetensors` (written atomically after every epoch). */
  dir?: string;
  resume?: boolean;
  quiet?: boolean;
  onEpoch?: (r: RdalEpochRecord) => void;
  /** Called right after each weight replacement with D and the fresh D^τ it copied (tests check they are equal). */
  onReplace?: (epoch: number, adversary: SpeechMlp, fresh: SpeechMlp) => void;
}

interface LoopState {
  epoch: number;
  history: RdalEpochRecord[];
  bestEpoch: number;
  bestScore: number;
  bad: number;
  stopped: boolean;
  method: RdalMethod;
  config: RdalConfig;
  stage: StageIdentity;
}

/**
 * What made a run of `method`: the parts of the config it uses (the mask's only for rdal-m, the
 * attacker's only where D is replaced) and its clips. The mask is a function of these, so rdal-m's
 * masked sets need no input of their own.
 */
export function rdalIdentity(
  method: RdalMethod,
  c: RdalConfig,
  sets: Record<string, SoundscapeSet>,
  inputs: Record<string, unknown> = {},
): StageIdentity {
  const replacing = method === 'rdal' || method === 'rdal-m';
  const config = {
    method,
    model: c.model,
    train: c.train,
    ...(replacing ? { attacker: c.attacker } : {}),
    ...(method === 'rdal-m' ? { mask: c.mask, maskTrain: c.maskTrain } : {}),
  };
  const clips = Object.fromEntries(Object.entries(sets).map(([k, s]) => [k, describeSoundscapes(s)]));
  return stageIdentity(method, config, { ...clips, logmel: RDAL_LOGMEL, ...inputs });
}

/**
 * Train one method; returns the selected F, C, D.
 * @example const run = trainRdal({ method: 'rdal', config: resolveRdalConfig(), train: data.train, val: data.val });
 */
export function trainRdal(o: TrainRdalOptions): RdalRun {
  const c = o.config;
  const t = c.train;
  const P = resolvePlacement({ ...o, processGroup: null });
  const adversarial = o.method !== 'baseline';
  const replacing = o.method === 'rdal' || o.method === 'rdal-m';
  const period = o.method === 'rdal-m' ? t.periodMask : t.period;
  const d = c.model.latent;
  const id = rdalIdentity(o.method, c, { train: o.train, val: o.val }, o.inputs);
  // initial weights depend on (seed, stage) only; the stages do not name the method, so the methods
  // of one seed start from the same F and C (the comparison over seeds is paired)
  manualSeed(stageSeed(t.seed, 'rdal-encoder'));
  const encoder = new SedEncoder(c.model).to(P.device);
  manualSeed(stageSeed(t.seed, 'rdal-head'));
  const head = new EventHead(d, c.model.numClasses).to(P.device);
  manualSeed(stageSeed(t.seed, 'rdal-adversary'));
  const adversary = new SpeechMlp(d, { grl: true }).to(P.device); // all three before the optimiser
  const scaler = scalerFor(P); // fp16 only; its scale restarts at 2^16 on resume (a few skipped steps at most)
  const best = {
    encoder: new SedEncoder(c.model),
    head: new EventHead(d, c.model.numClasses),
    adversary: new SpeechMlp(d, { grl: true }),
  };
  const nFC = encoder.parameters().length + head.parameters().length;
  const params = [...encoder.parameters(), ...head.parameters(), ...(adversarial ? adversary.parameters() : [])];
  const opt = adversarial
    ? new SGD(params, { lr: t.lr, momentum: t.momentum })
    : new Adam(params, { lr: t.baselineLr });
  const parts = {
    modules: {
      encoder,
      head,
      adversary,
      best_encoder: best.encoder,
      best_head: best.head,
      best_adversary: best.adversary,
    },
    optimizers: { opt },
  };
  const alphas = alphaSchedule(t.maxEpochs, t.alphaZeroEpochs, t.alphaGamma);
  const ckpt = o.dir === undefined ? undefined : path.join(o.dir, 'checkpoint.safetensors');
  if (o.dir !== undefined) mkdirSync(o.dir, { recursive: true });
  let st: LoopState = {
    epoch: 0,
    history: [],
    bestEpoch: -1,
    bestScore: o.method === 'baseline' ? Infinity : -Infinity,
    bad: 0,
    stopped: false,
    method: o.method,
    config: c,
    stage: id,
  };
  if (usableCheckpoint(ckpt, id, { ...o, label: o.method }) !== undefined) {
    st = loadCheckpoint<LoopState>(ckpt!, parts);
    if (!st.stopped) o.log?.(resumeLine(o.method, st.epoch, t.maxEpochs, ckpt!));
  }
  const bar = o.quiet ? null : new Progress({ total: Math.max(1, t.maxEpochs - st.epoch), label: o.method });

  try {
    for (let epoch = st.epoch; epoch < t.maxEpochs && !st.stopped; epoch++) {
      const t0 = Date.now();
      const alpha = adversarial ? alphas[epoch]! : 0;
      adversary.alpha = alpha;
      const rng = new Rng(t.seed).derive(`epoch${epoch}`);
      manualSeed(t.seed * 100003 + epoch);

      // 1. one pass over the train pairs: L = CE(C(F(x)), y_ev) [+ BCE(D(GRL_α(F(x))), y_sp)]
      encoder.train();
      head.train();
      adversary.train();
      let ceSum = 0;
      let bceSum = 0;
      let nb = 0;
      for (const idx of pairBatches(o.train, t.batchPairs, rng)) {
        const [ce, bce] = tidy(() => {
          const dev = (x: Tensor): Tensor => batchTo(x, P.device);
          const [lCe, lBce] = amp(P, () => {
            const z = encoder.forward(dev(gatherClips(o.train, 'logmel', idx))); // (B, latent)
            const ceT = crossEntropy(head.forward(z).float(), dev(longLabels(idx.map((i) => o.train.event[i]!))));
            return [
              ceT,
              adversarial
                ? bceWithLogits(adversary.forward(z).float(), dev(floatLabels(idx.map((i) => o.train.speech[i]!))))
                : null,
            ];
          });
          const loss = lBce === null ? lCe! : lCe!.add(lBce);
          opt.zeroGrad();
          scaler.scale(loss).backward();
          scaler.unscale_(opt); // clip the true gradients
          if (replacing && t.clipD > 0) clipGradValue_(adversary.parameters(), t.clipD);
          scaler.step(opt);
          scaler.update();
          return [lCe!.item(), lBce?.item() ?? 0];
        });
        ceSum += ce;
        bceSum += bce;
        nb++;
      }

      // 2. validation of the same losses (and the selection score of baseline and naive)
      const v = validate(encoder, head, adversary, o.val);
      const rec: RdalEpochRecord = { epoch, alpha, trainCe: ceSum / nb, trainBce: bceSum / nb, ...v, seconds: 0 };

      // 3. model selection; RDAL: verification and weight replacement every P epochs
      const save = (score: number): void => {
        st.bestScore = score;
        st.bestEpoch = epoch;
        st.bad = 0;
        best.encoder.loadStateDict(encoder.stateDict());
        best.head.loadStateDict(head.stateDict());
        best.adversary.loadStateDict(adversary.stateDict()); // D from before any replacement (spec §3 d)
      };
      if (o.method === 'baseline') {
        if (v.valCe < st.bestScore) save(v.valCe);
        else if (++st.bad >= t.patienceEpochs) st.stopped = true;
      } else if (o.method === 'naive') {
        if (alpha >= t.alphaSelect) {
          if (v.valBce > st.bestScore) save(v.valBce);
          else if (++st.bad >= t.patienceEpochs) st.stopped = true;
        }
      } else if (epoch % period === period - 1) {
        const zTrain = { z: encodeSet(encoder, o.train), y: o.train.speech };
        const zVal = { z: encodeSet(encoder, o.val), y: o.val.speech };
        const fresh = trainAttacker(zTrain, zVal, d, c.attacker, new Rng(t.seed).derive(`verify${epoch}`));
        rec.verifyBce = fresh.bestValBce;
        if (alpha >= t.alphaSelect) {
          if (fresh.bestValBce > st.bestScore) save(fresh.bestValBce);
          else if (++st.bad > t.patiencePeriods) st.stopped = true;
        }
        if (alpha > 0) {
          replaceAdversary(adversary, fresh.model, opt as SGD, nFC, t.momentumAfterReplace);
          rec.replaced = true;
          o.onReplace?.(epoch, adversary, fresh.model);
        }
        fresh.model.dispose();
      }

      rec.seconds = (Date.now() - t0) / 1000;
      st.history.push(rec);
      st.epoch = epoch + 1;
      if (ckpt !== undefined) saveCheckpoint(ckpt, parts, st);
      o.onEpoch?.(rec);
      bar?.tick();
    }
  } catch (e) {
    // an interrupted run (error, or a stop from onEpoch) frees what it made; the checkpoint stays
    bar?.done();
    for (const m of [encoder, head, adversary, best.encoder, best.head, best.adversary]) m.dispose();
    opt.dispose();
    throw e;
  }
  bar?.done();
  opt.dispose();
  const selected = st.bestEpoch >= 0;
  const out = selected ? best : { encoder, head, adversary };
  const drop: Module[] = selected ? [encoder, head, adversary] : [best.encoder, best.head, best.adversary];
  for (const m of drop) m.dispose();
  out.encoder.eval().to('cpu');
  out.head.eval().to('cpu');
  out.adversary.eval().to('cpu'); // returned on the host
  return {
    method: o.method,
    encoder: out.encoder,
    head: out.head,
    adversary: out.adversary,
    history: st.history,
    bestEpoch: st.bestEpoch,
    bestScore: st.bestScore,
    epochsRun: st.epoch,
    fingerprint: id.fingerprint,
    replacements: st.history.filter((h) => h.replaced).length,
  };
}

function validate(
  encoder: SedEncoder,
  head: EventHead,
  adversary: SpeechMlp,
  s: SoundscapeSet,
): Omit<RdalEpochRecord, 'epoch' | 'alpha' | 'trainCe' | 'trainBce' | 'seconds'> {
  encoder.eval();
  head.eval();
  adversary.eval();
  const all = Array.from({ length: s.n }, (_, i) => i);
  const r = noGrad(() => {
    let ce = 0;
    let bce = 0;
    let evHits = 0;
    let advHits = 0;
    for (let i = 0; i < s.n; i += 64) {
      const idx = all.slice(i, i + 64);
      tidy(() => {
        const device = deviceOf(encoder.parameters()[0]!);
        const z = encoder.forward(batchTo(gatherClips(s, 'logmel', idx), device));
        const logits = head.forward(z).to('cpu');
        const adv = adversary.forward(z).to('cpu'); // (B, 1)
        ce += crossEntropy(logits, longLabels(idx.map((j) => s.event[j]!))).item() * idx.length;
        bce += bceWithLogits(adv, floatLabels(idx.map((j) => s.speech[j]!))).item() * idx.length;
        const pred = logits.argmax(1).float().toFloat32Array();
        const a = adv.reshape([idx.length]).toFloat32Array();
        idx.forEach((j, b) => {
          if (pred[b] === s.event[j]) evHits++;
          if ((a[b]! > 0 ? 1 : 0) === s.speech[j]) advHits++;
        });
      });
    }
    return { valCe: ce / s.n, valBce: bce / s.n, valEventAcc: evHits / s.n, valAdvAcc: advHits / s.n };
  });
  encoder.train();
  head.train();
  adversary.train();
  return r;
}
