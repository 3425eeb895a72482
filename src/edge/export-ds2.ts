// ONNX export of the DeepSpeech2 classifier (the target model T) from plain weights, so a third-party
// app can run the task on the obfuscated stream. Mirrors src/models/deepspeech2.ts:
// Conv(41×11, s2) → BatchNorm → Clip(0, 20) → Conv(21×11, s(2,1)) → BatchNorm → Clip → (T', B, C·41)
// → per layer: [BatchNorm1d as Mul/Add] → bidirectional LSTM (or GRU) → directions summed
// → BatchNorm1d → MatMul → (B, T', K). Gate order: torch LSTM i,f,g,o → ONNX i,o,f,c; torch GRU
// r,z,n → ONNX z,r,h with linear_before_reset = 1.
import { GraphBuilder, concat, weight, type Weights } from './builder.js';
import type { OnnxModel } from './onnx.js';
import { ds2ConvFreq, type DeepSpeech2Config } from '../models/deepspeech2-shape.js';

/** T's configuration (shared with the libtorch model through a libtorch-free module). */
export type Ds2Shape = DeepSpeech2Config;

/** Reorder the gate blocks of a (G·H, ·) matrix or (G·H) vector: out block i = in block order[i]. */
function reorderGates(data: Float32Array, hidden: number, order: readonly number[]): Float32Array {
  const block = data.length / order.length;
  if (!Number.isInteger(block) || block % hidden !== 0)
    throw new RangeError(
      `reorderGates: ${data.length} values do not split into ${order.length} gates of ${hidden} rows`,
    );
  return concat(...order.map((g) => data.subarray(g * block, (g + 1) * block)));
}

/**
 * Build T's ONNX model: input 'spectrogram' (batch, nFreq, time) normalised as T was trained →
 * output 'logits' (batch, ⌈time/2⌉, K), with dynamic batch and time.
 * @example writeFileSync('target.onnx', encodeModel(exportDeepSpeech2(config, weights)));
 */
export function exportDeepSpeech2(cfg: Ds2Shape, w: Weights, metadata: Record<string, string> = {}): OnnxModel {
  const { nFreq, convChannels: ch, hiddenSize: hs, rnnType } = cfg;
  const b = new GraphBuilder();
  const x = b.input('spectrogram', ['batch', nFreq, 'time']);
  let h = b.op('Unsqueeze', [x, b.ints('axes_1', [1])], {}, 'unsqueeze'); // (B, 1, F, T)

  const clipMin = b.floats('c_0f', new Float32Array([0]), []);
  const clipMax = b.floats('c_20f', new Float32Array([20]), []);
  const convBlock = (input: string, i: number, attrs: Record<string, number[]>): string => {
    const k = `conv.seq_module.${i}`;
    const cw = weight(w, `${k}.weight`);
    const inputs = [input, b.floats(`${k}.weight`, cw.data, cw.shape)];
    if (w.has(`${k}.bias`)) inputs.push(b.floats(`${k}.bias`, weight(w, `${k}.bias`).data, [cw.shape[0]!]));
    let y = b.op('Conv', inputs, attrs, k);
    const n = `conv.seq_module.${i + 1}`;
    y = b.op(
      'BatchNormalization',
      [
        y,
        ...['weight', 'bias', 'running_mean', 'running_var'].map((p) =>
          b.floats(`${n}.${p}`, weight(w, `${n}.${p}`, [ch]).data, [ch]),
        ),
      ],
      { epsilon: { float: 1e-5 } },
      n,
    );
    return b.op('Clip', [y, clipMin, clipMax], {}, `conv.seq_module.${i + 2}`); // Hardtanh(0, 20)
  };
  h = convBlock(h, 0, { strides: [2, 2], pads: [20, 5, 20, 5] });
  h = convBlock(h, 3, { strides: [2, 1], pads: [10, 5, 10, 5] }); // (B, C, 41, T')
  const flat = ch * ds2ConvFreq(nFreq);
  h = b.op('Reshape', [h, b.ints('shape_flat', [0, flat, -1])], {}, 'flatten'); // (B, C·41, T')
  h = b.op('Transpose', [h], { perm: [2, 0, 1] }, 'to_tbf'); // (T', B, C·41)

  /** Eval-mode BatchNorm1d over the last axis as x·s + (β − μ·s), s = γ/√(σ² + ε). */
  const batchNorm1d = (input: string, k: string, n: number): string => {
    const [g, beta, mu, v] = ['weight', 'bias', 'running_mean', 'running_var'].map(
      (p) => weight(w, `${k}.${p}`, [n]).data,
    ) as [Float32Array, Float32Array, Float32Array, Float32Array];
    const s = new Float32Array(n);
    const shift = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      s[i] = g[i]! / Math.sqrt(v[i]! + 1e-5);
      shift[i] = beta[i]! - mu[i]! * s[i]!;
    }
    return b.op(
      'Add',
      [b.op('Mul', [input, b.floats(`${k}.scale`, s, [n])], {}, `${k}.mul`), b.floats(`${k}.shift`, shift, [n])],
      {},
      k,
    );
  };

  const gates = rnnType === 'lstm' ? 4 : 3;
  const order = rnnType === 'lstm' ? [0, 3, 1, 2] : [1, 0, 2];
  for (let l = 0; l < cfg.rnnLayers; l++) {
    const p = `rnns.${l}`;
    const inSize = l === 0 ? flat : hs;
    if (l > 0) h = batchNorm1d(h, `${p}.batch_norm.module`, inSize);
    const dirs = ['', '_reverse'];
    const W = concat(
      ...dirs.map((d) => reorderGates(weight(w, `${p}.rnn.weight_ih_l0${d}`, [gates * hs, inSize]).data, hs, order)),
    );
    const R = concat(
      ...dirs.map((d) => reorderGates(weight(w, `${p}.rnn.weight_hh_l0${d}`, [gates * hs, hs]).data, hs, order)),
    );
    const bias = (k: string, d: string): Float32Array =>
      w.has(`${p}.rnn.${k}_l0${d}`)
        ? reorderGates(weight(w, `${p}.rnn.${k}_l0${d}`, [gates * hs]).data, hs, order)
        : new Float32Array(gates * hs);
    const B = concat(...dirs.flatMap((d) => [bias('bias_ih', d), bias('bias_hh', d)]));
    const attrs: Record<string, number | string> = { direction: 'bidirectional', hidden_size: hs };
    if (rnnType === 'gru') attrs['linear_before_reset'] = 1;
    const [y] = b.node(
      rnnType === 'lstm' ? 'LSTM' : 'GRU',
      [
        h,
        b.floats(`${p}.W`, W, [2, gates * hs, inSize]),
        b.floats(`${p}.R`, R, [2, gates * hs, hs]),
        b.floats(`${p}.B`, B, [2, 2 * gates * hs]),
      ],
      attrs,
      `${p}.rnn`,
      rnnType === 'lstm' ? 3 : 2,
    );
    h = b.op('ReduceSum', [y!, b.ints('axes_1', [1])], { keepdims: 0 }, `${p}.sum_directions`); // (T', 2, B, H) → (T', B, H)
  }
  h = batchNorm1d(h, 'fc.0.module.0', hs);
  const fc = weight(w, 'fc.0.module.1.weight', [cfg.numClasses, hs]);
  const wt = new Float32Array(hs * cfg.numClasses); // (H, K) = Wᵀ
  for (let k = 0; k < cfg.numClasses; k++)
    for (let j = 0; j < hs; j++) wt[j * cfg.numClasses + k] = fc.data[k * hs + j]!;
  h = b.op('MatMul', [h, b.floats('fc.0.module.1.weight_t', wt, [hs, cfg.numClasses])], {}, 'fc'); // (T', B, K)
  b.node('Transpose', [h], { perm: [1, 0, 2] }, 'to_btk', 1, ['logits']);
  b.output('logits', ['batch', 'steps', cfg.numClasses]);
  return b.model(
    'deepspeech2',
    {
      'earmark.kind': 'target',
      'earmark.model': JSON.stringify({ architecture: 'DeepSpeech2 classifier', ...cfg }),
      'earmark.io': `input 'spectrogram' (batch, ${nFreq}, time): log1p|STFT| normalised per utterance; output 'logits' (batch, ceil(time/2), ${cfg.numClasses}), decide by vote counting`,
      ...metadata,
    },
    'earmark target model T (DeepSpeech2 classifier)',
  );
}

/** Infer the DS2 shape from its state-dict keys. */
export function inferDs2Shape(w: Weights, nFreq = 161): Ds2Shape {
  const c0 = weight(w, 'conv.seq_module.0.weight');
  let layers = 0;
  while (w.has(`rnns.${layers}.rnn.weight_hh_l0`)) layers++;
  const hh = weight(w, 'rnns.0.rnn.weight_hh_l0');
  const hs = hh.shape[1]!;
  const fc = weight(w, 'fc.0.module.1.weight');
  return {
    nFreq,
    convChannels: c0.shape[0]!,
    rnnLayers: layers,
    hiddenSize: hs,
    rnnType: hh.shape[0] === 4 * hs ? 'lstm' : 'gru',
    numClasses: fc.shape[0]!,
  };
}
