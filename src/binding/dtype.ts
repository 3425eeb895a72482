// The one table between dtype names and libtorch's ScalarType codes (pinned by static_asserts in
// native/src/tensor.cc), and the typed arrays that carry each dtype across the boundary.

// bfloat16/float16 appear as autocast outputs; they have no JS typed array (read them with toFloat32Array())
export type DType = 'float32' | 'float64' | 'int64' | 'int32' | 'uint8' | 'bool' | 'complex64' | 'bfloat16' | 'float16';

export const DTYPE_CODES: Readonly<Record<DType, number>> = {
  uint8: 0,
  int32: 3,
  int64: 4,
  float32: 6,
  float64: 7,
  complex64: 9,
  bool: 11,
  float16: 5,
  bfloat16: 15,
};

const BY_CODE = new Map<number, DType>(Object.entries(DTYPE_CODES).map(([k, v]) => [v, k as DType]));

export type TypedArray = Float32Array | Float64Array | BigInt64Array | Int32Array | Uint8Array;

/** The typed array class holding one dtype's elements (complex64 as interleaved float32 pairs). */
export function arrayTypeOf(dtype: DType): { new (buf: ArrayBuffer): TypedArray } {
  switch (dtype) {
    case 'float32':
      return Float32Array;
    case 'float64':
      return Float64Array;
    case 'int64':
      return BigInt64Array;
    case 'int32':
      return Int32Array;
    case 'uint8':
    case 'bool':
      return Uint8Array;
    case 'complex64':
      return Float32Array;
    case 'bfloat16':
    case 'float16':
      throw new TypeError(`${dtype} elements have no JS typed array; read them with toFloat32Array()`);
  }
}

export function dtypeCode(dtype: DType, name = 'dtype'): number {
  const code = DTYPE_CODES[dtype];
  if (code === undefined)
    throw new TypeError(
      `'${name}': unsupported data type ${String(dtype)}; use one of ${Object.keys(DTYPE_CODES).join(', ')}`,
    );
  return code;
}

export function dtypeFromCode(code: number): DType {
  const d = BY_CODE.get(code);
  if (d === undefined) throw new TypeError(`Unsupported data type code from libtorch: ${code}`);
  return d;
}

export function isFloating(dtype: DType): boolean {
  return dtype === 'float32' || dtype === 'float64' || dtype === 'bfloat16' || dtype === 'float16';
}

/** The dtype a typed array holds by default (Uint8Array → uint8). */
export function dtypeOfArray(a: TypedArray): DType {
  if (a instanceof Float32Array) return 'float32';
  if (a instanceof Float64Array) return 'float64';
  if (a instanceof BigInt64Array) return 'int64';
  if (a instanceof Int32Array) return 'int32';
  return 'uint8';
}
