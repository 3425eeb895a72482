// ONNX models as plain objects, and their protobuf encoding (onnx/onnx.proto, IR version 8, opset 17).
// Only what earmark writes: float/int64/int8/uint8 tensors in raw_data, tensor-typed value infos with
// fixed or symbolic dimensions, and int/float/string/ints/floats/tensor attributes.
// Field numbers (onnx.proto): ModelProto ir_version 1, producer_name 2, producer_version 3, doc_string 6,
// graph 7, opset_import 8, metadata_props 14; GraphProto node 1, name 2, initializer 5, input 11,
// output 12, value_info 13; NodeProto input 1, output 2, name 3, op_type 4, attribute 5, domain 7;
// AttributeProto name 1, f 2, i 3, s 4, t 5, floats 7, ints 8, type 20; TensorProto dims 1,
// data_type 2, float_data 4, int64_data 7, name 8, raw_data 9; ValueInfoProto name 1, type 2;
// TypeProto tensor_type 1; TypeProto.Tensor elem_type 1, shape 2; TensorShapeProto dim 1;
// Dimension dim_value 1, dim_param 2; OperatorSetIdProto domain 1, version 2; StringStringEntryProto key 1, value 2.
import { ProtoWriter, decodeUtf8, readFields, readPackedInts } from './protobuf.js';

/** TensorProto.DataType values earmark uses. */
export const DataType = { FLOAT: 1, UINT8: 2, INT8: 3, INT32: 6, INT64: 7 } as const;
export type DataTypeCode = (typeof DataType)[keyof typeof DataType];

const BYTES_PER: Record<number, number> = { 1: 4, 2: 1, 3: 1, 6: 4, 7: 8 };

export interface OnnxTensor {
  name: string;
  dataType: DataTypeCode;
  dims: number[];
  /** Little-endian element bytes (raw_data). */
  raw: Uint8Array;
}

export type AttrValue =
  | { type: 'int'; i: number }
  | { type: 'float'; f: number }
  | { type: 'string'; s: string }
  | { type: 'ints'; ints: number[] }
  | { type: 'floats'; floats: number[] }
  | { type: 'tensor'; t: OnnxTensor };

export interface OnnxNode {
  opType: string;
  name: string;
  inputs: string[];
  outputs: string[];
  attributes: Record<string, AttrValue>;
  domain?: string;
}

/** A dimension: a fixed size, or a symbolic name such as 'batch'. */
export type Dim = number | string;

export interface ValueInfo {
  name: string;
  elemType: DataTypeCode;
  /** undefined: rank unknown. */
  shape?: Dim[];
}

export interface OnnxGraph {
  name: string;
  nodes: OnnxNode[];
  initializers: OnnxTensor[];
  inputs: ValueInfo[];
  outputs: ValueInfo[];
  valueInfo: ValueInfo[];
}

export interface OnnxModel {
  irVersion: number;
  opsetImports: { domain: string; version: number }[];
  producerName: string;
  producerVersion: string;
  docString: string;
  graph: OnnxGraph;
  metadata: Record<string, string>;
}

export const IR_VERSION = 8;
export const OPSET = 17;

// ---------------------------------------------------------------------------------------------
// tensors from typed arrays

/** A float initializer. @example floatTensor('conv1.weight', w, [16, 1, 5, 15]) */
export function floatTensor(name: string, data: Float32Array, dims: number[]): OnnxTensor {
  checkNumel(name, data.length, dims);
  return {
    name,
    dataType: DataType.FLOAT,
    dims: [...dims],
    raw: new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength)),
  };
}

export function int64Tensor(name: string, values: readonly number[], dims: number[] = [values.length]): OnnxTensor {
  checkNumel(name, values.length, dims);
  return {
    name,
    dataType: DataType.INT64,
    dims: [...dims],
    raw: new Uint8Array(BigInt64Array.from(values.map(BigInt)).buffer),
  };
}

export function int8Tensor(name: string, data: Int8Array, dims: number[]): OnnxTensor {
  checkNumel(name, data.length, dims);
  return {
    name,
    dataType: DataType.INT8,
    dims: [...dims],
    raw: new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength)),
  };
}

function checkNumel(name: string, n: number, dims: readonly number[]): void {
  const want = dims.reduce((a, b) => a * b, 1);
  if (n !== want) throw new RangeError(`tensor '${name}': ${n} values do not fill dims [${dims.join(', ')}] (${want})`);
}

/** A float tensor's values. */
export function tensorFloats(t: OnnxTensor): Float32Array {
  if (t.dataType !== DataType.FLOAT) throw new TypeError(`tensor '${t.name}' is not float (data_type ${t.dataType})`);
  return new Float32Array(new Uint8Array(t.raw).buffer);
}

// ---------------------------------------------------------------------------------------------
// encoding

function encodeTensor(t: OnnxTensor): Uint8Array {
  const w = new ProtoWriter();
  if (t.dims.length) w.packedInts(1, t.dims);
  w.int(2, t.dataType).string(8, t.name).bytes(9, t.raw);
  return w.finish();
}

const ATTR_TYPE = { float: 1, int: 2, string: 3, tensor: 4, floats: 6, ints: 7 } as const;

function encodeAttribute(name: string, a: AttrValue): Uint8Array {
  const w = new ProtoWriter().string(1, name);
  switch (a.type) {
    case 'float':
      w.float(2, a.f);
      break;
    case 'int':
      w.int(3, a.i);
      break;
    case 'string':
      w.string(4, a.s);
      break;
    case 'tensor':
      w.bytes(5, encodeTensor(a.t));
      break;
    case 'floats':
      w.packedFloats(7, a.floats);
      break;
    case 'ints':
      w.packedInts(8, a.ints);
      break;
  }
  return w.int(20, ATTR_TYPE[a.type]).finish();
}

function encodeNode(n: OnnxNode): Uint8Array {
  const w = new ProtoWriter();
  for (const i of n.inputs) w.string(1, i);
  for (const o of n.outputs) w.string(2, o);
  w.string(3, n.name).string(4, n.opType);
  for (const [k, a] of Object.entries(n.attributes)) w.bytes(5, encodeAttribute(k, a));
  if (n.domain) w.string(7, n.domain);
  return w.finish();
}

function encodeValueInfo(v: ValueInfo): Uint8Array {
  const tensorType = new ProtoWriter().int(1, v.elemType);
  if (v.shape !== undefined) {
    const shape = new ProtoWriter();
    for (const d of v.shape)
      shape.bytes(
        1,
        typeof d === 'number' ? new ProtoWriter().int(1, d).finish() : new ProtoWriter().string(2, d).finish(),
      );
    tensorType.bytes(2, shape.finish());
  }
  const type = new ProtoWriter().bytes(1, tensorType.finish()).finish();
  return new ProtoWriter().string(1, v.name).bytes(2, type).finish();
}

function encodeGraph(g: OnnxGraph): Uint8Array {
  const w = new ProtoWriter();
  for (const n of g.nodes) w.bytes(1, encodeNode(n));
  w.string(2, g.name);
  for (const t of g.initializers) w.bytes(5, encodeTensor(t));
  for (const v of g.inputs) w.bytes(11, encodeValueInfo(v));
  for (const v of g.outputs) w.bytes(12, encodeValueInfo(v));
  for (const v of g.valueInfo) w.bytes(13, encodeValueInfo(v));
  return w.finish();
}

/**
 * Serialise a model to ONNX protobuf bytes.
 * @example writeFileSync('obf.onnx', encodeModel(model));
 */
export function encodeModel(m: OnnxModel): Uint8Array {
  const w = new ProtoWriter().int(1, m.irVersion).string(2, m.producerName).string(3, m.producerVersion);
  if (m.docString) w.string(6, m.docString);
  w.bytes(7, encodeGraph(m.graph));
  for (const o of m.opsetImports) w.bytes(8, new ProtoWriter().string(1, o.domain).int(2, o.version).finish());
  for (const [k, v] of Object.entries(m.metadata)) w.bytes(14, new ProtoWriter().string(1, k).string(2, v).finish());
  return w.finish();
}

// ---------------------------------------------------------------------------------------------
// decoding (for the checker and for reading metadata on the device)

function decodeTensor(b: Uint8Array): OnnxTensor {
  const t: OnnxTensor = { name: '', dataType: 0 as DataTypeCode, dims: [], raw: new Uint8Array(0) };
  const floats: number[] = [];
  const ints: bigint[] = [];
  for (const f of readFields(b)) {
    if (f.field === 1) t.dims.push(...readPackedInts(f).map(Number));
    else if (f.field === 2) t.dataType = Number(f.varint) as DataTypeCode;
    else if (f.field === 8) t.name = decodeUtf8(f.bytes!);
    else if (f.field === 9) t.raw = f.bytes!.slice();
    else if (f.field === 4) {
      if (f.wire === 5) floats.push(f.fixed32!);
      else {
        const dv = new DataView(f.bytes!.buffer, f.bytes!.byteOffset, f.bytes!.length);
        for (let i = 0; i + 4 <= f.bytes!.length; i += 4) floats.push(dv.getFloat32(i, true));
      }
    } else if (f.field === 7) ints.push(...readPackedInts(f));
  }
  if (t.raw.length === 0 && floats.length) t.raw = new Uint8Array(Float32Array.from(floats).buffer);
  if (t.raw.length === 0 && ints.length) t.raw = new Uint8Array(BigInt64Array.from(ints).buffer);
  return t;
}

function decodeAttribute(b: Uint8Array): [string, AttrValue | null] {
  let name = '';
  let type = 0;
  const v: { f?: number; i?: number; s?: string; t?: OnnxTensor; floats: number[]; ints: number[] } = {
    floats: [],
    ints: [],
  };
  for (const f of readFields(b)) {
    if (f.field === 1) name = decodeUtf8(f.bytes!);
    else if (f.field === 20) type = Number(f.varint);
    else if (f.field === 2) v.f = f.fixed32!;
    else if (f.field === 3) v.i = Number(BigInt.asIntN(64, f.varint!));
    else if (f.field === 4) v.s = decodeUtf8(f.bytes!);
    else if (f.field === 5) v.t = decodeTensor(f.bytes!);
    else if (f.field === 7) {
      if (f.wire === 5) v.floats.push(f.fixed32!);
      else {
        const dv = new DataView(f.bytes!.buffer, f.bytes!.byteOffset, f.bytes!.length);
        for (let i = 0; i + 4 <= f.bytes!.length; i += 4) v.floats.push(dv.getFloat32(i, true));
      }
    } else if (f.field === 8) v.ints.push(...readPackedInts(f).map((x) => Number(BigInt.asIntN(64, x))));
  }
  switch (type) {
    case 1:
      return [name, { type: 'float', f: v.f ?? 0 }];
    case 2:
      return [name, { type: 'int', i: v.i ?? 0 }];
    case 3:
      return [name, { type: 'string', s: v.s ?? '' }];
    case 4:
      return [name, v.t ? { type: 'tensor', t: v.t } : null];
    case 6:
      return [name, { type: 'floats', floats: v.floats }];
    case 7:
      return [name, { type: 'ints', ints: v.ints }];
    default:
      return [name, null];
  }
}

function decodeNode(b: Uint8Array): OnnxNode {
  const n: OnnxNode = { opType: '', name: '', inputs: [], outputs: [], attributes: {} };
  for (const f of readFields(b)) {
    if (f.field === 1) n.inputs.push(decodeUtf8(f.bytes!));
    else if (f.field === 2) n.outputs.push(decodeUtf8(f.bytes!));
    else if (f.field === 3) n.name = decodeUtf8(f.bytes!);
    else if (f.field === 4) n.opType = decodeUtf8(f.bytes!);
    else if (f.field === 7) n.domain = decodeUtf8(f.bytes!);
    else if (f.field === 5) {
      const [k, a] = decodeAttribute(f.bytes!);
      if (a === null)
        throw new RangeError(`node '${n.name || n.opType}': attribute '${k}' has a type earmark does not read`);
      n.attributes[k] = a;
    }
  }
  return n;
}

function decodeValueInfo(b: Uint8Array): ValueInfo {
  const v: ValueInfo = { name: '', elemType: 0 as DataTypeCode };
  for (const f of readFields(b)) {
    if (f.field === 1) v.name = decodeUtf8(f.bytes!);
    else if (f.field === 2) {
      for (const tf of readFields(f.bytes!)) {
        if (tf.field !== 1) continue; // only tensor types
        for (const g of readFields(tf.bytes!)) {
          if (g.field === 1) v.elemType = Number(g.varint) as DataTypeCode;
          else if (g.field === 2) {
            v.shape = [];
            for (const d of readFields(g.bytes!)) {
              let dim: Dim = '';
              for (const x of readFields(d.bytes!)) {
                if (x.field === 1) dim = Number(x.varint);
                else if (x.field === 2) dim = decodeUtf8(x.bytes!);
              }
              v.shape.push(dim);
            }
          }
        }
      }
    }
  }
  return v;
}

/**
 * Parse ONNX protobuf bytes into a model (the subset earmark writes; unknown fields are skipped).
 * @example const m = decodeModel(readFileSync('obf.onnx')); console.log(m.metadata);
 */
export function decodeModel(bytes: Uint8Array): OnnxModel {
  bytes = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength); // a Node Buffer's slice() is a view; Uint8Array's copies
  const m: OnnxModel = {
    irVersion: 0,
    opsetImports: [],
    producerName: '',
    producerVersion: '',
    docString: '',
    metadata: {},
    graph: { name: '', nodes: [], initializers: [], inputs: [], outputs: [], valueInfo: [] },
  };
  for (const f of readFields(bytes)) {
    if (f.field === 1) m.irVersion = Number(f.varint);
    else if (f.field === 2) m.producerName = decodeUtf8(f.bytes!);
    else if (f.field === 3) m.producerVersion = decodeUtf8(f.bytes!);
    else if (f.field === 6) m.docString = decodeUtf8(f.bytes!);
    else if (f.field === 8) {
      const o = { domain: '', version: 0 };
      for (const g of readFields(f.bytes!)) {
        if (g.field === 1) o.domain = decodeUtf8(g.bytes!);
        else if (g.field === 2) o.version = Number(g.varint);
      }
      m.opsetImports.push(o);
    } else if (f.field === 14) {
      let k = '';
      let v = '';
      for (const g of readFields(f.bytes!)) {
        if (g.field === 1) k = decodeUtf8(g.bytes!);
        else if (g.field === 2) v = decodeUtf8(g.bytes!);
      }
      m.metadata[k] = v;
    } else if (f.field === 7) {
      const g = m.graph;
      for (const x of readFields(f.bytes!)) {
        if (x.field === 1) g.nodes.push(decodeNode(x.bytes!));
        else if (x.field === 2) g.name = decodeUtf8(x.bytes!);
        else if (x.field === 5) g.initializers.push(decodeTensor(x.bytes!));
        else if (x.field === 11) g.inputs.push(decodeValueInfo(x.bytes!));
        else if (x.field === 12) g.outputs.push(decodeValueInfo(x.bytes!));
        else if (x.field === 13) g.valueInfo.push(decodeValueInfo(x.bytes!));
      }
    }
  }
  return m;
}

export const bytesPerElement = (dt: number): number | undefined => BYTES_PER[dt];
