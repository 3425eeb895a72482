// Where a training loop runs: its device, its mixed precision and its process group, resolved once at the
// top of the loop, and the few calls every loop makes with them (the explicit steps of torch's
// DistributedDataParallel + autocast + GradScaler recipe, with no wrapper around the model):
//   batch on the device (pinned, non-blocking) → forward under autocast → scaler.scale(loss).backward()
//   → await allReduceGradients (a tidy() scope cannot span an await) → unscale → clip → step → update.
// Data: the global batch is split over the ranks by a seeded DistributedSampler, and every sample's crop
// comes from its own stream (sampleRng), so W ranks see per step exactly the samples of one process with
// the global batch. Rank 0 alone writes checkpoints, metrics and reports; every rank loads a checkpoint
// and then rank 0's weights are broadcast, so a run resumes under any world size.
import { EarmarkError } from '../errors.js';
import { allReduceGradients, DistributedSampler, onRank0, sampleRng, type ProcessGroup } from '../distributed/index.js';
import { GradScaler, clipGradNorm_, type GradScalerState, type ScalableOptimizer } from '../optim/index.js';
import {
  autocast,
  batchTo,
  defaultDevice,
  resolveDevice,
  tensor,
  type AmpDtype,
  type Tensor,
} from '../tensor/index.js';
import type { Rng } from '../util/rng.js';

/** What a training function accepts about where it runs (each has a default). */
export interface PlacementOptions {
  /** 'cpu', 'cuda' or 'cuda:N' (default: 'cuda:0' when this libtorch has a GPU, else 'cpu'). */
  device?: string;
  /** Mixed precision through autocast: 'bfloat16' (CPU and CUDA) or 'float16' (CUDA, with loss scaling); null: off. */
  amp?: AmpDtype | null;
  /** Data-parallel training over this group (null or world size 1: one process). */
  processGroup?: ProcessGroup | null;
}

/** A resolved placement: every loop reads these fields, never the options. */
export interface Placement {
  device: string;
  amp: AmpDtype | null;
  pg: ProcessGroup | null;
  rank: number;
  worldSize: number;
}

/**
 * Check the device and the mixed precision once, with errors naming the flag and the fix.
 * @example const P = resolvePlacement(o); const model = new DeepSpeech2(mc).to(P.device);
 */
export function resolvePlacement(o: PlacementOptions): Placement {
  const device = resolveDevice(o.device ?? defaultDevice(), 'device (--device)');
  const amp = o.amp ?? null;
  if (amp !== null && amp !== 'bfloat16' && amp !== 'float16')
    throw new TypeError(
      `'amp' (--amp) must be 'bfloat16' (bf16), 'float16' (fp16) or null (off), got '${String(amp)}'`,
    );
  if (amp === 'float16' && device === 'cpu') {
    throw new EarmarkError(
      'EARMARK_DEVICE',
      "'--amp fp16' needs a CUDA device but '--device' is 'cpu': libtorch's CPU " +
        'autocast runs bfloat16 only. Use --amp bf16 on CPU, or --device cuda on a GPU machine',
    );
  }
  const pg = o.processGroup ?? null;
  return { device, amp, pg, rank: pg?.rank ?? 0, worldSize: pg?.worldSize ?? 1 };
}

/** `fn` under autocast when the placement asks for mixed precision, as it is otherwise. */
export function amp<T>(P: Placement, fn: () => T): T {
  return P.amp === null ? fn() : autocast({ device: P.device, dtype: P.amp }, fn);
}

/** A host batch on the device (a new tensor; the host one is disposed here). */
export function onDevice(P: Placement, host: Tensor): Tensor {
  try {
    return batchTo(host, P.device);
  } finally {
    host.dispose();
  }
}

/** A loss scaler: dynamic scaling for float16, a pass-through otherwise. */
export function scalerFor(P: Placement, saved?: GradScalerState): GradScaler {
  const s = new GradScaler({ enabled: P.amp === 'float16' });
  if (saved !== undefined && s.enabled) s.loadStateDict(saved);
  return s;
}

/**
 * The step after backward: average the gradients over the ranks, unscale, clip (maxNorm > 0), step,
 * update the scale. Outside any tidy() (it awaits the all-reduce).
 * @returns whether the optimiser stepped (false: an fp16 step with inf/NaN gradients was skipped)
 */
export async function syncedStep(
  P: Placement,
  params: Tensor[],
  opt: ScalableOptimizer,
  scaler: GradScaler,
  maxNorm: number,
): Promise<boolean> {
  await allReduceGradients(params, P.pg);
  scaler.unscale_(opt);
  if (maxNorm > 0) clipGradNorm_(params, maxNorm);
  const stepped = scaler.step(opt);
  scaler.update();
  return stepped;
}

/**
 * This rank's mini-batches of an epoch: a global batch of `batchSize` is `batchSize / W` samples on each
 * of the W ranks, drawn by a DistributedSampler seeded with `seed` (with W = 1 this is batchIndices'
 * order for the same seed and epoch).
 */
export function rankBatches(P: Placement, n: number, batchSize: number, seed: number, epoch: number): number[][] {
  const sampler = new DistributedSampler({ size: n, rank: P.rank, worldSize: P.worldSize, seed });
  return sampler.batches(epoch, perRankBatch(P, batchSize));
}

/** batchSize / W, or an error naming the sizes when the global batch does not split over the ranks. */
export function perRankBatch(P: Placement, batchSize: number): number {
  if (batchSize % P.worldSize !== 0) {
    throw new EarmarkError(
      'EARMARK_DISTRIBUTED',
      `the global batch size ${batchSize} does not split over WORLD_SIZE=${P.worldSize} ` +
        `processes; choose a batch size that is a multiple of ${P.worldSize} (each rank takes batchSize / WORLD_SIZE)`,
    );
  }
  return batchSize / P.worldSize;
}

/** The crop stream of sample `i` in `epoch`, the same on whichever rank draws it. */
export function cropRng(seed: number, epoch: number): (i: number) => Rng {
  return (i) => sampleRng(seed, epoch, i);
}

/** The ranks' mean of each number (every rank gets the same values); the values themselves in one process. */
export async function meanOverRanks(P: Placement, values: number[]): Promise<number[]> {
  if (P.pg === null || P.worldSize === 1) return values;
  const t = tensor(Float64Array.from(values), [values.length]);
  try {
    await P.pg.allReduce(t, 'sum');
    return Array.from(t.toFloat64Array(), (v) => v / P.worldSize);
  } finally {
    t.dispose();
  }
}

/** Run `fn` (a checkpoint or report write) on rank 0 alone; the other ranks wait for it (and fail with it). */
export function onRank0Only<T>(P: Placement, fn: () => T, what: string): Promise<T | undefined> {
  return onRank0(P.pg, fn, what);
}

/** A log callback that prints on rank 0 only. */
export function rank0Log(
  P: Placement,
  log: ((line: string) => void) | undefined,
): ((line: string) => void) | undefined {
  return P.rank === 0 ? log : undefined;
}
