// int8 exports of a float model (the paper's future work for low-end devices), as graph rewrites of
// every Conv whose weight is an initializer:
// - 'dynamic' (default): activations quantised per call (DynamicQuantizeLinear, uint8), weights int8
//   symmetric per output channel, ConvInteger → int32 → float × (x_scale · w_scale) + bias. The int8
//   GEMM is where the speed comes from; no calibration data is needed.
// - 'weights': weight-only int8 with DequantizeLinear (4× smaller file, float compute).
import {
  DataType,
  encodeModel,
  floatTensor,
  int8Tensor,
  tensorFloats,
  type OnnxModel,
  type OnnxNode,
  type OnnxTensor,
} from './onnx.js';
import { OnnxSession, type FloatArray } from './runtime.js';

export type QuantMode = 'dynamic' | 'weights';

/** Per-output-channel symmetric int8: w ≈ q · scale[c], q in [−127, 127]. */
function quantizePerChannel(w: Float32Array, cout: number): { q: Int8Array; scale: Float32Array } {
  const per = w.length / cout;
  const q = new Int8Array(w.length);
  const scale = new Float32Array(cout);
  for (let c = 0; c < cout; c++) {
    let m = 0;
    for (let i = 0; i < per; i++) m = Math.max(m, Math.abs(w[c * per + i]!));
    const s = m > 0 ? m / 127 : 1;
    scale[c] = s;
    for (let i = 0; i < per; i++) q[c * per + i] = Math.max(-127, Math.min(127, Math.round(w[c * per + i]! / s)));
  }
  return { q, scale };
}

/**
 * A copy of `m` with every Conv weight in int8 (see the file header for the modes). The metadata gains
 * 'earmark.quantization'.
 * @example const q = quantizeWeightsInt8(exportGenerator(cfg, weights)); writeFileSync('obf.int8.onnx', encodeModel(q));
 */
export function quantizeWeightsInt8(m: OnnxModel, mode: QuantMode = 'dynamic'): OnnxModel {
  const inits = new Map(m.graph.initializers.map((t) => [t.name, t]));
  const used = new Set<string>();
  const added: OnnxTensor[] = [];
  const nodes: OnnxNode[] = [];
  for (const n of m.graph.nodes) {
    const w = n.opType === 'Conv' ? inits.get(n.inputs[1]!) : undefined;
    if (w === undefined || w.dataType !== DataType.FLOAT) {
      nodes.push(n);
      continue;
    }
    used.add(w.name);
    const cout = w.dims[0]!;
    const { q, scale } = quantizePerChannel(tensorFloats(w), cout);
    const qName = `${w.name}.int8`;
    added.push(
      int8Tensor(qName, q, w.dims),
      int8Tensor(`${w.name}.zero`, new Int8Array(mode === 'weights' ? cout : 1), mode === 'weights' ? [cout] : []),
    );
    if (mode === 'weights') {
      added.push(floatTensor(`${w.name}.scale`, scale, [cout]));
      nodes.push({
        opType: 'DequantizeLinear',
        name: `${n.name}.dequantize`,
        inputs: [qName, `${w.name}.scale`, `${w.name}.zero`],
        outputs: [`${w.name}.dq`],
        attributes: { axis: { type: 'int', i: 0 } },
      });
      nodes.push({ ...n, inputs: [n.inputs[0]!, `${w.name}.dq`, ...n.inputs.slice(2)] });
      continue;
    }
    // dynamic: y = float(ConvInteger(xq − xzp, wq)) · xs · ws[c] + b[c]
    const rank = w.dims.length; // 3 (Conv1d) or 4 (Conv2d)
    const bcast = [cout, ...Array<number>(rank - 2).fill(1)];
    added.push(floatTensor(`${w.name}.scale`, scale, bcast));
    const p = n.name;
    nodes.push({
      opType: 'DynamicQuantizeLinear',
      name: `${p}.quantize_x`,
      inputs: [n.inputs[0]!],
      outputs: [`${p}.xq`, `${p}.xs`, `${p}.xzp`],
      attributes: {},
    });
    nodes.push({
      opType: 'ConvInteger',
      name: `${p}.int8`,
      inputs: [`${p}.xq`, qName, `${p}.xzp`, `${w.name}.zero`],
      outputs: [`${p}.acc`],
      attributes: n.attributes,
    });
    nodes.push({
      opType: 'Cast',
      name: `${p}.cast`,
      inputs: [`${p}.acc`],
      outputs: [`${p}.accf`],
      attributes: { to: { type: 'int', i: DataType.FLOAT } },
    });
    nodes.push({
      opType: 'Mul',
      name: `${p}.scale_w`,
      inputs: [`${w.name}.scale`, `${p}.xs`],
      outputs: [`${p}.s`],
      attributes: {},
    });
    const bias = n.inputs[2];
    nodes.push({
      opType: 'Mul',
      name: `${p}.rescale`,
      inputs: [`${p}.accf`, `${p}.s`],
      outputs: [bias ? `${p}.y0` : n.outputs[0]!],
      attributes: {},
    });
    if (bias) {
      const b = inits.get(bias)!;
      const bName = `${bias}.bcast`;
      added.push(floatTensor(bName, tensorFloats(b), bcast));
      used.add(bias);
      nodes.push({
        opType: 'Add',
        name: `${p}.bias`,
        inputs: [`${p}.y0`, bName],
        outputs: [n.outputs[0]!],
        attributes: {},
      });
    }
  }
  const stillUsed = new Set(nodes.flatMap((n) => n.inputs));
  const initializers = [...m.graph.initializers.filter((t) => !used.has(t.name) || stillUsed.has(t.name)), ...added];
  return {
    ...m,
    metadata: {
      ...m.metadata,
      'earmark.quantization':
        mode === 'dynamic'
          ? 'int8 dynamic: ConvInteger, per-channel symmetric weights, per-call uint8 activations'
          : 'int8 weights (DequantizeLinear), float compute',
    },
    graph: { ...m.graph, nodes, initializers },
  };
}

// ---------------------------------------------------------------------------------------------
// static QDQ int8 (calibrated): Q/DQ pairs around every Conv, so onnxruntime fuses each into QLinearConv
// (uint8 activations, int8 per-channel weights, int32 bias); everything between convs stays float.

/** Observed [min, max] of each Conv's input and output over calibration inputs. */
export type Ranges = Map<string, [number, number]>;

/** The model with every Conv input and output added as a graph output (for calibration). */
export function calibrationModel(m: OnnxModel): OnnxModel {
  const names = new Set<string>();
  for (const n of m.graph.nodes)
    if (n.opType === 'Conv') {
      names.add(n.inputs[0]!);
      names.add(n.outputs[0]!);
    }
  const outputs = [
    ...m.graph.outputs,
    ...[...names]
      .filter((x) => !m.graph.outputs.some((o) => o.name === x))
      .map((name) => ({ name, elemType: DataType.FLOAT })),
  ];
  return { ...m, graph: { ...m.graph, outputs } };
}

/**
 * Calibrate: run `inputs` through the calibration model and keep each tapped tensor's min and max.
 * @example const ranges = await calibrate(model, windows); const q = quantizeStaticInt8(model, ranges);
 */
export async function calibrate(m: OnnxModel, inputs: readonly FloatArray[]): Promise<Ranges> {
  const s = await OnnxSession.load(encodeModel(calibrationModel(m)), { optimizationLevel: 'disabled' });
  const r: Ranges = new Map();
  try {
    for (const x of inputs) {
      for (const [k, v] of Object.entries(await s.runAll(x))) {
        let lo = Infinity;
        let hi = -Infinity;
        for (const e of v.data) {
          if (e < lo) lo = e;
          if (e > hi) hi = e;
        }
        const old = r.get(k);
        r.set(k, old ? [Math.min(old[0], lo), Math.max(old[1], hi)] : [lo, hi]);
      }
    }
  } finally {
    await s.close();
  }
  return r;
}

/** uint8 asymmetric quantisation parameters covering [min, max] ∪ {0}. */
function uint8Params(lo: number, hi: number): { scale: number; zero: number } {
  const a = Math.min(lo, 0);
  const b = Math.max(hi, 0);
  const scale = b > a ? (b - a) / 255 : 1;
  return { scale, zero: Math.max(0, Math.min(255, Math.round(-a / scale))) };
}

/**
 * Static int8: Q/DQ around every Conv with calibrated activation ranges (see `calibrate`); `exclude`
 * keeps named convs in float (on random weights the error comes mostly from the first four: conv1,
 * downSample1/2 and conv2dto1dLayer, where per-tensor uint8 activations meet per-channel InstanceNorm).
 * @example const q = quantizeStaticInt8(model, await calibrate(model, windows));
 */
export function quantizeStaticInt8(
  m: OnnxModel,
  ranges: Ranges,
  exclude: (convName: string) => boolean = () => false,
): OnnxModel {
  const inits = new Map(m.graph.initializers.map((t) => [t.name, t]));
  const added: OnnxTensor[] = [];
  const dropped = new Set<string>();
  const nodes: OnnxNode[] = [];
  const qdq = new Map<string, string>(); // float tensor → its Q/DQ'd name
  const scaleOf = new Map<string, number>(); // Q/DQ'd name → its scale
  const qdqOf = (name: string, at: string): string => {
    const hit = qdq.get(name);
    if (hit) return hit;
    const range = ranges.get(name);
    if (!range)
      throw new RangeError(
        `quantizeStaticInt8: no calibration range for '${name}' (at ${at}); calibrate with the same model`,
      );
    const { scale, zero } = uint8Params(range[0], range[1]);
    added.push(floatTensor(`${name}.qscale`, Float32Array.of(scale), []), {
      name: `${name}.qzero`,
      dataType: DataType.UINT8,
      dims: [],
      raw: Uint8Array.of(zero),
    });
    nodes.push({
      opType: 'QuantizeLinear',
      name: `${name}.quantize`,
      inputs: [name, `${name}.qscale`, `${name}.qzero`],
      outputs: [`${name}.q`],
      attributes: {},
    });
    nodes.push({
      opType: 'DequantizeLinear',
      name: `${name}.dequantize`,
      inputs: [`${name}.q`, `${name}.qscale`, `${name}.qzero`],
      outputs: [`${name}.dq`],
      attributes: {},
    });
    qdq.set(name, `${name}.dq`);
    scaleOf.set(`${name}.dq`, scale);
    return `${name}.dq`;
  };
  const rename = new Map<string, string>();
  for (const n0 of m.graph.nodes) {
    const n = { ...n0, inputs: n0.inputs.map((i) => rename.get(i) ?? i) };
    const w = n.opType === 'Conv' && !exclude(n.name) ? inits.get(n.inputs[1]!) : undefined;
    if (w === undefined) {
      nodes.push(n);
      continue;
    }
    const x = scaleOf.has(n.inputs[0]!) ? n.inputs[0]! : qdqOf(n.inputs[0]!, n.name); // already Q/DQ'd when a conv feeds a conv
    const cout = w.dims[0]!;
    const { q, scale } = quantizePerChannel(tensorFloats(w), cout);
    dropped.add(w.name);
    added.push(
      int8Tensor(`${w.name}.int8`, q, w.dims),
      floatTensor(`${w.name}.scale`, scale, [cout]),
      int8Tensor(`${w.name}.zero`, new Int8Array(cout), [cout]),
    );
    nodes.push({
      opType: 'DequantizeLinear',
      name: `${w.name}.dequantize`,
      inputs: [`${w.name}.int8`, `${w.name}.scale`, `${w.name}.zero`],
      outputs: [`${w.name}.dq`],
      attributes: { axis: { type: 'int', i: 0 } },
    });
    const inputs = [x, `${w.name}.dq`];
    if (n.inputs[2]) {
      // bias as int32 with scale x_scale · w_scale[c] (what QLinearConv expects)
      const b = tensorFloats(inits.get(n.inputs[2])!);
      const xs = scaleOf.get(x)!;
      const bs = Float32Array.from(scale, (s) => s * xs);
      const bq = Int32Array.from(b, (v, c) => Math.round(v / bs[c]!));
      dropped.add(n.inputs[2]);
      added.push(
        { name: `${n.inputs[2]}.int32`, dataType: DataType.INT32, dims: [cout], raw: new Uint8Array(bq.buffer) },
        floatTensor(`${n.inputs[2]}.scale`, bs, [cout]),
        { name: `${n.inputs[2]}.zero`, dataType: DataType.INT32, dims: [cout], raw: new Uint8Array(cout * 4) },
      );
      nodes.push({
        opType: 'DequantizeLinear',
        name: `${n.inputs[2]}.dequantize`,
        inputs: [`${n.inputs[2]}.int32`, `${n.inputs[2]}.scale`, `${n.inputs[2]}.zero`],
        outputs: [`${n.inputs[2]}.dq`],
        attributes: { axis: { type: 'int', i: 0 } },
      });
      inputs.push(`${n.inputs[2]}.dq`);
    }
    const y = n.outputs[0]!;
    nodes.push({ ...n, inputs, outputs: [`${y}.f`] });
    // Q/DQ the output under the original name's range; later consumers read the DQ'd value
    const range = ranges.get(y);
    if (!range) throw new RangeError(`quantizeStaticInt8: no calibration range for '${y}'`);
    ranges.set(`${y}.f`, range);
    const out = qdqOf(`${y}.f`, n.name);
    rename.set(y, out);
  }
  const outputs = m.graph.outputs.map((o) => ({ ...o }));
  // a graph output produced by a Conv: add an Identity so the output name survives
  for (const o of outputs) {
    const r = rename.get(o.name);
    if (r)
      nodes.push({ opType: 'Identity', name: `${o.name}.identity`, inputs: [r], outputs: [o.name], attributes: {} });
  }
  const stillUsed = new Set(nodes.flatMap((n) => n.inputs));
  return {
    ...m,
    metadata: {
      ...m.metadata,
      'earmark.quantization':
        'int8 static QDQ (QLinearConv): calibrated uint8 activations, per-channel int8 weights, int32 bias',
    },
    graph: {
      ...m.graph,
      nodes,
      outputs,
      initializers: [...m.graph.initializers.filter((t) => !dropped.has(t.name) || stillUsed.has(t.name)), ...added],
    },
  };
}
