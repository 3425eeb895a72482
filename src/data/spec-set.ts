// Spectrogram sets in memory and the fixed-length crops every training loop samples from them
// (CycleGAN-VC2's convention: 128 frames = 1.28 s). A set holds one (nFreq, frames) matrix per utterance.
import { cat, noGrad, tensor, tidy, type Tensor } from '../tensor/index.js';
import type { Rng } from '../util/rng.js';

export interface SpecSet {
  ids: string[];
  /** Row-major (nFreq, frames) per utterance. */
  specs: Float32Array[];
  frames: number[];
  nFreq: number;
}

/** A set and one integer label per utterance for the task at hand. */
export interface LabelledSet {
  set: SpecSet;
  labels: number[];
  numClasses: number;
}

/** Start frame of a random crop (0 when the utterance is shorter than the crop). */
function cropStart(frames: number, crop: number, rng: Rng): number {
  return frames > crop ? rng.int(frames - crop + 1) : 0;
}

/**
 * Random `crop`-frame crops of the utterances `idx` as one batch (B, nFreq, crop). Utterances shorter
 * than the crop are tiled (repeated from their start) rather than zero-padded, so no class is
 * recognisable by silence. `rng` is one stream for the whole batch, or one per utterance index (as
 * sampleRng(seed, epoch, i), so that data-parallel ranks crop exactly as one process does).
 */
export function cropBatch(s: SpecSet, idx: readonly number[], crop: number, rng: Rng | ((i: number) => Rng)): Tensor {
  const f = s.nFreq;
  const out = new Float32Array(idx.length * f * crop);
  for (const [b, i] of idx.entries()) {
    const spec = s.specs[i]!;
    const n = s.frames[i]!;
    const start = cropStart(n, crop, typeof rng === 'function' ? rng(i) : rng);
    const base = b * f * crop;
    for (let r = 0; r < f; r++) {
      const row = r * n;
      for (let t = 0; t < crop; t++) out[base + r * crop + t] = spec[row + ((start + t) % n)]!;
    }
  }
  return tensor(out, [idx.length, f, crop]);
}

/** One utterance as (1, nFreq, frames). */
export function utterance(s: SpecSet, i: number): Tensor {
  return tensor(s.specs[i]!, [1, s.nFreq, s.frames[i]!]);
}

/** Shuffled mini-batches of indices 0..n-1 (the last one may be smaller; dropped when `dropLast`). */
export function batchIndices(n: number, batchSize: number, rng: Rng, dropLast = false): number[][] {
  const order = rng.shuffle(Array.from({ length: n }, (_, i) => i));
  const out: number[][] = [];
  for (let i = 0; i < n; i += batchSize) {
    const b = order.slice(i, i + batchSize);
    if (b.length === batchSize || (!dropLast && b.length > 0)) out.push(b);
  }
  return out;
}

/**
 * A new set with `fn` applied to every whole utterance, e.g. the obfuscator: fn((1, F, T)) → (1, F, T).
 * Runs under noGrad, one utterance at a time.
 */
export function mapSet(s: SpecSet, fn: (x: Tensor) => Tensor, onItem?: () => void): SpecSet {
  const specs = s.specs.map((_, i) => {
    const y = noGrad(() => tidy(() => fn(utterance(s, i)).contiguous().toFloat32Array()));
    onItem?.();
    return y;
  });
  return { ids: s.ids.slice(), specs, frames: s.frames.slice(), nFreq: s.nFreq };
}

/** The subset `idx` of a labelled set. */
export function subset(l: LabelledSet, idx: readonly number[]): LabelledSet {
  return {
    set: {
      ids: idx.map((i) => l.set.ids[i]!),
      specs: idx.map((i) => l.set.specs[i]!),
      frames: idx.map((i) => l.set.frames[i]!),
      nFreq: l.set.nFreq,
    },
    labels: idx.map((i) => l.labels[i]!),
    numClasses: l.numClasses,
  };
}

/**
 * The transformed twin of `sub`, a (labelled) subset of the clean set `full`, looked up by id in a map
 * clean set → transformed set (obfuscated or anonymised sets keep the clean sets' ids and order).
 */
export function twinSubset(twins: ReadonlyMap<SpecSet, SpecSet>, full: SpecSet, sub: SpecSet): SpecSet {
  const t = twins.get(full);
  if (t === undefined)
    throw new RangeError(
      'twinSubset: no transformed twin for this split set; build the twins from the same ExperimentData',
    );
  const pos = new Map(full.ids.map((id, i) => [id, i]));
  const idx = sub.ids.map((id) => pos.get(id)!);
  return {
    ids: idx.map((i) => t.ids[i]!),
    specs: idx.map((i) => t.specs[i]!),
    frames: idx.map((i) => t.frames[i]!),
    nFreq: t.nFreq,
  };
}

/** Concatenate per-utterance outputs along time (used by tests and reports). */
export function catFrames(ts: Tensor[]): Tensor {
  return cat(ts, 2);
}
