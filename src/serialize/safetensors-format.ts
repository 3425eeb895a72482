// The safetensors container on raw bytes, no tensors: an 8-byte little-endian u64 header length, a
// compact JSON header padded with spaces to a multiple of 8, then the tensors' bytes back to back.
// Layout rules match huggingface/safetensors (safetensors/src/tensor.rs, `prepare` and `read_metadata`):
// tensors sorted by dtype rank descending then by name (UTF-8 byte order), `__metadata__` first.
import { EarmarkError } from '../errors.js';

/** The safetensors dtype names earmark reads and writes. */
export type SafetensorsDtype = 'F32' | 'F64' | 'I64' | 'I32' | 'U8' | 'BOOL';

/**
 * Bytes per element, and the rank of each dtype in safetensors' `Dtype` enum (declared in increasing
 * alignment order, and `Ord` follows declaration order); only the relative order matters.
 */
export const SAFETENSORS_DTYPES: Readonly<Record<SafetensorsDtype, { bytes: number; rank: number }>> = {
  BOOL: { bytes: 1, rank: 0 },
  U8: { bytes: 1, rank: 4 },
  I32: { bytes: 4, rank: 15 },
  F32: { bytes: 4, rank: 17 },
  F64: { bytes: 8, rank: 19 },
  I64: { bytes: 8, rank: 20 },
};

/** safetensors refuses headers above 100 MB (MAX_HEADER_SIZE); so do we. */
export const MAX_HEADER_BYTES = 100_000_000;

/** One tensor as bytes: C-contiguous, little-endian. */
export interface RawTensor {
  dtype: SafetensorsDtype;
  shape: number[];
  data: Uint8Array;
}

export interface RawSafetensors {
  /** Tensors in file order (by data offset). */
  tensors: Map<string, RawTensor>;
  /** The `__metadata__` map, or null when the file has none. */
  metadata: Record<string, string> | null;
}

const isDtype = (d: unknown): d is SafetensorsDtype => typeof d === 'string' && Object.hasOwn(SAFETENSORS_DTYPES, d);
const numelOf = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** Rust's `String: Ord` compares UTF-8 bytes, which differs from JS's UTF-16 order above U+FFFF. */
function compareUtf8(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/**
 * Serialise raw tensors exactly as Python's `safetensors.serialize` would (same bytes, provided
 * `metadata` has at most one key: Rust keeps metadata in a HashMap whose order is random; we keep
 * insertion order).
 * @example encodeRaw(new Map([['w', { dtype: 'U8', shape: [2], data: new Uint8Array([1, 2]) }]]))
 */
export function encodeRaw(tensors: ReadonlyMap<string, RawTensor>, metadata?: Record<string, string>): Uint8Array {
  const order = [...tensors].sort(
    ([an, a], [bn, b]) => SAFETENSORS_DTYPES[b.dtype].rank - SAFETENSORS_DTYPES[a.dtype].rank || compareUtf8(an, bn),
  );
  const header: Record<string, unknown> = {};
  if (metadata !== undefined) header.__metadata__ = metadata;
  let offset = 0;
  for (const [name, t] of order) {
    const expected = numelOf(t.shape) * SAFETENSORS_DTYPES[t.dtype].bytes;
    if (t.data.byteLength !== expected) {
      throw new RangeError(
        `tensor '${name}': shape [${t.shape.join(', ')}] of ${t.dtype} needs ${expected} bytes, 'data' has ${t.data.byteLength}`,
      );
    }
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + expected] };
    offset += expected;
  }
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const headerLen = Math.ceil(json.length / 8) * 8; // padded with spaces to keep the data 8-aligned
  const out = new Uint8Array(8 + headerLen + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerLen), true);
  out.fill(0x20, 8, 8 + headerLen);
  out.set(json, 8);
  let at = 8 + headerLen;
  for (const [, t] of order) {
    out.set(t.data, at);
    at += t.data.byteLength;
  }
  return out;
}

function fail(source: string, what: string, fix: string): never {
  throw new EarmarkError('EARMARK_SAFETENSORS', `${source}: ${what}. ${fix}`);
}

const REWRITE = 'Re-save it with safetensors (save_file in Python, saveSafetensors here)';

/**
 * Parse and validate a safetensors buffer; the tensors' `data` are views into `bytes`.
 * `source` (a file name) goes into every error message.
 * @example const { tensors, metadata } = decodeRaw(readFileSync('w.safetensors'), 'w.safetensors');
 */
export function decodeRaw(bytes: Uint8Array, source = '<buffer>'): RawSafetensors {
  if (bytes.byteLength < 8) {
    fail(
      source,
      `is ${bytes.byteLength} bytes long, too short for a safetensors file (8-byte header length first)`,
      'The file is truncated or not safetensors; write it again',
    );
  }
  const n = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(MAX_HEADER_BYTES) || n > BigInt(bytes.byteLength - 8)) {
    fail(
      source,
      `declares a ${n}-byte header but the file has ${bytes.byteLength} bytes (limit ${MAX_HEADER_BYTES})`,
      'The file is truncated or not safetensors (is it a torch .pt/.bin pickle?)',
    );
  }
  const headerEnd = 8 + Number(n);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, headerEnd));
  } catch {
    fail(source, 'header is not UTF-8 text', REWRITE);
  }
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (e) {
    fail(source, `header is not valid JSON (${(e as Error).message})`, REWRITE);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) {
    fail(source, 'header is not a JSON object', REWRITE);
  }
  const dup = firstDuplicateKey(text);
  if (dup !== null) fail(source, `header names '${dup}' twice`, 'Each tensor name must be unique; ' + REWRITE);

  const entries = Object.entries(header as Record<string, unknown>);
  let metadata: Record<string, string> | null = null;
  const infos: { name: string; dtype: SafetensorsDtype; shape: number[]; begin: number; end: number }[] = [];
  for (const [name, v] of entries) {
    if (name === '__metadata__') {
      metadata = checkMetadata(v, source);
      continue;
    }
    const info = v as { dtype?: unknown; shape?: unknown; data_offsets?: unknown } | null;
    if (info === null || typeof info !== 'object') fail(source, `entry '${name}' is not an object`, REWRITE);
    if (!isDtype(info.dtype)) {
      fail(
        source,
        `tensor '${name}' has dtype ${JSON.stringify(info.dtype)}, which earmark does not read`,
        `Supported: ${Object.keys(SAFETENSORS_DTYPES).join(', ')}; convert it first (e.g. tensor.float() in Python)`,
      );
    }
    const shape = info.shape;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      fail(source, `tensor '${name}' has shape ${JSON.stringify(shape)}, not a list of integers >= 0`, REWRITE);
    }
    const off = info.data_offsets;
    if (!Array.isArray(off) || off.length !== 2 || !off.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      fail(source, `tensor '${name}' has data_offsets ${JSON.stringify(off)}, not [begin, end]`, REWRITE);
    }
    infos.push({ name, dtype: info.dtype, shape: shape as number[], begin: off[0] as number, end: off[1] as number });
  }

  // the data must be exactly the tensors, back to back, in offset order
  infos.sort((a, b) => a.begin - b.begin || a.end - b.end);
  const dataLen = bytes.byteLength - headerEnd;
  const tensors = new Map<string, RawTensor>();
  let expectBegin = 0;
  for (const t of infos) {
    if (t.end < t.begin || t.end > dataLen) {
      fail(
        source,
        `tensor '${t.name}' has data_offsets [${t.begin}, ${t.end}] outside the ${dataLen} data bytes`,
        'The file is truncated or corrupt; write it again',
      );
    }
    if (t.begin !== expectBegin) {
      fail(
        source,
        `tensor '${t.name}' starts at byte ${t.begin} but the previous tensor ends at ${expectBegin} ` +
          `(${t.begin < expectBegin ? 'overlap' : 'gap'})`,
        'Tensors must be contiguous and non-overlapping; ' + REWRITE,
      );
    }
    const want = numelOf(t.shape) * SAFETENSORS_DTYPES[t.dtype].bytes;
    if (t.end - t.begin !== want) {
      fail(
        source,
        `tensor '${t.name}' is ${t.dtype} [${t.shape.join(', ')}] = ${want} bytes, but its data_offsets span ${t.end - t.begin}`,
        REWRITE,
      );
    }
    tensors.set(t.name, {
      dtype: t.dtype,
      shape: t.shape,
      data: bytes.subarray(headerEnd + t.begin, headerEnd + t.end),
    });
    expectBegin = t.end;
  }
  if (expectBegin !== dataLen) {
    fail(
      source,
      `has ${dataLen - expectBegin} bytes after the last tensor`,
      'The file is corrupt or was appended to; ' + REWRITE,
    );
  }
  return { tensors, metadata };
}

function checkMetadata(v: unknown, source: string): Record<string, string> {
  if (v === null || typeof v !== 'object' || Array.isArray(v))
    fail(source, '__metadata__ is not a JSON object', REWRITE);
  for (const [k, s] of Object.entries(v)) {
    if (typeof s !== 'string')
      fail(
        source,
        `__metadata__['${k}'] is ${JSON.stringify(s)}, not a string`,
        'Metadata values must be strings; ' + REWRITE,
      );
  }
  return { ...(v as Record<string, string>) };
}

/** JSON.parse keeps the last of duplicate keys silently; scan the top-level object's keys instead. */
function firstDuplicateKey(json: string): string | null {
  const seen = new Set<string>();
  let depth = 0;
  for (let i = 0; i < json.length; i++) {
    const c = json[i];
    if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') depth--;
    else if (c === '"') {
      const start = i;
      for (i++; json[i] !== '"'; i++) if (json[i] === '\\') i++;
      if (depth !== 1) continue;
      let j = i + 1;
      while (json[j] === ' ' || json[j] === '\t' || json[j] === '\n' || json[j] === '\r') j++;
      if (json[j] !== ':') continue;
      const key = JSON.parse(json.slice(start, i + 1)) as string;
      if (seen.has(key)) return key;
      seen.add(key);
    }
  }
  return null;
}
