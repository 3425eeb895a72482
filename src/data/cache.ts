// Feature cache: features computed once per (corpus fingerprint, feature config), in parallel worker
// threads, stored in one binary file that later runs read without decoding any audio.
//
// File layout (little-endian):
//   0   8 bytes  magic 'EMKFEAT1'
//   8   u32      format version (1)
//   12  u32      reserved (0)
//   16  u64      byte offset of the JSON index
//   24  u64      byte length of the JSON index
//   32  …        float32 data of every item, back to back (each item starts 4-byte aligned)
//   …            JSON index: { corpus, feature, items: { id: { offset, shape, stats } }, skipped }
// The file is written under a temporary name and renamed when complete, so a cache file that exists
// is always whole; a failed build leaves nothing behind.
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, existsSync, fstatSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { availableParallelism, endianness } from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { EarmarkError, type EarmarkErrorCode } from '../errors.js';
import { Progress } from '../util/progress.js';
import { checkFeatureItem, importCompute, type FeatureItem } from './compute.js';
import { compareStrings, type Corpus, type Utterance } from './types.js';

export type { FeatureItem, ComputeFn } from './compute.js';

const MAGIC = 'EMKFEAT1';
const HEADER_BYTES = 32;
const FORMAT_VERSION = 1;

/** Which features to compute. Everything except `module` is part of the cache key. */
export interface FeatureSpec {
  /** Short name used in the cache file name, e.g. 'ds2'. */
  name: string;
  /** Absolute path (or file: URL) of the compiled module exporting the compute function. */
  module: string;
  /** Export name of the compute function; default 'compute'. */
  exportName?: string;
  /** JSON options passed to compute (sample rate, n_fft, …); part of the key. */
  options?: Record<string, unknown>;
  /** Bump to invalidate caches when the function's code changes. */
  version?: string | number;
}

export interface CacheIndexItem { offset: number; shape: number[]; stats?: Record<string, number> }
export interface SkippedItem { id: string; path: string; error: string }

export interface CacheIndex {
  format: 'earmark-features';
  version: 1;
  corpus: { name: string; fingerprint: string; utterances: number };
  feature: { key: string; name: string; exportName: string; options: Record<string, unknown>; version: string | number | null; module: string };
  created: string;
  items: Record<string, CacheIndexItem>;
  skipped: SkippedItem[];
}

/** JSON with object keys sorted, so equal configs hash equally. */
function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonicalJson((v as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

/**
 * Hash of the feature config (name, export, options, version; not the module's location, so dist/
 * and other build folders share caches).
 *
 * @example
 * featureKey({ name: 'ds2', module: m, options: { peak: 1 } }) !== featureKey({ name: 'ds2', module: m }) // true
 */
export function featureKey(spec: FeatureSpec): string {
  const cfg = { name: spec.name, exportName: spec.exportName ?? 'compute', options: spec.options ?? {}, version: spec.version ?? null };
  return createHash('sha256').update(canonicalJson(cfg)).digest('hex').slice(0, 16);
}

/**
 * Fingerprint of the corpus's audio: utterance ids with each file's size and modification time.
 * Changing, adding or removing a file changes it; labels do not (features do not depend on them).
 */
export function corpusFingerprint(corpus: Corpus): string {
  const h = createHash('sha256');
  const utts = [...corpus.utterances].sort((a, b) => compareStrings(a.id, b.id));
  for (const u of utts) {
    let stamp = 'missing';
    try {
      const st = statSync(u.path);
      stamp = `${st.size}:${Math.floor(st.mtimeMs)}`;
    } catch { /* a missing file is reported by compute */ }
    h.update(`${u.id}\u0000${stamp}\n`);
  }
  return h.digest('hex').slice(0, 16);
}

/**
 * Where the cache for (corpus, spec) lives in `dir`: `<corpus>.<feature>.<fingerprint>.<key>.feat`.
 *
 * @example
 * cachePath('cache', corpus, spec) // '/abs/cache/ravdess.ds2.78237f738a2814ce.d7c3451bcfce7163.feat'
 */
export function cachePath(dir: string, corpus: Corpus, spec: FeatureSpec, fingerprint = corpusFingerprint(corpus)): string {
  const safe = (s: string) => s.replace(/[^A-Za-z0-9_-]+/g, '_'); // no dots: pruneStale splits on them
  return path.join(path.resolve(dir), `${safe(corpus.name)}.${safe(spec.name)}.${fingerprint}.${featureKey(spec)}.feat`);
}

/**
 * A finished cache file, opened for reading. Small files are read whole; big ones are read item by
 * item with positioned reads, so opening costs only the index.
 *
 * @example
 * const cache = FeatureCache.open('cache/ravdess.ds2.3f…feat');
 * const { data, shape, stats } = cache.get('03-01-05-01-02-01-01'); // shape [161, T]
 * cache.close();
 */
export class FeatureCache {
  readonly file: string;
  readonly index: CacheIndex;
  #fd: number | undefined;
  #whole: Buffer | undefined;

  private constructor(file: string, index: CacheIndex, fd: number | undefined, whole: Buffer | undefined) {
    this.file = file;
    this.index = index;
    this.#fd = fd;
    this.#whole = whole;
  }

  /** Opens and checks a cache file; `preloadBytes` (default 256 MiB): read whole when not larger. */
  static open(file: string, opts: { preloadBytes?: number } = {}): FeatureCache {
    const fd = openSync(file, 'r');
    try {
      const size = fstatSync(fd).size;
      const head = Buffer.alloc(HEADER_BYTES);
      if (size < HEADER_BYTES || readSync(fd, head, 0, HEADER_BYTES, 0) !== HEADER_BYTES || head.toString('latin1', 0, 8) !== MAGIC) {
        throw new EarmarkError('EARMARK_IO', `${file} is not an earmark feature cache (no '${MAGIC}' header); delete it and rebuild`);
      }
      const version = head.readUInt32LE(8);
      if (version !== FORMAT_VERSION) throw new EarmarkError('EARMARK_IO', `${file} has cache format ${version}; this earmark reads ${FORMAT_VERSION}: delete it and rebuild`);
      const at = Number(head.readBigUInt64LE(16));
      const len = Number(head.readBigUInt64LE(24));
      if (at < HEADER_BYTES || at + len !== size) throw new EarmarkError('EARMARK_IO', `${file} is truncated or corrupt (index at ${at}+${len}, file ${size} bytes); delete it and rebuild`);
      const json = Buffer.alloc(len);
      readSync(fd, json, 0, len, at);
      const index = JSON.parse(json.toString('utf8')) as CacheIndex;
      if (size <= (opts.preloadBytes ?? 256 * 2 ** 20)) {
        const whole = readFileSync(file);
        closeSync(fd);
        return new FeatureCache(file, index, undefined, whole);
      }
      return new FeatureCache(file, index, fd, undefined);
    } catch (e) {
      closeSync(fd);
      if (e instanceof EarmarkError) throw e;
      throw new EarmarkError('EARMARK_IO', `cannot read feature cache ${file}: ${(e as Error).message}; delete it and rebuild`, { cause: e });
    }
  }

  /** Ids with features, sorted. */
  get ids(): string[] {
    return Object.keys(this.index.items).sort(compareStrings);
  }

  /** Files that were skipped as bad when the cache was built. */
  get skipped(): SkippedItem[] {
    return this.index.skipped;
  }

  has(id: string): boolean {
    return Object.hasOwn(this.index.items, id);
  }

  /** Shape and stats of `id` without reading its data. */
  meta(id: string): CacheIndexItem {
    const it = this.index.items[id];
    if (it === undefined || !Object.hasOwn(this.index.items, id)) {
      const why = this.index.skipped.find((s) => s.id === id);
      throw new RangeError(`feature cache ${this.file} has no item '${id}'${why ? ` (skipped when built: ${why.error})` : ''}`);
    }
    return it;
  }

  /** The features of `id` (a fresh Float32Array, or a view on the preloaded file). */
  get(id: string): FeatureItem {
    const it = this.meta(id);
    const n = it.shape.reduce((a, b) => a * b, 1);
    let data: Float32Array;
    if (this.#whole !== undefined) {
      const off = this.#whole.byteOffset + it.offset;
      data = off % 4 === 0 ? new Float32Array(this.#whole.buffer, off, n) : new Float32Array(this.#whole.buffer.slice(off, off + 4 * n));
    } else {
      if (this.#fd === undefined) throw new Error(`feature cache ${this.file} is closed`);
      data = new Float32Array(n);
      readSync(this.#fd, new Uint8Array(data.buffer), 0, 4 * n, it.offset);
    }
    return it.stats === undefined ? { data, shape: [...it.shape] } : { data, shape: [...it.shape], stats: { ...it.stats } };
  }

  close(): void {
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
    this.#whole = undefined;
  }
}

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
async function computeInWorkers(utts: Utterance[], spec: FeatureSpec, workers: number, sink: (d: Done) => boolean): Promise<void> {
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
        const w = new Worker(url, { workerData: { module: spec.module, exportName, options: spec.options ?? {} }, env: { ...process.env, EARMARK_THREADS: '1' } });
        pool.push(w);
        w.on('message', (m: { type: string; index: number; data?: Float32Array; shape?: number[]; stats?: Record<string, number>; message?: string; code?: string }) => {
          if (m.type === 'ready') return feed(w);
          if (m.type === 'fatal') { stop = true; return reject(new EarmarkError('EARMARK_CONFIG', m.message!)); }
          running--;
          if (stop) return; // a failure already ended the build: ignore late results
          const d: Done = m.type === 'done'
            ? { index: m.index, item: m.stats === undefined ? { data: m.data!, shape: m.shape! } : { data: m.data!, shape: m.shape!, stats: m.stats } }
            : m.code === undefined ? { index: m.index, error: m.message! } : { index: m.index, error: m.message!, code: m.code };
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
        });
        w.on('error', (e) => {
          stop = true;
          const u = utts[current.get(w) ?? -1];
          reject(u === undefined ? e : new EarmarkError('EARMARK_DATASET', `the feature worker crashed on ${u.path} (utterance ${u.id}): ${e.message}; fix or remove the file, or check the feature function`, { cause: e }));
        });
        w.on('exit', (code) => { if (code !== 0 && !stop) { stop = true; reject(new Error(`feature worker exited with code ${code}`)); } });
      }
    });
  } finally {
    stop = true;
    await Promise.all(pool.map((w) => w.terminate()));
  }
}

/** Runs compute over `utts` in this thread. */
async function computeHere(utts: Utterance[], spec: FeatureSpec, sink: (d: Done) => boolean): Promise<void> {
  const exportName = spec.exportName ?? 'compute';
  const fn = await importCompute(spec.module, exportName);
  for (let index = 0; index < utts.length; index++) {
    let d: Done;
    try {
      d = { index, item: checkFeatureItem(await fn(utts[index]!, spec.options ?? {}), `${exportName} from ${spec.module}`) };
    } catch (e) {
      const err = e as Error & { code?: string };
      d = err.code === undefined ? { index, error: err.message ?? String(e) } : { index, error: err.message, code: err.code };
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
    if (parts.length === 5 && parts[4] === 'feat' && parts[0] === corpus && parts[1] === name && parts[3] === key && parts[2] !== fingerprint) {
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
export async function buildFeatureCache(corpus: Corpus, spec: FeatureSpec, opts: BuildCacheOptions): Promise<CacheBuildResult> {
  if (typeof spec?.name !== 'string' || spec.name === '') throw new TypeError(`spec.name must be a non-empty string, got ${JSON.stringify(spec?.name)}`);
  if (typeof spec.module !== 'string' || spec.module === '') throw new TypeError(`spec.module must be a module path, got ${JSON.stringify(spec.module)}`);
  if (endianness() !== 'LE') throw new EarmarkError('EARMARK_IO', 'the feature cache is little-endian; this machine is big-endian');
  const fingerprint = corpusFingerprint(corpus);
  const file = cachePath(opts.dir, corpus, spec, fingerprint);
  const key = featureKey(spec);

  if (existsSync(file)) {
    let cache: FeatureCache | undefined;
    try {
      cache = FeatureCache.open(file);
    } catch { /* unreadable: rebuild below */ }
    if (cache !== undefined && cache.index.corpus.fingerprint === fingerprint && cache.index.feature.key === key) {
      if (cache.skipped.length > 0 && opts.skipBad !== true) {
        const s = cache.skipped[0]!;
        cache.close();
        throw new EarmarkError('EARMARK_DATASET', `${cache.skipped.length} file(s) were skipped as bad when ${file} was built, e.g. ${s.path}: ${s.error}; fix or remove them, or pass --skip-bad to use the cache without them`);
      }
      return { cache, file, built: false, computed: 0, skipped: cache.skipped };
    }
    cache?.close();
  }

  mkdirSync(path.dirname(file), { recursive: true });
  const utts = [...corpus.utterances].sort((a, b) => compareStrings(a.id, b.id));
  const exportName = spec.exportName ?? 'compute';
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const fd = openSync(tmp, 'wx');
  const items: Record<string, CacheIndexItem> = {};
  const skipped: SkippedItem[] = [];
  let pos = HEADER_BYTES;
  let computed = 0;
  let failure: EarmarkError | undefined;
  const stream = opts.progress === false ? undefined : opts.progress === true || opts.progress === undefined ? process.stderr : opts.progress;
  const bar = stream === undefined || utts.length === 0 ? undefined : new Progress({ total: utts.length, label: `features ${corpus.name}/${spec.name}`, stream });

  const sink = (d: Done): boolean => {
    const u = utts[d.index]!;
    bar?.tick();
    if ('error' in d) {
      if (opts.skipBad === true) {
        skipped.push({ id: u.id, path: u.path, error: d.error });
        return true;
      }
      const code = (d.code?.startsWith('EARMARK_') ? d.code : 'EARMARK_DATASET') as EarmarkErrorCode;
      failure = new EarmarkError(code, `cannot compute features for ${u.path} (utterance ${u.id}): ${d.error}; fix or remove the file, or pass --skip-bad to skip bad files and list them`);
      return false;
    }
    const bytes = new Uint8Array(d.item.data.buffer, d.item.data.byteOffset, d.item.data.byteLength);
    for (let off = 0; off < bytes.length;) off += writeSync(fd, bytes, off, bytes.length - off, pos + off);
    items[u.id] = d.item.stats === undefined ? { offset: pos, shape: d.item.shape } : { offset: pos, shape: d.item.shape, stats: d.item.stats };
    pos += bytes.length;
    computed++;
    return true;
  };

  try {
    // each worker pays a start-up (module import, libtorch load: ~0.2–0.3 s), so tiny corpora run here
    const auto = utts.length < 64 ? 0 : availableParallelism();
    const workers = Math.max(0, Math.min(opts.workers ?? auto, utts.length));
    if (workers === 0) await computeHere(utts, spec, sink);
    else await computeInWorkers(utts, spec, workers, sink);
    if (failure !== undefined) throw failure;
    bar?.done();

    skipped.sort((a, b) => compareStrings(a.id, b.id));
    const index: CacheIndex = {
      format: 'earmark-features',
      version: 1,
      corpus: { name: corpus.name, fingerprint, utterances: utts.length },
      feature: { key, name: spec.name, exportName, options: spec.options ?? {}, version: spec.version ?? null, module: spec.module },
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
    try { closeSync(fd); } catch { /* already closed */ }
    rmSync(tmp, { force: true });
    throw e;
  }
  return { cache: FeatureCache.open(file), file, built: true, computed, skipped };
}
