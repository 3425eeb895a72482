// The protobuf wire format, just enough for ONNX: varints, length-delimited fields, 32-bit floats.
// A writer that builds messages bottom up (a nested message is encoded first, then written as bytes)
// and a reader that walks one message's fields. No schema: onnx.ts knows the field numbers.
// Reference: https://protobuf.dev/programming-guides/encoding/

/** Wire types used by ONNX: 0 varint, 1 fixed64, 2 length-delimited, 5 fixed32. */
export type WireType = 0 | 1 | 2 | 5;

const textEncoder = new TextEncoder();

/** Appends fields to a growing buffer. */
export class ProtoWriter {
  #buf = new Uint8Array(256);
  #len = 0;

  #reserve(n: number): void {
    if (this.#len + n <= this.#buf.length) return;
    let cap = this.#buf.length * 2;
    while (cap < this.#len + n) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.#buf.subarray(0, this.#len));
    this.#buf = next;
  }

  #varint(v: bigint | number): void {
    // int64 fields: negative values are written as their 64-bit two's complement (10 bytes)
    let x = BigInt.asUintN(64, BigInt(v));
    this.#reserve(10);
    while (x >= 0x80n) {
      this.#buf[this.#len++] = Number(x & 0x7fn) | 0x80;
      x >>= 7n;
    }
    this.#buf[this.#len++] = Number(x);
  }

  #tag(field: number, wire: WireType): void {
    this.#varint((field << 3) | wire);
  }

  /** An int32/int64/enum/bool field. */
  int(field: number, v: number | bigint): this {
    this.#tag(field, 0);
    this.#varint(v);
    return this;
  }

  /** A float field (fixed32). */
  float(field: number, v: number): this {
    this.#tag(field, 5);
    this.#reserve(4);
    new DataView(this.#buf.buffer, this.#buf.byteOffset).setFloat32(this.#len, v, true);
    this.#len += 4;
    return this;
  }

  /** A bytes field (or an encoded nested message). */
  bytes(field: number, b: Uint8Array): this {
    this.#tag(field, 2);
    this.#varint(b.length);
    this.#reserve(b.length);
    this.#buf.set(b, this.#len);
    this.#len += b.length;
    return this;
  }

  string(field: number, s: string): this {
    return this.bytes(field, textEncoder.encode(s));
  }

  /** A repeated int64 field, packed. */
  packedInts(field: number, vs: readonly (number | bigint)[]): this {
    const inner = new ProtoWriter();
    for (const v of vs) inner.#varint(v);
    return this.bytes(field, inner.finish());
  }

  /** A repeated float field, packed. */
  packedFloats(field: number, vs: readonly number[]): this {
    const b = new Uint8Array(vs.length * 4);
    const dv = new DataView(b.buffer);
    vs.forEach((v, i) => dv.setFloat32(i * 4, v, true));
    return this.bytes(field, b);
  }

  finish(): Uint8Array {
    return this.#buf.slice(0, this.#len);
  }
}

/** One decoded field: varints as bigint, fixed32 as its raw 4 bytes' float, length-delimited as a view. */
export interface ProtoField {
  field: number;
  wire: WireType;
  varint?: bigint;
  fixed32?: number;
  bytes?: Uint8Array;
}

/**
 * The fields of one message, in order. Throws a RangeError naming the offset when the bytes are not
 * protobuf (a truncated file, a wrong file type).
 * @example for (const f of readFields(bytes)) if (f.field === 7) graph = f.bytes;
 */
export function readFields(b: Uint8Array): ProtoField[] {
  const out: ProtoField[] = [];
  let at = 0;
  const varint = (): bigint => {
    let x = 0n;
    let shift = 0n;
    for (;;) {
      if (at >= b.length) throw new RangeError(`protobuf: varint runs past the end at byte ${at}`);
      const byte = b[at++]!;
      x |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return x;
      shift += 7n;
      if (shift > 70n) throw new RangeError(`protobuf: varint longer than 10 bytes at byte ${at}`);
    }
  };
  while (at < b.length) {
    const key = Number(varint());
    const field = key >>> 3;
    const wire = (key & 7) as WireType;
    if (field === 0) throw new RangeError(`protobuf: field number 0 at byte ${at}`);
    if (wire === 0) out.push({ field, wire, varint: varint() });
    else if (wire === 2) {
      const n = Number(varint());
      if (at + n > b.length)
        throw new RangeError(
          `protobuf: field ${field} claims ${n} bytes at byte ${at} but only ${b.length - at} remain`,
        );
      out.push({ field, wire, bytes: b.subarray(at, at + n) });
      at += n;
    } else if (wire === 5) {
      if (at + 4 > b.length) throw new RangeError(`protobuf: fixed32 runs past the end at byte ${at}`);
      out.push({ field, wire, fixed32: new DataView(b.buffer, b.byteOffset + at, 4).getFloat32(0, true) });
      at += 4;
    } else if (wire === 1) {
      if (at + 8 > b.length) throw new RangeError(`protobuf: fixed64 runs past the end at byte ${at}`);
      at += 8;
      out.push({ field, wire });
    } else throw new RangeError(`protobuf: unsupported wire type ${String(wire)} for field ${field} at byte ${at}`);
  }
  return out;
}

/** Decode a packed repeated varint field (or a single unpacked value). */
export function readPackedInts(f: ProtoField): bigint[] {
  if (f.wire === 0) return [f.varint!];
  const out: bigint[] = [];
  for (const g of readFields(wrapPacked(f.bytes!))) out.push(g.varint!);
  return out;
}

// A packed varint run has no tags; give each value a tag 1 (varint) so readFields can walk it.
function wrapPacked(b: Uint8Array): Uint8Array {
  const out: number[] = [];
  let start = true;
  for (const byte of b) {
    if (start) out.push(0x08);
    out.push(byte);
    start = (byte & 0x80) === 0;
  }
  return Uint8Array.from(out);
}

export const decodeUtf8 = (b: Uint8Array): string => new TextDecoder().decode(b);
