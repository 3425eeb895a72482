// Sharding a data set by rank, as torch.utils.data.DistributedSampler: every rank draws the same seeded
// permutation for an epoch, pads it by wrapping around (or, with dropLast, truncates it) to a multiple of
// the world size, and takes every worldSize-th index from its rank. Step k's batches over all ranks are
// then exactly the permutation's k-th chunk of worldSize × batchSize, so W ranks with batch b see the same
// samples per step as one process with batch W·b over the same permutation (the one batchIndices() in
// src/data/spec-set.ts draws for that epoch and seed). Padding repeats a few samples in an epoch;
// truncation drops up to worldSize − 1.
import { Rng } from '../util/rng.js';

export interface DistributedSamplerOptions {
  /** Number of samples in the data set. */
  size: number;
  rank: number;
  worldSize: number;
  /** Seed of the per-epoch permutation (default 0); must be the same on every rank. */
  seed?: number;
  /** Shuffle every epoch (default true); false keeps the data set's order. */
  shuffle?: boolean;
  /** Truncate to a multiple of worldSize instead of padding (default false, as torch). */
  dropLast?: boolean;
}

/**
 * One rank's share of each epoch.
 * @example const s = new DistributedSampler({ size: n, rank: pg.rank, worldSize: pg.worldSize, seed });
 *          for (const idx of s.batches(epoch, perRankBatch)) { ... }
 */
export class DistributedSampler {
  readonly size: number;
  readonly rank: number;
  readonly worldSize: number;
  readonly seed: number;
  readonly shuffle: boolean;
  readonly dropLast: boolean;

  constructor(o: DistributedSamplerOptions) {
    for (const k of ['size', 'rank', 'worldSize'] as const) {
      if (!Number.isInteger(o[k]) || o[k] < (k === 'worldSize' ? 1 : 0)) {
        throw new RangeError(
          `DistributedSampler: '${k}' must be an integer >= ${k === 'worldSize' ? 1 : 0}, got ${o[k]}`,
        );
      }
    }
    if (o.rank >= o.worldSize)
      throw new RangeError(`DistributedSampler: 'rank' ${o.rank} must be below 'worldSize' ${o.worldSize}`);
    if (o.dropLast && o.size < o.worldSize) {
      throw new RangeError(
        `DistributedSampler: ${o.size} samples cannot be shared by ${o.worldSize} ranks with dropLast`,
      );
    }
    if (o.size === 0) throw new RangeError('DistributedSampler: the data set is empty');
    this.size = o.size;
    this.rank = o.rank;
    this.worldSize = o.worldSize;
    this.seed = o.seed ?? 0;
    this.shuffle = o.shuffle ?? true;
    this.dropLast = o.dropLast ?? false;
  }

  /** Samples per rank per epoch: ⌈size / W⌉ padded, or ⌊size / W⌋ with dropLast. */
  get numSamples(): number {
    return this.dropLast ? Math.floor(this.size / this.worldSize) : Math.ceil(this.size / this.worldSize);
  }

  /** The epoch's order over the whole data set, the same on every rank. */
  permutation(epoch: number): number[] {
    if (!Number.isInteger(epoch) || epoch < 0) throw new RangeError(`'epoch' must be an integer >= 0, got ${epoch}`);
    const order = Array.from({ length: this.size }, (_, i) => i);
    return this.shuffle ? new Rng(this.seed).derive(`epoch${epoch}`).shuffle(order) : order;
  }

  /** This rank's indices for `epoch`, in visiting order. */
  indices(epoch: number): number[] {
    const perm = this.permutation(epoch);
    const total = this.numSamples * this.worldSize;
    const all = perm.slice(0, total);
    while (all.length < total) all.push(...perm.slice(0, total - all.length)); // pad by wrapping around
    const mine: number[] = [];
    for (let i = this.rank; i < total; i += this.worldSize) mine.push(all[i]!);
    return mine;
  }

  /** This rank's mini-batches for `epoch` (the last may be smaller; dropped with `dropLast`). */
  batches(epoch: number, batchSize: number, dropLast = false): number[][] {
    if (!Number.isInteger(batchSize) || batchSize < 1)
      throw new RangeError(`'batchSize' must be an integer >= 1, got ${batchSize}`);
    const idx = this.indices(epoch);
    const out: number[][] = [];
    for (let i = 0; i < idx.length; i += batchSize) {
      const b = idx.slice(i, i + batchSize);
      if (b.length === batchSize || (!dropLast && b.length > 0)) out.push(b);
    }
    return out;
  }
}

/**
 * A random stream for one sample of one epoch (its crop offset, its augmentation), independent of
 * which rank draws it and of how many numbers other samples used: data-parallel runs then crop exactly
 * as one process would.
 * @example const start = sampleRng(seed, epoch, i).int(frames - crop + 1);
 */
export function sampleRng(seed: number, epoch: number, index: number): Rng {
  return new Rng(seed).derive(`epoch${epoch}/sample${index}`);
}
