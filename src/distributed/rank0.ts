// "Rank 0 only": checkpoints, reports and logs are written by one rank, and the others wait for it, so
// no rank reads a checkpoint before it exists and a failure on rank 0 stops every rank with its reason.
import { tensor } from '../tensor/index.js';
import type { ProcessGroup } from './process-group.js';

/** True on rank 0, and in a job without a process group. */
export function isRank0(pg: ProcessGroup | null): boolean {
  return pg === null || pg.rank === 0;
}

/**
 * Run `fn` on rank 0 only, then hold every rank until it is done. If `fn` throws on rank 0, every rank
 * throws (the others with an error saying rank 0 failed), so the job ends instead of training on.
 * @returns fn's result on rank 0, undefined elsewhere
 * @example await onRank0(pg, () => saveCheckpoint(path, parts, state));
 */
export async function onRank0<T>(
  pg: ProcessGroup | null,
  fn: () => T | Promise<T>,
  what = 'a rank-0 task',
): Promise<T | undefined> {
  if (pg === null || pg.worldSize === 1) return fn();
  let result: T | undefined;
  let error: unknown = null;
  if (pg.rank === 0) {
    try {
      result = await fn();
    } catch (e) {
      error = e;
    }
  }
  const ok = tensor([pg.rank === 0 && error === null ? 1 : 0]); // rank 0's outcome, sent to all
  try {
    await pg.broadcast(ok, 0);
    if (pg.rank !== 0 && ok.item() !== 1) {
      throw new Error(`rank 0 failed while running ${what}; its output has the reason. Stopping rank ${pg.rank} too.`);
    }
  } finally {
    ok.dispose();
  }
  if (error !== null) throw error;
  return result;
}

/** console.log on rank 0 only (progress lines and summaries once per job, not once per rank). */
export function logRank0(pg: ProcessGroup | null, ...args: unknown[]): void {
  if (isRank0(pg)) console.log(...args);
}
