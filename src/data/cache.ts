// Feature cache: features computed once per (corpus fingerprint, feature config), in parallel worker
// threads, stored in one binary file (cache-file.ts: its layout and reader) that later runs read without
// decoding any audio. The file is written under a temporary name and renamed when complete, so a cache
// file that exists is always whole; a failed build leaves nothing behind.
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { availableParallelism, endianness } from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { EarmarkError, type EarmarkErrorCode } from '../errors.js';
import { Progress } from '../util/progress.js';
import {
  cachePath,
  corpusFingerprint,
  featureKey,
  FeatureCache,
  FORMAT_VERSION,
  HEADER_BYTES,
  MAGIC,
  type CacheIndex,
  type CacheIndexItem,
  type FeatureSpec,
  type SkippedItem,
} from './cache-file.js';
import { checkFeatureItem, importCompute, type FeatureItem } from './compute.js';
import { compareStrings, type Corpus, type Utterance } from './types.js';

export * from './cache-file.js';
export type { FeatureItem, ComputeFn } from './compute.js';

export interface BuildCacheOptions {
  /** Folder for cache files (created). */
  dir: string;
  /** Worker threads; default: all cores (this thread for corpora under 64 files). 0 computes in this thread. */
  workers?: number;
  /** Skip files whose features fail (listed in the index and the report) instead of stopping at the first. */
  skipBad?: boolean;
  /** Progress bar: true (stderr, default), false, or a stream. */
  progress?: boolean | NodeJS.WritableStream;
}

export interface CacheBuildResult {
  cache: FeatureCache;
  file: string;
  /** true when built now, false when an existing cache was re-used. */
  built: boolean;
  /** Number of compute calls that succeeded in this build (0 when re-used). */
  computed: number;
  skipped: SkippedItem[];
}

type Done = { index: number; item: FeatureItem } | { index: number; error: string; code?: string };

/** Runs compute over `utts` in worker threads, handing each result to `sink` as it arrives. */
async function computeInWorkers(
  utts: Utterance[],
  spec: FeatureSpec,
  workers: number,
  sink: (d: Done) => boolean,
): Promise<void> {
  const url = new URL('./cache-worker.js', import.meta.url);
  const exportName = spec.exportName ?? 'compute';
  const pool: Worker[] = [];
  let next = 0;
  let stop = false;
  try {
    await new Promise<void>((resolve, reject) => {
      let running = 0;
      const current = new Map<Worker, number>(); // the job each worker is on, to name it if the worker dies
      const feed = (w: Worker): void => {
        if (stop || next >= utts.length) {
          if (running === 0) resolve();
          return;
        }
        const index = next++;
        running++;
        current.set(w, index);
        w.postMessage({ type: 'job', index, utterance: utts[index] });
      };
      for (let i = 0; i < workers; i++) {
        const w = new Worker(url, {
          workerData: { module: spec.module, exportName, options: spec.options ?? {} },
          env: { ...process.env, EARMARK_THREADS: '1' },
        });
        pool.push(w);
        w.on(
          'message',
          (m: {
            type: string;
            index: number;
            data?: Float32Array;
            shape?: number[];
            stats?: Record<string, number>;
            message?: string;
            code?: string;
          }) => {
            if (m.type === 'ready') return feed(w);
            if (m.type === 'fatal') {
              stop = true;
              return reject(new EarmarkError('EARMARK_CONFIG', m.message!));
            }
            running--;
            if (stop) return; // a failure already ended the build: ignore late results
            const d: Done =
              m.type === 'done'
                ? {
                    index: m.index,
                    item:
                      m.stats === undefined
                        ? { data: m.data!, shape: m.shape! }
                        : { data: m.data!, shape: m.shape!, stats: m.stats },
                  }
                : m.code === undefined
                  ? { index: m.index, error: m.message! }
                  : { index: m.index, error: m.message!, code: m.code };
            try {
              if (!sink(d)) {
                stop = true;
                return resolve(); // the caller throws the failure; workers are terminated below
              }
            } catch (e) {
              stop = true;
              return reject(e);
            }
            feed(w);
          },
        );
        w.on('error', (e) => {
          stop = true;
          const u = utts[current.get(w) ?? -1];
          reject(
            u === undefined
              ? e
              : new EarmarkError(
                  'EARMARK_DATASET',
                  `the feature worker crashed on ${u.path} (utterance ${u.id}): ${e.message}; fix or remove the file, or check the feature function`,
                  { cause: e },
                ),
          );
        });
        w.on('exit', (code) => {
          if (code !== 0 && !stop) {
            stop = true;
            reject(new Error(`feature worker exited with code ${code}`));
          }
        });
      }
    });
  } finally {
    stop = true;
    await Promise.all(pool.map((w) => w.terminate()));
  }
}

/**
 * Runs `f` with libtorch's intra-op pool at one thread, when the addon is loaded (a feature computed with
 * libtorch). The pool is process-wide, shared by the worker threads, so a cache built at EARMARK_THREADS=2
 * would otherwise differ in the last bits from one built at 1 (oneDNN and parallel reductions split their
 * work by thread count; docs/determinism.md) while its key is the same.
 */
async function withOneTorchThread<T>(f: () => Promise<T>): Promise<T> {
  const { getNumThreads, setNumThreads } = await import('../tensor/index.js');
  const before = getNumThreads();
  setNumThreads(1);
  try {
    return await f();
  } finally {
    setNumThreads(before);
  }
}

/** Runs compute over `utts` in this thread. */
async function computeHere(utts: Utterance[], spec: FeatureSpec, sink: (d: Done) => boolean): Promise<void> {
  const exportName = spec.exportName ?? 'compute';
  const fn = await importCompute(spec.module, exportName);
  for (let index = 0; index < utts.length; index++) {
    let d: Done;
    try {
      d = {
        index,
        item: checkFeatureItem(await fn(utts[index]!, spec.options ?? {}), `${exportName} from ${spec.module}`),
      };
    } catch (e) {
      const err = e as Error & { code?: string };
      d =
        err.code === undefined
          ? { index, error: err.message ?? String(e) }
          : { index, error: err.message, code: err.code };
    }
    if (!sink(d)) return;
  }
}

/**
 * Removes caches of the same corpus name and feature config made for an older state of the corpus
 * (same name and key, another fingerprint): they can never be used again. Caches of other feature
 * configs are kept, since a run may switch back to them.
 */
function pruneStale(file: string): void {
  const [corpus, name, fingerprint, key] = path.basename(file).split('.');
  for (const other of readdirSync(path.dirname(file))) {
    const parts = other.split('.');
    if (
      parts.length === 5 &&
      parts[4] === 'feat' &&
      parts[0] === corpus &&
      parts[1] === name &&
      parts[3] === key &&
      parts[2] !== fingerprint
    ) {
      rmSync(path.join(path.dirname(file), other), { force: true });
    }
  }
}

/**
 * Opens the cache for (corpus, spec) in `opts.dir`, building it first when it is missing or was made
 * for another corpus state or feature config. Without `skipBad`, the first file whose features fail
 * stops the build with an error naming it; with it, bad files are skipped and listed.
 *
 * @example
 * const spec = { name: 'ds2', module: '/abs/dist/src/audio/features.js', exportName: 'ds2Features' };
 * const { cache, built, skipped } = await buildFeatureCache(corpus, spec, { dir: 'cache', skipBad: true });
 * for (const s of skipped) console.warn(`skipped ${s.path}: ${s.error}`);
 */
export async function buildFeatureCache(
  corpus: Corpus,
  spec: FeatureSpec,
  opts: BuildCacheOptions,
): Promise<CacheBuildResult> {
  if (typeof spec?.name !== 'string' || spec.name === '')
    throw new TypeError(`spec.name must be a non-empty string, got ${JSON.stringify(spec?.name)}`);
  if (typeof spec.module !== 'string' || spec.module === '')
    throw new TypeError(`spec.module must be a module path, got ${JSON.stringify(spec.module)}`);
  if (endianness() !== 'LE')
    throw new EarmarkError('EARMARK_IO', 'the feature cache is little-endian; this machine is big-endian');
  const fingerprint = corpusFingerprint(corpus);
  const file = cachePath(opts.dir, corpus, spec, fingerprint);
  const key = featureKey(spec);

  if (existsSync(file)) {
    let cache: FeatureCache | undefined;
    try {
      cache = FeatureCache.open(file);
    } catch {
      /* unreadable: rebuild below */
    }
    if (cache !== undefined && cache.index.corpus.fingerprint === fingerprint && cache.index.feature.key === key) {
      if (cache.skipped.length > 0 && opts.skipBad !== true) {
        const s = cache.skipped[0]!;
        cache.close();
        throw new EarmarkError(
          'EARMARK_DATASET',
          `${cache.skipped.length} file(s) were skipped as bad when ${file} was built, e.g. ${s.path}: ${s.error}; fix or remove them, or pass --skip-bad to use the cache without them`,
        );
      }
      return { cache, file, built: false, computed: 0, skipped: cache.skipped };
    }
    cache?.close();
  }

  mkdirSync(path.dirname(file), { recursive: true });
  const utts = [...corpus.utterances].sort((a, b) => compareStrings(a.id, b.id));
  const exportName = spec.exportName ?? 'compute';
  const tmp = path.join(
    path.dirname(file),
    `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`,
  );
  const fd = openSync(tmp, 'wx');
  const items: Record<string, CacheIndexItem> = {};
  const skipped: SkippedItem[] = [];
  let pos = HEADER_BYTES;
  let computed = 0;
  let failure: EarmarkError | undefined;
  const stream =
    opts.progress === false
      ? undefined
      : opts.progress === true || opts.progress === undefined
        ? process.stderr
        : opts.progress;
  const bar =
    stream === undefined || utts.length === 0
      ? undefined
      : new Progress({ total: utts.length, label: `features ${corpus.name}/${spec.name}`, stream });

  const sink = (d: Done): boolean => {
    const u = utts[d.index]!;
    bar?.tick();
    if ('error' in d) {
      // the reason without the path, which the listing and the message name once
      const error = d.error.startsWith(`${u.path}: `) ? d.error.slice(u.path.length + 2) : d.error;
      if (opts.skipBad === true) {
        skipped.push({ id: u.id, path: u.path, error });
        return true;
      }
      const code = (d.code?.startsWith('EARMARK_') ? d.code : 'EARMARK_DATASET') as EarmarkErrorCode;
      // a transform that fails on audio that decodes is not the file's fault: do not ask to remove it
      failure = new EarmarkError(
        code,
        code === 'EARMARK_TRANSFORM'
          ? `feature '${spec.name}' failed on utterance ${u.id} (${u.path} decodes): ${error}`
          : `cannot compute features for ${u.path} (utterance ${u.id}): ${error}; fix or remove the file, or pass --skip-bad to skip bad files and list them`,
      );
      return false;
    }
    const bytes = new Uint8Array(d.item.data.buffer, d.item.data.byteOffset, d.item.data.byteLength);
    for (let off = 0; off < bytes.length;) off += writeSync(fd, bytes, off, bytes.length - off, pos + off);
    items[u.id] =
      d.item.stats === undefined
        ? { offset: pos, shape: d.item.shape }
        : { offset: pos, shape: d.item.shape, stats: d.item.stats };
    pos += bytes.length;
    computed++;
    return true;
  };

  try {
    // each worker pays a start-up (module import, libtorch load: ~0.2–0.3 s), so tiny corpora run here
    const auto = utts.length < 64 ? 0 : availableParallelism();
    const workers = Math.max(0, Math.min(opts.workers ?? auto, utts.length));
    await withOneTorchThread(() =>
      workers === 0 ? computeHere(utts, spec, sink) : computeInWorkers(utts, spec, workers, sink),
    );
    if (failure !== undefined) throw failure;
    bar?.done();

    skipped.sort((a, b) => compareStrings(a.id, b.id));
    const index: CacheIndex = {
      format: 'earmark-features',
      version: 1,
      corpus: { name: corpus.name, fingerprint, utterances: utts.length },
      feature: {
        key,
        name: spec.name,
        exportName,
        options: spec.options ?? {},
        version: spec.version ?? null,
        module: spec.module,
      },
      created: new Date().toISOString(),
      items,
      skipped,
    };
    const json = Buffer.from(JSON.stringify(index), 'utf8');
    for (let off = 0; off < json.length;) off += writeSync(fd, json, off, json.length - off, pos + off);
    const head = Buffer.alloc(HEADER_BYTES);
    head.write(MAGIC, 0, 'latin1');
    head.writeUInt32LE(FORMAT_VERSION, 8);
    head.writeBigUInt64LE(BigInt(pos), 16);
    head.writeBigUInt64LE(BigInt(json.length), 24);
    writeSync(fd, head, 0, HEADER_BYTES, 0);
    fsyncSync(fd);
    closeSync(fd);
    renameSync(tmp, file);
    pruneStale(file);
  } catch (e) {
    try {
      closeSync(fd);
    } catch {
      /* already closed */
    }
    rmSync(tmp, { force: true });
    throw e;
  }
  return { cache: FeatureCache.open(file), file, built: true, computed, skipped };
}
