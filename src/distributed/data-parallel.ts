// Data parallelism as explicit calls in a training loop, with no wrapper around the model: broadcast the
// parameters and buffers from rank 0 once (so every replica starts equal), all-reduce the gradients in
// buckets after every backward (flatten, sum, divide by the world size, copy back), and bring BatchNorm's
// running statistics into agreement at points the loop chooses. Every call is a no-op without a group or
// with a world size of 1, so one loop serves both.
//
// BatchNorm under data parallelism (tested in test/distributed-batchnorm.test.ts):
// - In training mode each rank normalises with its own batch's statistics (B / worldSize samples; this is
//   not SyncBatchNorm). A BatchNorm model's averaged gradients therefore equal one process running each
//   rank's shard as a separate BatchNorm batch ("ghost" batches), not one process with the global batch.
// - Running statistics are updated per rank and differ between syncs. syncBuffers() makes them agree:
//   'average' (default) gives every rank the mean of the ranks' running_mean / running_var, 'broadcast'
//   gives rank 0's (what torch DDP's broadcast_buffers does before every forward). num_batches_tracked is
//   rank 0's either way. Call it before validation and before rank 0 writes a checkpoint (every epoch
//   end), so the saved statistics are the synced ones.
// - A model in eval mode (the frozen DeepSpeech2 target of obfuscator training) uses fixed running
//   statistics and is unaffected; InstanceNorm (CycleGAN-VC2) is per sample, so data parallel training
//   of the obfuscator equals one process with the global batch.
import type { DType } from '../binding/dtype.js';
import type { Module } from '../nn/module.js';
import { cat, noGrad, tidy, type Tensor } from '../tensor/index.js';
import type { ProcessGroup } from './process-group.js';

/** torch DDP's default bucket size (bucket_cap_mb = 25). */
export const DEFAULT_BUCKET_BYTES = 25 * 1024 * 1024;

const ELEMENT_BYTES: Record<DType, number> = {
  float32: 4,
  float64: 8,
  int64: 8,
  int32: 4,
  uint8: 1,
  bool: 1,
  complex64: 8,
  bfloat16: 2,
  float16: 2,
};

function active(pg: ProcessGroup | null): pg is ProcessGroup {
  return pg !== null && pg.worldSize > 1;
}

/**
 * Split tensors, in order, into buckets of one dtype and device of at most `bucketBytes` each (a larger
 * tensor gets a bucket of its own). Every rank passing the same tensors gets the same buckets.
 */
export function planBuckets(tensors: readonly Tensor[], bucketBytes = DEFAULT_BUCKET_BYTES): Tensor[][] {
  if (!(bucketBytes > 0)) throw new RangeError(`'bucketBytes' must be > 0, got ${bucketBytes}`);
  const open = new Map<string, { list: Tensor[]; bytes: number }>();
  const out: Tensor[][] = [];
  for (const t of tensors) {
    const key = `${t.dtype}@${t.device}`;
    const bytes = t.numel * ELEMENT_BYTES[t.dtype];
    let b = open.get(key);
    if (b !== undefined && b.bytes + bytes > bucketBytes) {
      out.push(b.list);
      b = undefined;
    }
    if (b === undefined) open.set(key, (b = { list: [], bytes: 0 }));
    b.list.push(t);
    b.bytes += bytes;
  }
  for (const b of open.values()) out.push(b.list);
  return out;
}

/** One flat contiguous copy of a bucket (under noGrad). */
function flatten(bucket: readonly Tensor[]): Tensor {
  return noGrad(() => tidy(() => cat(bucket.map((t) => t.reshape([-1])))));
}

/** Copy a flat bucket back into its tensors, element ranges in order. */
function unflattenInto(flat: Tensor, bucket: readonly Tensor[]): void {
  noGrad(() =>
    tidy(() => {
      let offset = 0;
      for (const t of bucket) {
        const n = t.numel;
        t.copy_(flat.narrow(0, offset, n).view(t.shape));
        offset += n;
      }
    }),
  );
}

/**
 * Average every parameter's gradient across ranks, in buckets: flatten each bucket, all-reduce (sum),
 * divide by the world size, copy back. Call after backward() and before clipping and optimizer.step().
 * Every rank must hold gradients for the same parameters (the same code path); parameters without a
 * gradient are skipped.
 * @param o.bucketBytes bucket size (default 25 MiB, as torch DDP)
 * @example loss.backward(); await allReduceGradients(model.parameters(), pg); clipGradNorm_(ps, 10); opt.step();
 */
export async function allReduceGradients(
  params: readonly Tensor[],
  pg: ProcessGroup | null,
  o: { bucketBytes?: number } = {},
): Promise<void> {
  if (!active(pg)) return;
  const temps: Tensor[] = [];
  try {
    const grads: Tensor[] = [];
    for (const p of params) {
      const g = p.grad; // a new handle on the gradient's storage
      if (g === null) continue;
      temps.push(g);
      grads.push(g);
    }
    const buckets = planBuckets(grads, o.bucketBytes);
    const flats = buckets.map(flatten);
    temps.push(...flats);
    await pg.allReduce(flats, 'sum');
    buckets.forEach((b, i) => tidy(() => unflattenInto(flats[i]!.div(pg.worldSize), b)));
  } finally {
    for (const t of temps) t.dispose();
  }
}

async function broadcastTensors(
  tensors: readonly Tensor[],
  pg: ProcessGroup,
  root: number,
  bucketBytes?: number,
): Promise<void> {
  const buckets = planBuckets(tensors, bucketBytes);
  const flats = buckets.map(flatten);
  try {
    await pg.broadcast(flats, root);
    if (pg.rank !== root) buckets.forEach((b, i) => unflattenInto(flats[i]!, b));
  } finally {
    for (const t of flats) t.dispose();
  }
}

function listOf(modules: Module | readonly Module[]): readonly Module[] {
  return Array.isArray(modules) ? modules : [modules as Module];
}

/**
 * Give every rank rank `root`'s parameters and buffers (before training, and after a resume), so the
 * replicas start equal whatever each rank's seed.
 * @example await broadcastParameters([obfuscator, deobfuscator], pg);
 */
export async function broadcastParameters(
  modules: Module | readonly Module[],
  pg: ProcessGroup | null,
  root = 0,
  o: { bucketBytes?: number } = {},
): Promise<void> {
  if (!active(pg)) return;
  const tensors = listOf(modules).flatMap((m) => [...m.stateDict().values()]);
  await broadcastTensors(tensors, pg, root, o.bucketBytes);
}

/**
 * Make the ranks' buffers (BatchNorm running statistics) agree: 'average' (default) sets floating
 * buffers to the mean over ranks, 'broadcast' to rank 0's; integer buffers (num_batches_tracked) are
 * rank 0's in both. See the BatchNorm notes at the top of this file for when to call it.
 * @example await syncBuffers(target, pg); // at the end of every epoch, before validation and the checkpoint
 */
export async function syncBuffers(
  modules: Module | readonly Module[],
  pg: ProcessGroup | null,
  mode: 'average' | 'broadcast' = 'average',
): Promise<void> {
  if (!active(pg)) return;
  if (mode !== 'average' && mode !== 'broadcast')
    throw new TypeError(`syncBuffers: 'mode' must be 'average' or 'broadcast', got '${String(mode)}'`);
  const buffers = listOf(modules).flatMap((m) => m.namedBuffers().map(([, t]) => t));
  const isFloat = (t: Tensor): boolean =>
    t.dtype === 'float32' || t.dtype === 'float64' || t.dtype === 'bfloat16' || t.dtype === 'float16';
  const averaged = mode === 'average' ? buffers.filter(isFloat) : [];
  const broadcast = buffers.filter((t) => !averaged.includes(t));
  if (broadcast.length) await broadcastTensors(broadcast, pg, 0);
  if (averaged.length === 0) return;
  const buckets = planBuckets(averaged);
  const flats = buckets.map(flatten);
  try {
    await pg.allReduce(flats, 'sum');
    buckets.forEach((b, i) => tidy(() => unflattenInto(flats[i]!.div(pg.worldSize), b)));
  } finally {
    for (const t of flats) t.dispose();
  }
}
