// Tensors to and from safetensors files, byte-compatible with Python's `safetensors` package
// (`safetensors.torch.save_file` / `load_file`). Writes are atomic (temp file, fsync, rename).
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { endianness } from 'node:os';
import type { DType } from '../binding/dtype.js';
import { Tensor, tensor } from '../tensor/index.js';
import { writeFileAtomic, writeFileAtomicSync } from '../util/atomic.js';
import { decodeRaw, encodeRaw, type RawTensor, type SafetensorsDtype } from './safetensors-format.js';

export { SAFETENSORS_DTYPES, type SafetensorsDtype } from './safetensors-format.js';

export type TensorDict = ReadonlyMap<string, Tensor> | Readonly<Record<string, Tensor>>;

export interface LoadedSafetensors {
  /** Tensors in file order; new tensors owned by the caller (dispose them, or load inside tidy). */
  tensors: Map<string, Tensor>;
  /** The file's `__metadata__` (string → string), or null when it has none. */
  metadata: Record<string, string> | null;
}

const TO_SAFETENSORS: Partial<Record<DType, SafetensorsDtype>> = {
  float32: 'F32',
  float64: 'F64',
  int64: 'I64',
  int32: 'I32',
  uint8: 'U8',
  bool: 'BOOL',
};
const TO_DTYPE: Record<SafetensorsDtype, DType> = {
  F32: 'float32',
  F64: 'float64',
  I64: 'int64',
  I32: 'int32',
  U8: 'uint8',
  BOOL: 'bool',
};
const ARRAYS = {
  F32: Float32Array,
  F64: Float64Array,
  I64: BigInt64Array,
  I32: Int32Array,
  U8: Uint8Array,
  BOOL: Uint8Array,
} as const;

function checkHost(): void {
  // safetensors is little-endian and we copy bytes as they are
  if (endianness() !== 'LE') throw new Error('safetensors I/O needs a little-endian host');
}

function entriesOf(tensors: TensorDict): [string, Tensor][] {
  if (tensors instanceof Map) return [...tensors];
  if (tensors !== null && typeof tensors === 'object') return Object.entries(tensors as Record<string, Tensor>);
  throw new TypeError(`'tensors' must be a Map or a plain object of name → Tensor, got ${typeof tensors}`);
}

function checkMetadata(metadata: unknown): asserts metadata is Record<string, string> | undefined {
  if (metadata === undefined) return;
  if (metadata === null || typeof metadata !== 'object' || Array.isArray(metadata)) {
    throw new TypeError(
      `'metadata' must be a plain object of string → string, got ${metadata === null ? 'null' : typeof metadata}`,
    );
  }
  for (const [k, v] of Object.entries(metadata)) {
    if (typeof v !== 'string')
      throw new TypeError(`'metadata.${k}' must be a string (JSON.stringify it), got ${typeof v}`);
  }
}

/**
 * Serialise tensors to safetensors bytes (what Python's `safetensors.torch.save` returns for the same
 * tensors and a metadata dict of at most one key; see safetensors-format.ts).
 * @example const bytes = encodeSafetensors(model.stateDict(), { format: 'pt' });
 */
export function encodeSafetensors(tensors: TensorDict, metadata?: Record<string, string>): Uint8Array {
  checkHost();
  checkMetadata(metadata);
  const raw = new Map<string, RawTensor>();
  for (const [name, t] of entriesOf(tensors)) {
    if (!(t instanceof Tensor)) throw new TypeError(`'tensors.${name}' must be a Tensor, got ${typeof t}`);
    if (name === '__metadata__')
      throw new RangeError("'tensors' may not hold a tensor named '__metadata__' (the header's metadata key)");
    const dtype = TO_SAFETENSORS[t.dtype];
    if (dtype === undefined) {
      throw new TypeError(
        `'tensors.${name}' has dtype ${t.dtype}; safetensors files here hold ${Object.keys(TO_SAFETENSORS).join(', ')}`,
      );
    }
    const d = t.data(); // contiguous CPU copy
    raw.set(name, { dtype, shape: t.shape, data: new Uint8Array(d.buffer, d.byteOffset, d.byteLength) });
  }
  return encodeRaw(raw, metadata);
}

/**
 * Parse safetensors bytes into new tensors. Throws EarmarkError('EARMARK_SAFETENSORS') naming
 * `source` for anything malformed.
 * The tensors join the current tidy() scope like any new tensor; a Map is not a tidy() result, so
 * keep() what must outlive the scope.
 * @example const w = tidy(() => keep(decodeSafetensors(bytes).tensors.get('w')!));
 */
export function decodeSafetensors(bytes: Uint8Array, source = '<buffer>'): LoadedSafetensors {
  checkHost();
  if (!(bytes instanceof Uint8Array))
    throw new TypeError(`'bytes' must be a Uint8Array or Buffer, got ${typeof bytes}`);
  const raw = decodeRaw(bytes, source);
  const tensors = new Map<string, Tensor>();
  try {
    for (const [name, r] of raw.tensors) {
      const aligned = new Uint8Array(r.data); // a copy with its own buffer (Buffer.slice would not copy): typed arrays need alignment
      const arr = new ARRAYS[r.dtype](aligned.buffer);
      tensors.set(name, tensor(arr, r.shape, { dtype: TO_DTYPE[r.dtype] }));
    }
  } catch (e) {
    for (const t of tensors.values()) t.dispose();
    throw e;
  }
  return { tensors, metadata: raw.metadata };
}

/**
 * Write tensors to a safetensors file atomically (a reader never sees a partial file).
 * @example await saveSafetensors('ckpt/model.safetensors', model.stateDict(), { step: '1000' });
 */
export async function saveSafetensors(
  path: string,
  tensors: TensorDict,
  metadata?: Record<string, string>,
): Promise<void> {
  await writeFileAtomic(path, encodeSafetensors(tensors, metadata));
}

/** Synchronous {@link saveSafetensors}. @example saveSafetensorsSync('w.safetensors', { w }); */
export function saveSafetensorsSync(path: string, tensors: TensorDict, metadata?: Record<string, string>): void {
  writeFileAtomicSync(path, encodeSafetensors(tensors, metadata));
}

/**
 * Read a safetensors file (written here or by Python) into new tensors.
 * @example const { tensors, metadata } = await loadSafetensors('ckpt/model.safetensors');
 */
export async function loadSafetensors(path: string): Promise<LoadedSafetensors> {
  if (typeof path !== 'string') throw new TypeError(`'path' must be a string, got ${typeof path}`);
  return decodeSafetensors(await readFile(path), path);
}

/** Synchronous {@link loadSafetensors}. @example const total = tidy(() => loadSafetensorsSync(p).tensors.get('w')!.sum().item()); */
export function loadSafetensorsSync(path: string): LoadedSafetensors {
  if (typeof path !== 'string') throw new TypeError(`'path' must be a string, got ${typeof path}`);
  return decodeSafetensors(readFileSync(path), path);
}
