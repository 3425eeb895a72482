// The feature cache's file: its layout, its key (corpus fingerprint × feature config), its name, and
// FeatureCache, the reader. Building one (worker threads, atomic write) is in cache.ts.
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
import { createHash } from 'node:crypto';
import { closeSync, fstatSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import path from 'node:path';
import { EarmarkError } from '../errors.js';
import type { FeatureItem } from './compute.js';
import { compareStrings, type Corpus } from './types.js';
import { canonicalJson } from '../config/fingerprint.js';

export const MAGIC = 'EMKFEAT1';
export const HEADER_BYTES = 32;
export const FORMAT_VERSION = 1;

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
  /**
   * Option keys left out of the key: where a value only says where an input lies (a model file's path) and
   * another option identifies its content (the model's hash), so that equal work in another folder shares the key.
   */
  keyOmit?: string[];
}

export interface CacheIndexItem {
  offset: number;
  shape: number[];
  stats?: Record<string, number>;
}
export interface SkippedItem {
  id: string;
  path: string;
  error: string;
}

export interface CacheIndex {
  format: 'earmark-features';
  version: 1;
  corpus: { name: string; fingerprint: string; utterances: number };
  feature: {
    key: string;
    name: string;
    exportName: string;
    options: Record<string, unknown>;
    version: string | number | null;
    module: string;
  };
  created: string;
  items: Record<string, CacheIndexItem>;
  skipped: SkippedItem[];
}

/** JSON with object keys sorted, so equal configs hash equally. */
/**
 * Hash of the feature config (name, export, options, version; not the module's location, so dist/
 * and other build folders share caches).
 *
 * @example
 * featureKey({ name: 'ds2', module: m, options: { peak: 1 } }) !== featureKey({ name: 'ds2', module: m }) // true
 */
export function featureKey(spec: FeatureSpec): string {
  const cfg = {
    name: spec.name,
    exportName: spec.exportName ?? 'compute',
    options: Object.fromEntries(Object.entries(spec.options ?? {}).filter(([k]) => !spec.keyOmit?.includes(k))),
    version: spec.version ?? null,
  };
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
    } catch {
      /* a missing file is reported by compute */
    }
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
export function cachePath(
  dir: string,
  corpus: Corpus,
  spec: FeatureSpec,
  fingerprint = corpusFingerprint(corpus),
): string {
  const safe = (s: string) => s.replace(/[^A-Za-z0-9_-]+/g, '_'); // no dots: pruneStale splits on them
  return path.join(
    path.resolve(dir),
    `${safe(corpus.name)}.${safe(spec.name)}.${fingerprint}.${featureKey(spec)}.feat`,
  );
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
      if (
        size < HEADER_BYTES ||
        readSync(fd, head, 0, HEADER_BYTES, 0) !== HEADER_BYTES ||
        head.toString('latin1', 0, 8) !== MAGIC
      ) {
        throw new EarmarkError(
          'EARMARK_IO',
          `${file} is not an earmark feature cache (no '${MAGIC}' header); delete it and rebuild`,
        );
      }
      const version = head.readUInt32LE(8);
      if (version !== FORMAT_VERSION)
        throw new EarmarkError(
          'EARMARK_IO',
          `${file} has cache format ${version}; this earmark reads ${FORMAT_VERSION}: delete it and rebuild`,
        );
      const at = Number(head.readBigUInt64LE(16));
      const len = Number(head.readBigUInt64LE(24));
      if (at < HEADER_BYTES || at + len !== size)
        throw new EarmarkError(
          'EARMARK_IO',
          `${file} is truncated or corrupt (index at ${at}+${len}, file ${size} bytes); delete it and rebuild`,
        );
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
      throw new EarmarkError(
        'EARMARK_IO',
        `cannot read feature cache ${file}: ${(e as Error).message}; delete it and rebuild`,
        { cause: e },
      );
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
      throw new RangeError(
        `feature cache ${this.file} has no item '${id}'${why ? ` (skipped when built: ${why.error})` : ''}`,
      );
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
      data =
        off % 4 === 0
          ? new Float32Array(this.#whole.buffer, off, n)
          : new Float32Array(this.#whole.buffer.slice(off, off + 4 * n));
    } else {
      if (this.#fd === undefined) throw new Error(`feature cache ${this.file} is closed`);
      data = new Float32Array(n);
      readSync(this.#fd, new Uint8Array(data.buffer), 0, 4 * n, it.offset);
    }
    return it.stats === undefined
      ? { data, shape: [...it.shape] }
      : { data, shape: [...it.shape], stats: { ...it.stats } };
  }

  close(): void {
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
    this.#whole = undefined;
  }
}
