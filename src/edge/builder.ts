// A small graph builder: nodes get unique names and outputs, initializers are added once by name,
// attributes are written as plain JS values. The exporters read top to bottom like the forward they mirror.
import {
  DataType,
  IR_VERSION,
  OPSET,
  floatTensor,
  int64Tensor,
  type AttrValue,
  type OnnxModel,
  type OnnxNode,
  type OnnxTensor,
  type ValueInfo,
} from './onnx.js';

export type AttrInput = number | string | number[] | { floats: number[] } | { float: number } | OnnxTensor;

/** Plain weights keyed by state-dict key, the exporters' only input besides the config. */
export type Weights = ReadonlyMap<string, { data: Float32Array; shape: number[] }>;

function toAttr(v: AttrInput): AttrValue {
  if (typeof v === 'number') return Number.isInteger(v) ? { type: 'int', i: v } : { type: 'float', f: v };
  if (typeof v === 'string') return { type: 'string', s: v };
  if (Array.isArray(v)) return { type: 'ints', ints: v };
  if ('floats' in v) return { type: 'floats', floats: v.floats };
  if ('float' in v) return { type: 'float', f: v.float };
  return { type: 'tensor', t: v };
}

export class GraphBuilder {
  readonly nodes: OnnxNode[] = [];
  readonly initializers = new Map<string, OnnxTensor>();
  readonly inputs: ValueInfo[] = [];
  readonly outputs: ValueInfo[] = [];
  #counts = new Map<string, number>();

  #fresh(base: string): string {
    const n = this.#counts.get(base) ?? 0;
    this.#counts.set(base, n + 1);
    return n === 0 ? base : `${base}_${n}`;
  }

  input(name: string, shape: (number | string)[]): string {
    this.inputs.push({ name, elemType: DataType.FLOAT, shape });
    return name;
  }

  output(name: string, shape: (number | string)[], elemType: ValueInfo['elemType'] = DataType.FLOAT): void {
    this.outputs.push({ name, elemType, shape });
  }

  /** Add (or reuse) an initializer. */
  init(t: OnnxTensor): string {
    if (!this.initializers.has(t.name)) this.initializers.set(t.name, t);
    return t.name;
  }

  floats(name: string, data: Float32Array, dims: number[]): string {
    return this.init(floatTensor(name, data, dims));
  }

  ints(name: string, values: number[]): string {
    return this.init(int64Tensor(name, values));
  }

  /**
   * Append a node; returns its output names (`nOut` of them, named after `name`).
   * @example const [y] = b.node('Sigmoid', [x], {}, 'gate');
   */
  node(
    opType: string,
    inputs: string[],
    attrs: Record<string, AttrInput> = {},
    name = opType,
    nOut = 1,
    outNames?: string[],
  ): string[] {
    const nodeName = this.#fresh(name);
    const outputs = outNames ?? Array.from({ length: nOut }, (_, i) => (nOut === 1 ? nodeName : `${nodeName}:${i}`));
    const attributes: Record<string, AttrValue> = {};
    for (const [k, v] of Object.entries(attrs)) attributes[k] = toAttr(v);
    this.nodes.push({ opType, name: nodeName, inputs, outputs, attributes });
    return outputs;
  }

  /** One-output shorthand. */
  op(opType: string, inputs: string[], attrs: Record<string, AttrInput> = {}, name = opType): string {
    return this.node(opType, inputs, attrs, name)[0]!;
  }

  model(name: string, metadata: Record<string, string>, docString = ''): OnnxModel {
    return {
      irVersion: IR_VERSION,
      opsetImports: [{ domain: '', version: OPSET }],
      producerName: 'earmark',
      producerVersion: '0.1.0',
      docString,
      metadata,
      graph: {
        name,
        nodes: this.nodes,
        initializers: [...this.initializers.values()],
        inputs: this.inputs,
        outputs: this.outputs,
        valueInfo: [],
      },
    };
  }
}

/** A weight by key, with a shape check that names the key and the fix. */
export function weight(w: Weights, key: string, shape?: number[]): { data: Float32Array; shape: number[] } {
  const t = w.get(key);
  if (t === undefined)
    throw new RangeError(
      `weights: missing '${key}'; pass the module's full state dict (keys as stateDict() names them)`,
    );
  if (shape !== undefined && (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i]))) {
    throw new RangeError(
      `weights: '${key}' has shape [${t.shape.join(', ')}] but the config implies [${shape.join(', ')}]; does the config match the checkpoint?`,
    );
  }
  if (t.data.length !== t.shape.reduce((a, b) => a * b, 1))
    throw new RangeError(`weights: '${key}' holds ${t.data.length} values for shape [${t.shape.join(', ')}]`);
  return t;
}

/** Concatenate float arrays (along the first axis of row-major tensors). */
export function concat(...parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
