// ADR, the adversarially disentangled speaker representation (Noé, Nautsch, Evans, Patino, Bonastre,
// Tomashenko, Matrouf, "Adversarial disentanglement of speaker representation for attribute-driven
// privacy preservation", Interspeech 2021, arXiv 2012.04454), the opt-out baseline of Wang et al. 2022,
// as its code does it (LIAvignon/adversarial-disentangling-autoencoder-for-spk-representation; spec §9):
//  1. pre-discriminator Linear(512→1)+sigmoid trained on x-vectors for the attribute (BCE, SGD lr 1e-3,
//     momentum 0.9, batch 64, 15 epochs); its posterior w = p(attribute|x) is the decoder's input;
//  2. encoder z = BN(ReLU(Linear(512→128))), decoder x̂ = norm(tanh(Linear([z, w] 129→512)));
//  3. adversary Linear(128→128) → ReLU → Linear(128→1) → sigmoid on z;
//  4. per batch: adversary step on BCE(D(z), y), then autoencoder step on
//     L_AE = mean(1 − cos(x̂, x)) + BCE(1 − D(z), y) (the encoder pushes D to the opposite attribute);
//     SGD lr 1e-4, momentum 0.9, batch 64, 100 epochs;
//  5. inference: the decoder gets w = 0.5 + 0.1·N(0, 1) per x-vector (the "random attribute value").
// ADR is opt-out: it is told the single binary attribute to hide (gender). The networks (1–3) are in
// src/models/adr.ts; this file holds the losses, the training loop (1, 4) and the transform (5).
import { stageSeed } from '../config/fingerprint.js';
import { check, checkPosInt, resolveConfig } from '../config/resolve.js';
import { ADR_DEFAULTS, Adr, type AdrConfig } from '../models/adr.js';
import { bceWithLogits } from '../nn/index.js';
import { SGD } from '../optim/index.js';
import { manualSeed, noGrad, randn, tensor, tidy, type Tensor } from '../tensor/index.js';
import { Rng } from '../util/rng.js';

export interface AdrTrainConfig {
  /** Pre-discriminator: epochs and SGD learning rate (15, 1e-3). */
  preEpochs: number;
  preLr: number;
  /** Autoencoder and adversary: epochs and SGD learning rate (100, 1e-4), momentum 0.9 for all. */
  epochs: number;
  lr: number;
  momentum: number;
  batchSize: number;
  seed: number;
}

export const ADR_TRAIN_DEFAULTS: AdrTrainConfig = {
  preEpochs: 15,
  preLr: 1e-3,
  epochs: 100,
  lr: 1e-4,
  momentum: 0.9,
  batchSize: 64,
  seed: 0,
};

/**
 * `paper`: the reference code's schedule (VoxCeleb2's ~1M x-vectors: ~15k batches an epoch). `cpu`: a
 * corpus of hundreds of utterances gives ~20 batches an epoch, so more epochs and a 50× learning rate
 * (on the built-in corpus: cos(x̂, x) ≈ 0.92 on standardised x-vectors, adversary at chance, ~3 min).
 */
export const ADR_TRAIN_PRESETS: Record<'paper' | 'cpu', Partial<AdrTrainConfig>> = {
  paper: {},
  cpu: { preEpochs: 30, preLr: 1e-2, epochs: 900, lr: 5e-3, batchSize: 32 },
};

export function resolveAdrTrainConfig(partial: unknown = {}): AdrTrainConfig {
  const c = resolveConfig('AdrTrainConfig', ADR_TRAIN_DEFAULTS, partial);
  for (const k of ['preEpochs', 'epochs', 'batchSize'] as const) checkPosInt('AdrTrainConfig', k, c[k]);
  check(c.lr > 0 && c.preLr > 0, 'AdrTrainConfig', 'lr', 'positive (lr and preLr)', [c.lr, c.preLr]);
  return c;
}

// ---------------------------------------------------------------------------------------------
// Losses (spec §9)

/** 1 − cos(x̂, x), averaged over the batch. */
export function cosineLoss(xHat: Tensor, x: Tensor): Tensor {
  return tidy(() => {
    const cos = xHat
      .mul(x)
      .sum(1)
      .div(xHat.norm(2, 1).mul(x.norm(2, 1)).clamp(1e-12)); // (B)
    return cos.rsub(1).mean();
  });
}

/** L_AE = mean(1 − cos(x̂, x)) + BCE(1 − D(z), y); with D(z) = σ(l), 1 − σ(l) = σ(−l). */
export function autoencoderLoss(xHat: Tensor, x: Tensor, adversaryLogits: Tensor, y: Tensor): Tensor {
  return cosineLoss(xHat, x).add(bceWithLogits(adversaryLogits.neg(), y));
}

// ---------------------------------------------------------------------------------------------
// Training

export interface AdrEpoch {
  epoch: number;
  /** Adversary BCE on the code (ln 2 ≈ 0.693 is chance for balanced classes). */
  adversaryLoss: number;
  adversaryAcc: number;
  /** mean cos(x̂, x) with the pre-discriminator's w. */
  cosine: number;
  aeLoss: number;
}

export interface TrainAdrOptions {
  /** Length-normalised x-vectors (inputDim each). */
  x: readonly Float32Array[];
  /** Binary attribute per x-vector (0 or 1). */
  y: readonly number[];
  modelConfig?: Partial<AdrConfig>;
  config: AdrTrainConfig;
  onEpoch?: (e: AdrEpoch) => void;
}

function rows(x: readonly Float32Array[], idx: readonly number[], dim: number): Tensor {
  const out = new Float32Array(idx.length * dim);
  idx.forEach((i, j) => out.set(x[i]!, j * dim));
  return tensor(out, [idx.length, dim]);
}

/**
 * Train ADR: the pre-discriminator first, then the adversary/autoencoder alternation, one batch at a time.
 * @example const { model, history } = trainAdr({ x: xvectors, y: genders, config: resolveAdrTrainConfig(ADR_TRAIN_PRESETS.cpu) });
 */
export function trainAdr(o: TrainAdrOptions): { model: Adr; preHistory: number[]; history: AdrEpoch[] } {
  const c = o.config;
  if (o.x.length !== o.y.length)
    throw new RangeError(`trainAdr: 'x' has ${o.x.length} vectors but 'y' has ${o.y.length} labels`);
  if (o.y.some((v) => v !== 0 && v !== 1))
    throw new RangeError("trainAdr: 'y' must hold 0/1 labels of the one attribute ADR hides (e.g. gender)");
  const dim = o.x[0]?.length ?? 0;
  manualSeed(stageSeed(c.seed, 'adr')); // initialisation depends on (seed, stage) only
  const model = new Adr({ ...ADR_DEFAULTS, ...o.modelConfig, inputDim: dim });
  const n = o.x.length;
  const rng = new Rng(c.seed).derive('adr');
  const label = (idx: readonly number[]): Tensor =>
    tensor(
      Float32Array.from(idx, (i) => o.y[i]!),
      [idx.length],
    );

  // 1. pre-discriminator
  const preOpt = new SGD(model.pre.parameters(), { lr: c.preLr, momentum: c.momentum });
  const preHistory: number[] = [];
  for (let e = 0; e < c.preEpochs; e++) {
    let sum = 0;
    for (const idx of batches(n, c.batchSize, rng)) {
      sum += tidy(() => {
        const l = bceWithLogits(model.pre.forward(rows(o.x, idx, dim)), label(idx));
        preOpt.zeroGrad();
        l.backward();
        preOpt.step();
        return l.item() * idx.length;
      });
    }
    preHistory.push(sum / n);
  }
  preOpt.dispose();
  model.pre.eval().requiresGrad_(false);

  // 2. adversary and autoencoder, alternating per batch
  const advOpt = new SGD(model.adversary.parameters(), { lr: c.lr, momentum: c.momentum });
  const aeOpt = new SGD([...model.encoder.parameters(), ...model.decoder.parameters()], {
    lr: c.lr,
    momentum: c.momentum,
  });
  const history: AdrEpoch[] = [];
  for (let e = 0; e < c.epochs; e++) {
    model.encoder.train();
    let adv = 0,
      acc = 0,
      cos = 0,
      ae = 0;
    for (const idx of batches(n, c.batchSize, rng)) {
      const r = tidy(() => {
        const x = rows(o.x, idx, dim); // (B, D)
        const y = label(idx); // (B)
        const w = noGrad(() => model.pre.forward(x).sigmoid()); // (B) soft attribute
        const z = model.encoder.forward(x); // (B, codeDim)
        const xHat = model.decoder.forward(z, w); // (B, D)
        // adversary step on the detached code
        const dLogits = model.adversary.forward(z.detach());
        const lD = bceWithLogits(dLogits, y);
        advOpt.zeroGrad();
        lD.backward();
        advOpt.step();
        // autoencoder step: reconstruct, and push the (just updated) adversary to the wrong attribute
        const lAe = autoencoderLoss(xHat, x, model.adversary.forward(z), y);
        aeOpt.zeroGrad();
        model.adversary.zeroGrad();
        lAe.backward();
        aeOpt.step();
        const hits = dLogits.gt(0).float().eq(y).float().sum().item();
        return [lD.item(), hits, cosineLoss(xHat.detach(), x).item(), lAe.item()];
      });
      adv += r[0]! * idx.length;
      acc += r[1]!;
      cos += (1 - r[2]!) * idx.length;
      ae += r[3]! * idx.length;
    }
    const rec = { epoch: e, adversaryLoss: adv / n, adversaryAcc: acc / n, cosine: cos / n, aeLoss: ae / n };
    history.push(rec);
    o.onEpoch?.(rec);
  }
  advOpt.dispose();
  aeOpt.dispose();
  model.adversary.zeroGrad();
  return { model: model.eval(), preHistory, history };
}

/** Shuffled batches; a trailing batch of one is merged into the previous (BatchNorm needs two). */
function batches(n: number, size: number, rng: Rng): number[][] {
  const order = rng.shuffle(Array.from({ length: n }, (_, i) => i));
  const out: number[][] = [];
  for (let i = 0; i < n; i += size) out.push(order.slice(i, i + size));
  if (out.length > 1 && out[out.length - 1]!.length < 2) out[out.length - 2]!.push(...out.pop()!);
  return out;
}

export interface AdrTransformOptions {
  /** 'random': w = 0.5 + 0.1·N(0, 1) per x-vector (default); a number: that w for all; 'posterior': the pre-discriminator's. */
  w?: 'random' | 'posterior' | number;
  /** Seed of the random w (default 0). */
  seed?: number;
}

/**
 * ADR-transformed x-vectors (unit norm): encoder → decoder with the chosen attribute value, in eval mode.
 * @example const protectedX = adrTransform(model, testXvectors, { seed: 1 });
 */
export function adrTransform(model: Adr, x: readonly Float32Array[], o: AdrTransformOptions = {}): Float32Array[] {
  if (x.length === 0) return [];
  const dim = x[0]!.length;
  const mode = o.w ?? 'random';
  const wasTraining = model.training;
  model.eval();
  const out = noGrad(() =>
    tidy(() => {
      const xs = rows(
        x,
        x.map((_, i) => i),
        dim,
      ); // (N, D)
      let w: Tensor;
      if (mode === 'posterior') w = model.pre.forward(xs).sigmoid();
      else if (mode === 'random') {
        manualSeed(o.seed ?? 0);
        w = randn([x.length]).mul(0.1).add(0.5);
      } else w = tensor(new Float32Array(x.length).fill(mode), [x.length]);
      const y = model.forward(xs, w).contiguous().toFloat32Array(); // (N·D)
      return x.map((_, i) => y.slice(i * dim, (i + 1) * dim));
    }),
  );
  model.train(wasTraining);
  return out;
}
