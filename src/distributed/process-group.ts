// A c10d process group (torch.distributed's engine): TCPStore rendezvous at MASTER_ADDR:MASTER_PORT,
// then Gloo (CPU tensors) or NCCL (CUDA tensors, where the addon was built with it), and the collectives
// data-parallel training needs. Each collective is started at once, in program order (every rank must
// issue the same collectives in the same order), and awaited off the JS thread with the group's timeout:
// a dead or hung rank becomes an EarmarkError('EARMARK_DISTRIBUTED') naming the op, never a hang.
import { native, type GroupHandle, type WorkHandle } from '../binding/native.js';
import { EarmarkError } from '../errors.js';
import type { Tensor } from '../tensor/index.js';
import { isLoopback, readTorchrunEnv } from './env.js';

export type Backend = 'gloo' | 'nccl';
export type ReduceOp = 'sum' | 'max' | 'min' | 'product';

/** torch.distributed's default: 30 minutes for the rendezvous and for every collective. */
export const DEFAULT_TIMEOUT_MS = 30 * 60 * 1000;

export interface ProcessGroupOptions {
  /** 'gloo' (default) or 'nccl' (CUDA tensors; needs an addon built with EARMARK_NCCL). */
  backend?: Backend;
  /** This process's rank and the number of processes (default: RANK and WORLD_SIZE). */
  rank?: number;
  worldSize?: number;
  /** Rank 0's host and the TCPStore port there (default: MASTER_ADDR and MASTER_PORT). */
  masterAddr?: string;
  masterPort?: number;
  /** Bound on each collective, in ms (default 30 min, as torch). */
  timeoutMs?: number;
  /** Bound on the rendezvous (all ranks joining), in ms (default: timeoutMs). */
  initTimeoutMs?: number;
  /** Gloo's worker threads (default 2, as torch). */
  threads?: number;
  /** Where torchrun's variables are read (default process.env); GLOO_SOCKET_IFNAME picks Gloo's interface. */
  env?: NodeJS.ProcessEnv;
}

/** An error's message without its closing punctuation, to continue the sentence. */
function sentence(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).replace(/[.!\s]+$/, '');
}

/** What the addon was compiled with. */
export function distributedAvailable(): { gloo: boolean; nccl: boolean } {
  return native.distAvailable();
}

/**
 * One rank's membership in a job. Build with {@link initProcessGroup}; end with destroy().
 * @example const pg = await initProcessGroup(); await pg.allReduce(t); await pg.destroy();
 */
export class ProcessGroup {
  readonly backend: Backend;
  readonly rank: number;
  readonly worldSize: number;
  readonly localRank: number;
  readonly timeoutMs: number;
  #g: GroupHandle | null;
  #failed = false;

  /** Internal: use initProcessGroup(). */
  constructor(
    g: GroupHandle,
    o: { backend: Backend; rank: number; worldSize: number; localRank: number; timeoutMs: number },
  ) {
    this.#g = g;
    this.backend = o.backend;
    this.rank = o.rank;
    this.worldSize = o.worldSize;
    this.localRank = o.localRank;
    this.timeoutMs = o.timeoutMs;
  }

  get isDestroyed(): boolean {
    return this.#g === null;
  }

  #handle(op: string): GroupHandle {
    if (this.#g === null) throw new EarmarkError('EARMARK_DISTRIBUTED', `${op}: the process group was destroyed`);
    return this.#g;
  }

  /** Await started collectives, turning a failure into an EarmarkError that says what to do. */
  async #wait(works: WorkHandle[]): Promise<void> {
    try {
      await native.distWait(works, this.timeoutMs);
    } catch (e) {
      this.#failed = true;
      throw new EarmarkError(
        'EARMARK_DISTRIBUTED',
        `${sentence(e)}. Another rank has probably died or stopped ` +
          `answering (timeout ${this.timeoutMs} ms); see its output. This job cannot continue: start it again ` +
          '(training resumes from the last checkpoint).',
        { cause: e },
      );
    }
  }

  /**
   * Reduce each tensor across ranks in place ('sum' by default). The tensors must be contiguous, on the
   * backend's device, and have the same shape and dtype on every rank.
   * @example await pg.allReduce([flatGrads]); // then divide by pg.worldSize for a mean
   */
  async allReduce(tensors: Tensor | readonly Tensor[], op: ReduceOp = 'sum'): Promise<void> {
    const g = this.#handle('allReduce');
    const list = Array.isArray(tensors) ? tensors : [tensors as Tensor];
    await this.#wait(list.map((t) => native.distAllreduce(g, t.handle, op)));
  }

  /**
   * Overwrite each tensor with rank `root`'s (in place).
   * @example await pg.broadcast(model.parameters(), 0);
   */
  async broadcast(tensors: Tensor | readonly Tensor[], root = 0): Promise<void> {
    const g = this.#handle('broadcast');
    if (!Number.isInteger(root) || root < 0 || root >= this.worldSize) {
      throw new RangeError(`broadcast: 'root' must be a rank 0..${this.worldSize - 1}, got ${root}`);
    }
    const list = Array.isArray(tensors) ? tensors : [tensors as Tensor];
    await this.#wait(list.map((t) => native.distBroadcast(g, t.handle, root)));
  }

  /** Wait until every rank reaches this point. */
  async barrier(): Promise<void> {
    await this.#wait([native.distBarrier(this.#handle('barrier'))]);
  }

  /** The job's TCPStore: small string values by key, shared by all ranks (get blocks until set, up to the timeout). */
  get store(): {
    set(key: string, value: string): void;
    get(key: string): string;
    add(key: string, by: number): number;
  } {
    const g = this.#handle('store');
    return {
      set: (key, value) => native.distStoreSet(g, key, value),
      get: (key) => native.distStoreGet(g, key),
      add: (key, by) => native.distStoreAdd(g, key, by),
    };
  }

  /**
   * Leave the job: a barrier (so rank 0's store outlives every rank's last use), then free the group.
   * Idempotent; a group whose collectives failed is freed without the barrier.
   */
  async destroy(): Promise<void> {
    const g = this.#g;
    if (g === null) return;
    try {
      if (!this.#failed) await this.barrier();
    } finally {
      this.#g = null;
      native.distDestroy(g);
    }
  }
}

/**
 * Join a job: rendezvous through rank 0's TCPStore and connect every rank (resolves when all
 * `worldSize` ranks have joined, or rejects after `timeoutMs`). Options default to torchrun's variables,
 * so a script started by `earmark launch`, torchrun or a cluster's launcher needs no arguments.
 * @example const pg = await initProcessGroup({ timeoutMs: 60_000 });
 */
export async function initProcessGroup(o: ProcessGroupOptions = {}): Promise<ProcessGroup> {
  const env = o.env ?? process.env;
  const needEnv = o.rank === undefined || o.worldSize === undefined || o.masterPort === undefined;
  const te = needEnv ? readTorchrunEnv(env) : null;
  const rank = o.rank ?? te!.rank;
  const worldSize = o.worldSize ?? te!.worldSize;
  const host = o.masterAddr ?? te?.masterAddr ?? '127.0.0.1';
  const port = o.masterPort ?? te!.masterPort;
  const timeoutMs = o.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const initTimeoutMs = o.initTimeoutMs ?? timeoutMs;
  const backend = o.backend ?? 'gloo';
  for (const [k, v, lo, hi] of [
    ['rank', rank, 0, worldSize - 1],
    ['worldSize', worldSize, 1, 65535],
    ['masterPort', port, 1, 65535],
    ['timeoutMs', timeoutMs, 1, 2 ** 31 - 1],
    ['initTimeoutMs', initTimeoutMs, 1, 2 ** 31 - 1],
  ] as const) {
    if (!Number.isInteger(v) || v < lo || v > hi)
      throw new RangeError(`initProcessGroup: '${k}' must be an integer in ${lo}..${hi}, got ${v}`);
  }
  const available = distributedAvailable();
  if (backend !== 'gloo' && backend !== 'nccl')
    throw new TypeError(`initProcessGroup: 'backend' must be 'gloo' or 'nccl', got '${String(backend)}'`);
  if (!available[backend]) {
    throw new EarmarkError(
      'EARMARK_DISTRIBUTED',
      `the '${backend}' backend is not compiled into this addon` +
        (backend === 'gloo'
          ? ': install libgloo-dev (scripts/apt-packages.txt) and rebuild with `npm run build:native`'
          : ": build against a CUDA libtorch with NCCL and define EARMARK_NCCL; use backend 'gloo' for CPU tensors"),
    );
  }
  // Gloo's interface: GLOO_SOCKET_IFNAME as torch; loopback for a one-machine job; else the host's address
  const iface = env['GLOO_SOCKET_IFNAME'] ?? '';
  const hostname = iface === '' && isLoopback(host) ? '127.0.0.1' : '';
  let g: GroupHandle;
  try {
    g = await native.distInit({
      backend,
      host,
      port,
      rank,
      size: worldSize,
      timeoutMs,
      initTimeoutMs,
      iface,
      hostname,
      threads: o.threads ?? 2,
    });
  } catch (e) {
    throw new EarmarkError(
      'EARMARK_DISTRIBUTED',
      `rank ${rank} of ${worldSize} could not join the job: ${sentence(e)}. ` +
        `Check that every rank runs with the same MASTER_ADDR:MASTER_PORT (${host}:${port}), that rank 0 is up and ` +
        'the port is free there, and that all WORLD_SIZE ranks start within the timeout.',
      { cause: e },
    );
  }
  const localRank = te?.localRank ?? rank;
  return new ProcessGroup(g, { backend, rank, worldSize, localRank, timeoutMs });
}
