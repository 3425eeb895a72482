// Checkpoints: one safetensors file per checkpoint holding every module's state dict and every
// optimiser's state under a prefix ("obfuscator.conv1.weight", "opt.obfuscator.0.momentum_buffer"),
// with the resolved config and the loop's JSON state in the metadata. One file, written atomically,
// so a checkpoint is either the previous one or the new one, never half.
//
// Wall-clock times (every number under a state key named `seconds`) are kept out of the checkpoint (it
// holds 0 there), in a JSON file beside it (`target.safetensors` → `target.seconds.json`), so that two
// identical runs write identical checkpoint bytes; loading puts them back.
import { closeSync, existsSync, openSync, readFileSync, readSync } from 'node:fs';
import { EarmarkError } from '../errors.js';
import type { Module } from '../nn/index.js';
import type { OptimizerMeta, OptimizerStateDict } from '../optim/index.js';
import { loadSafetensorsSync, saveSafetensorsSync } from '../serialize/safetensors.js';
import { MAX_HEADER_BYTES } from '../serialize/safetensors-format.js';
import type { Tensor } from '../tensor/index.js';
import { writeFileAtomicSync } from '../util/atomic.js';

/** What a checkpoint needs of an optimiser. */
export interface StatefulOptimizer {
  stateDict(): OptimizerStateDict;
  loadStateDict(sd: OptimizerStateDict): void;
}

export interface CheckpointParts {
  modules: Record<string, Module>;
  optimizers?: Record<string, StatefulOptimizer>;
}

const META_KEY = 'earmark.checkpoint';

/** Write modules, optimisers and a JSON-able state to `path` atomically. */
export function saveCheckpoint(path: string, parts: CheckpointParts, state: object): void {
  if ('opt' in parts.modules)
    throw new RangeError("saveCheckpoint: a module may not be named 'opt' (reserved for optimiser state)");
  const tensors = new Map<string, Tensor>();
  const optMeta: Record<string, OptimizerMeta> = {};
  for (const [name, m] of Object.entries(parts.modules))
    for (const [k, t] of m.stateDict()) tensors.set(`${name}.${k}`, t);
  for (const [name, opt] of Object.entries(parts.optimizers ?? {})) {
    const sd = opt.stateDict();
    for (const [k, t] of sd.tensors) tensors.set(`opt.${name}.${k}`, t); // the optimiser's own tensors
    optMeta[name] = sd.meta;
  }
  const [timeless, seconds] = splitSeconds(state);
  // the times first: a crash between the two writes leaves times for one epoch too many, never too few
  if (seconds !== undefined) writeFileAtomicSync(secondsPath(path), JSON.stringify(seconds));
  // always from host copies (the same path on CPU and CUDA): a checkpoint of a GPU run loads on CPU, and the reverse
  const host = new Map<string, Tensor>();
  try {
    for (const [k, t] of tensors) host.set(k, t.to('cpu', { copy: true }));
    saveSafetensorsSync(path, host, { [META_KEY]: JSON.stringify({ state: timeless, optimizers: optMeta }) });
  } finally {
    for (const t of host.values()) t.dispose();
  }
}

/** Where a checkpoint's wall-clock times live: `x.safetensors` → `x.seconds.json`. */
export function secondsPath(checkpoint: string): string {
  return `${checkpoint.replace(/\.safetensors$/, '')}.seconds.json`;
}

/**
 * A JSON state split in two: the state with 0 for every `seconds` number (keys keep their order), and
 * a skeleton of it holding only those numbers ({ history: [{ seconds: 1.2 }, …] }; undefined if none).
 */
function splitSeconds(v: unknown): [unknown, unknown] {
  if (Array.isArray(v)) {
    const parts = v.map(splitSeconds);
    return [parts.map((p) => p[0]), parts.some((p) => p[1] !== undefined) ? parts.map((p) => p[1] ?? null) : undefined];
  }
  if (v === null || typeof v !== 'object') return [v, undefined];
  const state: Record<string, unknown> = {};
  const times: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) {
    const [a, b] = k === 'seconds' && typeof x === 'number' ? [0, x] : splitSeconds(x);
    state[k] = a;
    if (b !== undefined) times[k] = b;
  }
  return [state, Object.keys(times).length > 0 ? times : undefined];
}

/** Put the times of a skeleton back into `state` where its records still are. */
function mergeSeconds(state: unknown, times: unknown): void {
  if (state === null || typeof state !== 'object' || times === null || typeof times !== 'object') return;
  const s = state as Record<string, unknown>;
  for (const [k, t] of Object.entries(times as Record<string, unknown>)) {
    if (k === 'seconds' && typeof t === 'number' && typeof s[k] === 'number') s[k] = t;
    else mergeSeconds(s[k], t);
  }
}

/** `state` with the times saved beside the checkpoint at `path` put back (none: they stay 0). */
function withSeconds<S>(path: string, state: S): S {
  const file = secondsPath(path);
  if (existsSync(file)) mergeSeconds(state, JSON.parse(readFileSync(file, 'utf8')));
  return state;
}

/**
 * Restore what saveCheckpoint wrote into the given (already constructed) modules and optimisers.
 * @returns the JSON state saved with it
 */
export function loadCheckpoint<S = unknown>(path: string, parts: CheckpointParts): S {
  if (!existsSync(path)) {
    throw new EarmarkError('EARMARK_CHECKPOINT', `no checkpoint at ${path}; run without --resume to start a new run`);
  }
  const file = loadSafetensorsSync(path);
  try {
    const raw = file.metadata?.[META_KEY];
    if (raw === undefined)
      throw new EarmarkError('EARMARK_CHECKPOINT', `${path} is not an earmark checkpoint (no '${META_KEY}' metadata)`);
    const meta = JSON.parse(raw) as { state: S; optimizers: Record<string, OptimizerMeta> };
    for (const [name, m] of Object.entries(parts.modules)) {
      m.loadStateDict(subDict(file.tensors, `${name}.`), { source: path });
    }
    for (const [name, opt] of Object.entries(parts.optimizers ?? {})) {
      const om = meta.optimizers[name];
      if (om === undefined)
        throw new EarmarkError(
          'EARMARK_CHECKPOINT',
          `${path} has no optimiser state '${name}'; it was written by a different method`,
        );
      opt.loadStateDict({ tensors: subDict(file.tensors, `opt.${name}.`), meta: om });
    }
    return withSeconds(path, meta.state);
  } finally {
    for (const t of file.tensors.values()) t.dispose();
  }
}

/** Load only a module's weights from a checkpoint (e.g. a trained target model). */
export function loadModuleWeights(path: string, name: string, m: Module): void {
  loadCheckpoint(path, { modules: { [name]: m } });
}

/** The JSON state alone, read from the file's header (no tensor is loaded). */
export function readCheckpointState<S = unknown>(path: string): S {
  const fd = openSync(path, 'r');
  let header: { __metadata__?: Record<string, string> };
  try {
    const len = Buffer.alloc(8);
    const n = readSync(fd, len, 0, 8, 0) === 8 ? Number(len.readBigUInt64LE(0)) : -1;
    if (n < 0 || n > MAX_HEADER_BYTES)
      throw new EarmarkError(
        'EARMARK_CHECKPOINT',
        `${path} is not a safetensors file (truncated or bad header length); delete it to retrain`,
      );
    const text = Buffer.alloc(n);
    if (readSync(fd, text, 0, n, 8) !== n)
      throw new EarmarkError('EARMARK_CHECKPOINT', `${path} is truncated; delete it to retrain`);
    try {
      header = JSON.parse(text.toString('utf8')) as typeof header;
    } catch (e) {
      throw new EarmarkError(
        'EARMARK_CHECKPOINT',
        `${path} has an unreadable header (${(e as Error).message}); delete it to retrain`,
      );
    }
  } finally {
    closeSync(fd);
  }
  const raw = header.__metadata__?.[META_KEY];
  if (raw === undefined) throw new EarmarkError('EARMARK_CHECKPOINT', `${path} is not an earmark checkpoint`);
  return withSeconds(path, (JSON.parse(raw) as { state: S }).state);
}

function subDict(all: Map<string, Tensor>, prefix: string): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  for (const [k, t] of all) if (k.startsWith(prefix)) out.set(k.slice(prefix.length), t);
  return out;
}
