// Optimiser (and schedule) state as one safetensors file: the state tensors under "<paramIndex>.<name>",
// and the JSON parts in `__metadata__` ("earmark.optimizer", "earmark.scheduler"), so Python's
// safetensors can read it too. Writes are atomic.
import { EarmarkError } from '../errors.js';
import {
  decodeSafetensors,
  encodeSafetensors,
  loadSafetensors,
  loadSafetensorsSync,
  type LoadedSafetensors,
} from '../serialize/safetensors.js';
import { writeFileAtomic, writeFileAtomicSync } from '../util/atomic.js';
import type { OptimizerMeta, StatefulOptimizer } from './optimizer.js';
import type { LRScheduler } from './lr-scheduler.js';

export const OPTIMIZER_KEY = 'earmark.optimizer';
export const SCHEDULER_KEY = 'earmark.scheduler';

type AnyOptimizer = StatefulOptimizer;

export interface OptimizerStateOptions {
  /** A schedule whose state is saved/restored alongside. */
  scheduler?: LRScheduler;
  /** Extra string metadata to store (save) — e.g. the epoch. */
  metadata?: Record<string, string>;
}

/**
 * Optimiser state as safetensors bytes.
 * @example const bytes = encodeOptimizerState(opt, { scheduler: sched });
 */
export function encodeOptimizerState(optimizer: AnyOptimizer, opts: OptimizerStateOptions = {}): Uint8Array {
  const { tensors, meta } = optimizer.stateDict();
  const metadata: Record<string, string> = { ...opts.metadata, [OPTIMIZER_KEY]: JSON.stringify(meta) };
  if (opts.scheduler !== undefined) metadata[SCHEDULER_KEY] = JSON.stringify(opts.scheduler.stateDict());
  return encodeSafetensors(tensors, metadata);
}

/**
 * Restore optimiser (and schedule) state from safetensors bytes; returns the file's metadata.
 * @example decodeOptimizerState(bytes, opt, { scheduler: sched });
 */
export function decodeOptimizerState(
  bytes: Uint8Array,
  optimizer: AnyOptimizer,
  opts: OptimizerStateOptions = {},
  source = '<buffer>',
): Record<string, string> {
  return restore(decodeSafetensors(bytes, source), optimizer, opts, source);
}

function restore(
  file: LoadedSafetensors,
  optimizer: AnyOptimizer,
  opts: OptimizerStateOptions,
  source: string,
): Record<string, string> {
  try {
    const md = file.metadata ?? {};
    const meta = parseJson<OptimizerMeta>(md[OPTIMIZER_KEY], OPTIMIZER_KEY, source);
    if (opts.scheduler !== undefined) {
      opts.scheduler.loadStateDict(parseJson(md[SCHEDULER_KEY], SCHEDULER_KEY, source));
    }
    optimizer.loadStateDict({ tensors: file.tensors, meta });
    return md;
  } finally {
    for (const t of file.tensors.values()) t.dispose(); // loadStateDict copied what it needs
  }
}

function parseJson<T>(text: string | undefined, key: string, source: string): T {
  if (text === undefined) {
    throw new EarmarkError(
      'EARMARK_CHECKPOINT',
      `${source}: no '${key}' in the safetensors metadata. ` +
        'Is this an optimiser state file written by saveOptimizerState (with that part included)?',
    );
  }
  try {
    return JSON.parse(text) as T;
  } catch (e) {
    throw new EarmarkError(
      'EARMARK_CHECKPOINT',
      `${source}: metadata '${key}' is not valid JSON (${(e as Error).message}). ` +
        'The file is corrupt; save the optimiser state again',
      { cause: e },
    );
  }
}

/**
 * Save optimiser state (and optionally a schedule's) to a safetensors file, atomically.
 * @example await saveOptimizerState('ckpt/optim.safetensors', opt, { scheduler: sched, metadata: { epoch: '3' } });
 */
export async function saveOptimizerState(
  path: string,
  optimizer: AnyOptimizer,
  opts: OptimizerStateOptions = {},
): Promise<void> {
  await writeFileAtomic(path, encodeOptimizerState(optimizer, opts));
}

/** Synchronous {@link saveOptimizerState}. @example saveOptimizerStateSync('optim.safetensors', opt); */
export function saveOptimizerStateSync(path: string, optimizer: AnyOptimizer, opts: OptimizerStateOptions = {}): void {
  writeFileAtomicSync(path, encodeOptimizerState(optimizer, opts));
}

/**
 * Load state saved by saveOptimizerState into an optimiser built over the same parameters; returns the
 * file's metadata (with your extra keys).
 * @example const md = await loadOptimizerState('ckpt/optim.safetensors', opt, { scheduler: sched });
 */
export async function loadOptimizerState(
  path: string,
  optimizer: AnyOptimizer,
  opts: OptimizerStateOptions = {},
): Promise<Record<string, string>> {
  return restore(await loadSafetensors(path), optimizer, opts, path);
}

/** Synchronous {@link loadOptimizerState}. @example loadOptimizerStateSync('optim.safetensors', opt); */
export function loadOptimizerStateSync(
  path: string,
  optimizer: AnyOptimizer,
  opts: OptimizerStateOptions = {},
): Record<string, string> {
  return restore(loadSafetensorsSync(path), optimizer, opts, path);
}
