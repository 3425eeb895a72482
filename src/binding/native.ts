// The only file that loads earmark.node. It declares the whole native surface: the addon is a
// handle registry, a boxed call into ATen's dispatcher, and a few autograd/runtime entry points.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { isMainThread } from 'node:worker_threads';
import path from 'node:path';
import { EarmarkError } from '../errors.js';
import { repoRoot } from '../util/paths.js';

/** An opaque native tensor handle (a BigInt naming a slot of the addon's per-thread tensor table). */
export type Handle = { readonly __earmarkHandle: unique symbol };
/** A c10d process group and one started collective (native/src/c10d.cc). */
export type GroupHandle = { readonly __earmarkGroup: unique symbol };
export type WorkHandle = { readonly __earmarkWork: unique symbol };

export interface NativeAddon {
  resolveOp(name: string, overload: string): number;
  schema(id: number): string;
  call(id: number, ...args: unknown[]): unknown;
  fromBuffer(data: ArrayBufferView, shape: readonly number[], dtypeCode: number, device?: string): Handle;
  toBuffer(h: Handle): ArrayBuffer;
  info(h: Handle): [number[], number, string, boolean];
  item(h: Handle): number | boolean;
  dispose(h: Handle): void;
  isLive(h: Handle): boolean;
  /** Free `h` when `owner` is garbage collected (once per handle; see src/tensor/scope.ts). */
  adopt(owner: object, h: Handle): void;
  memory(): { numTensors: number; numBytes: number };
  backward(h: Handle, grad: Handle | null, retainGraph: boolean): void;
  grad(h: Handle): Handle | null;
  setGrad(h: Handle, g: Handle | null): void;
  setRequiresGrad(h: Handle, on: boolean): void;
  setGradEnabled(on: boolean): boolean;
  isGradEnabled(): boolean;
  gradReverse(h: Handle, alpha: number): Handle;
  setNumThreads(n: number): void;
  numThreads(): number;
  manualSeed(seed: number): void;
  cudaAvailable(): boolean;
  version(): string;
  parallelInfo(): string;
  /** The CPU block cache (native/src/cpu_allocator.cc): bytes held, limit; hits, misses, live blocks >= 128 KiB. */
  cpuCache(): { cachedBytes: number; limit: number; hits: number; misses: number; liveBlocks: number };
  /** Return the cached CPU blocks to the system; the bytes freed. */
  emptyCpuCache(): number;
  // devices and autocast (native/src/device.cc)
  cudaDeviceCount(): number;
  cudaSynchronize(index: number): void;
  autocastState(deviceType: 'cpu' | 'cuda'): [boolean, number];
  setAutocast(deviceType: 'cpu' | 'cuda', enabled: boolean, dtypeCode: number): [boolean, number];
  autocastNesting(delta: 1 | -1): number;
  // c10d (native/src/c10d.cc)
  distAvailable(): { gloo: boolean; nccl: boolean };
  distInit(o: {
    backend: string;
    host: string;
    port: number;
    rank: number;
    size: number;
    timeoutMs: number;
    initTimeoutMs: number;
    iface?: string;
    hostname?: string;
    threads?: number;
  }): Promise<GroupHandle>;
  distAllreduce(g: GroupHandle, h: Handle, op: string): WorkHandle;
  distBroadcast(g: GroupHandle, h: Handle, root: number): WorkHandle;
  distBarrier(g: GroupHandle): WorkHandle;
  distWait(works: WorkHandle[], timeoutMs: number): Promise<void>;
  distStoreSet(g: GroupHandle, key: string, value: string): void;
  distStoreGet(g: GroupHandle, key: string): string;
  distStoreAdd(g: GroupHandle, key: string, by: number): number;
  distDestroy(g: GroupHandle): void;
}

// EARMARK_ADDON overrides the location (e.g. a build against another libtorch)
const addonPath = process.env.EARMARK_ADDON ?? path.join(repoRoot(), 'native/build/Release/earmark.node');

function load(): NativeAddon {
  // OpenMP threads that sleep between parallel regions instead of spinning: on a 2-core machine shared
  // with other work (CI runs two test files at once) spinning threads starve each other (measured:
  // conv2d 20 → 91+ GFLOP/s under load). Must be set before libgomp loads with the addon.
  process.env['OMP_WAIT_POLICY'] ??= 'PASSIVE';
  // The same for OpenBLAS's own threads, which otherwise spin in sched_yield for 2^28 cycles after each
  // GEMM (measured: a DS2 training step spent 12% of its CPU time in sched_yield); 2^4 cycles instead.
  process.env['OPENBLAS_THREAD_TIMEOUT'] ??= '4';
  if (!existsSync(addonPath)) {
    throw new EarmarkError(
      'EARMARK_NATIVE_MISSING',
      `earmark's native addon is not built (${addonPath} is missing). Run \`bash scripts/bootstrap.sh\` ` +
        '(or `npm run build:native` once libtorch-dev is installed).',
    );
  }
  try {
    return createRequire(import.meta.url)(addonPath) as NativeAddon;
  } catch (e) {
    throw new EarmarkError(
      'EARMARK_NATIVE_MISSING',
      `earmark's native addon failed to load from ${addonPath}: ${(e as Error).message}. ` +
        'If libtorch was upgraded or LIBTORCH changed, rebuild with `npm run build:native`.',
      { cause: e },
    );
  }
}

export const native: NativeAddon = load();

/**
 * Refuse a CUDA device clearly when the linked libtorch has none (Debian's libtorch-dev is CPU-only).
 * @param device the requested device string, e.g. 'cuda:0'
 */
export function checkDevice(device: string | undefined, name = 'device'): void {
  if (device === undefined || device === 'cpu') return;
  if (typeof device !== 'string')
    throw new TypeError(`'${name}' must be a device string such as 'cpu' or 'cuda:0', got ${typeof device}`);
  if (device.startsWith('cuda') && !native.cudaAvailable()) {
    throw new Error(
      `'${name}' is '${device}' but this libtorch has no CUDA device available; use 'cpu', or rebuild the addon ` +
        'with LIBTORCH pointing at a CUDA build of libtorch (`LIBTORCH=/path/to/libtorch npm run build:native`) on a machine with a GPU',
    );
  }
}

// two threads by default: the reference machine has two cores (override with EARMARK_THREADS).
// libtorch's intra-op pool is process-wide, so worker threads leave it to the main thread.
if (isMainThread) native.setNumThreads(Number(process.env.EARMARK_THREADS ?? 2) || 2);

/**
 * Resolve ATen ops outside the declared table, `{ key: 'aten::name.overload' }`, to untyped dispatcher ids
 * (tests that pass wrong arguments on purpose, benchmarks). Library code declares its ops in ops.ts.
 * @example const OP = resolveOps({ add: 'aten::add.Tensor' }); native.call(OP.add, a, b, 1)
 */
export function resolveOps<K extends string>(table: Record<K, string>): Record<K, number> {
  const ids = (Object.keys(table) as K[]).map((key): [K, number] => {
    const full = table[key];
    const dot = full.indexOf('.');
    return [key, dot < 0 ? native.resolveOp(full, '') : native.resolveOp(full.slice(0, dot), full.slice(dot + 1))];
  });
  // fromEntries keeps V8's fast properties: a table of 100+ keys assigned one by one ends in dictionary mode,
  // where every OP.x read on the hot path is an out-of-line lookup (~2% of a 1-element add)
  return Object.fromEntries(ids) as Record<K, number>;
}
