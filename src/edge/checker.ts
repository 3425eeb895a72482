// A structural ONNX checker for the models earmark writes (a subset of onnx.checker's rules):
// a declared default-domain opset; typed graph inputs and outputs; unique node, initializer and
// value names (each value produced once); every node input produced earlier, an initializer or a
// graph input (so the node list is topologically sorted); outputs produced; initializer sizes that
// match their dims; known operators with legal input/output counts and their required attributes.
import { bytesPerElement, decodeModel, type OnnxModel } from './onnx.js';

/** [min inputs, max inputs, min outputs, max outputs, required attributes] per operator (opset 17). */
const OPS: Record<string, [number, number, number, number, string[]?]> = {
  Add: [2, 2, 1, 1],
  Sub: [2, 2, 1, 1],
  Mul: [2, 2, 1, 1],
  Div: [2, 2, 1, 1],
  Mod: [2, 2, 1, 1],
  Sigmoid: [1, 1, 1, 1],
  Relu: [1, 1, 1, 1],
  Tanh: [1, 1, 1, 1],
  Clip: [1, 3, 1, 1],
  Conv: [2, 3, 1, 1],
  ConvInteger: [2, 4, 1, 1],
  MatMul: [2, 2, 1, 1],
  MatMulInteger: [2, 4, 1, 1],
  InstanceNormalization: [3, 3, 1, 1],
  BatchNormalization: [5, 5, 1, 3],
  DepthToSpace: [1, 1, 1, 1, ['blocksize']],
  Reshape: [2, 2, 1, 1],
  Transpose: [1, 1, 1, 1],
  Squeeze: [1, 2, 1, 1],
  Unsqueeze: [2, 2, 1, 1],
  Shape: [1, 1, 1, 1],
  Slice: [3, 5, 1, 1],
  Concat: [1, Infinity, 1, 1, ['axis']],
  Split: [1, 2, 1, Infinity],
  Pad: [2, 4, 1, 1],
  Gather: [2, 2, 1, 1],
  LSTM: [3, 8, 0, 3, ['hidden_size']],
  GRU: [3, 6, 0, 2, ['hidden_size']],
  ReduceSum: [1, 2, 1, 1],
  ReduceMean: [1, 1, 1, 1],
  Sqrt: [1, 1, 1, 1],
  QuantizeLinear: [2, 3, 1, 1],
  DequantizeLinear: [2, 3, 1, 1],
  DynamicQuantizeLinear: [1, 1, 3, 3],
  Cast: [1, 1, 1, 1, ['to']],
  Identity: [1, 1, 1, 1],
};

/** One broken rule, with the node or value it concerns. */
export interface CheckIssue {
  rule: string;
  where: string;
  message: string;
}

/**
 * Every structural problem of a model (an empty list for a valid one).
 * @example const issues = checkOnnxModel(decodeModel(bytes)); if (issues.length) console.error(issues);
 */
export function checkOnnxModel(m: OnnxModel): CheckIssue[] {
  const issues: CheckIssue[] = [];
  const bad = (rule: string, where: string, message: string): void => {
    issues.push({ rule, where, message });
  };
  if (!(m.irVersion >= 3)) bad('ir_version', 'model', `ir_version ${m.irVersion} is missing or too old (need >= 3)`);
  const defaultOpset = m.opsetImports.find((o) => o.domain === '' || o.domain === 'ai.onnx');
  if (defaultOpset === undefined || !(defaultOpset.version >= 1))
    bad('opset', 'model', 'no opset_import for the default domain');
  const domains = new Set(m.opsetImports.map((o) => o.domain));
  const g = m.graph;
  if (!g.name) bad('graph_name', 'graph', 'the graph has no name');
  if (g.inputs.length === 0) bad('inputs', 'graph', 'the graph has no inputs');
  if (g.outputs.length === 0) bad('outputs', 'graph', 'the graph has no outputs');

  const known = new Set<string>();
  const define = (name: string, where: string): void => {
    if (!name) bad('value_name', where, 'an empty value name');
    else if (known.has(name)) bad('ssa', where, `value '${name}' is defined more than once`);
    known.add(name);
  };
  for (const v of [...g.inputs, ...g.outputs]) {
    if (!v.elemType) bad('typed', v.name, `graph input/output '${v.name}' has no element type`);
    if (v.shape === undefined) bad('typed', v.name, `graph input/output '${v.name}' has no shape`);
  }
  for (const v of g.inputs) define(v.name, `input '${v.name}'`);
  const inits = new Set<string>();
  for (const t of g.initializers) {
    if (inits.has(t.name)) bad('unique_initializer', t.name, `initializer '${t.name}' appears twice`);
    inits.add(t.name);
    if (!known.has(t.name)) known.add(t.name); // an initializer may also be listed as an input (a default)
    const per = bytesPerElement(t.dataType);
    if (per === undefined)
      bad('initializer_type', t.name, `initializer '${t.name}' has unsupported data_type ${t.dataType}`);
    else {
      const numel = t.dims.reduce((a, d) => a * d, 1);
      if (t.dims.some((d) => !Number.isInteger(d) || d < 0))
        bad('initializer_dims', t.name, `initializer '${t.name}' has bad dims [${t.dims.join(', ')}]`);
      else if (t.raw.length !== numel * per)
        bad(
          'initializer_size',
          t.name,
          `initializer '${t.name}' has ${t.raw.length} bytes, dims [${t.dims.join(', ')}] need ${numel * per}`,
        );
    }
  }
  const nodeNames = new Set<string>();
  for (const [i, n] of g.nodes.entries()) {
    const where = `node ${i} '${n.name}' (${n.opType})`;
    if (!n.name) bad('node_name', where, 'a node without a name');
    else if (nodeNames.has(n.name)) bad('unique_node', where, `node name '${n.name}' is used twice`);
    nodeNames.add(n.name);
    if (n.domain && !domains.has(n.domain)) bad('opset', where, `domain '${n.domain}' is not declared in opset_import`);
    const spec = OPS[n.opType];
    if (spec === undefined) bad('operator', where, `unknown operator '${n.opType}'`);
    else {
      const [minI, maxI, minO, maxO, req] = spec;
      if (n.inputs.length < minI || n.inputs.length > maxI)
        bad('arity', where, `${n.inputs.length} inputs, ${n.opType} takes ${minI}..${maxI}`);
      if (n.outputs.length < minO || n.outputs.length > maxO)
        bad('arity', where, `${n.outputs.length} outputs, ${n.opType} gives ${minO}..${maxO}`);
      for (const a of req ?? [])
        if (!(a in n.attributes)) bad('attribute', where, `required attribute '${a}' is missing`);
    }
    for (const inp of n.inputs) {
      if (inp !== '' && !known.has(inp))
        bad('topological', where, `input '${inp}' is not a graph input, an initializer, or an earlier node's output`);
    }
    for (const out of n.outputs) if (out !== '') define(out, where);
  }
  for (const v of g.outputs)
    if (!known.has(v.name)) bad('outputs', v.name, `graph output '${v.name}' is never produced`);
  return issues;
}

/**
 * Throw a RangeError listing every issue when `bytes` (an .onnx file's contents) is not a valid model.
 * @example assertValidOnnx(readFileSync('obfuscator.onnx'), 'obfuscator.onnx');
 */
export function assertValidOnnx(bytes: Uint8Array, source = '<bytes>'): OnnxModel {
  let m: OnnxModel;
  try {
    m = decodeModel(bytes);
  } catch (e) {
    throw new RangeError(`${source} is not an ONNX protobuf: ${(e as Error).message}`);
  }
  const issues = checkOnnxModel(m);
  if (issues.length)
    throw new RangeError(
      `${source} fails the ONNX structural checks:\n` +
        issues.map((x) => `  [${x.rule}] ${x.where}: ${x.message}`).join('\n'),
    );
  return m;
}
