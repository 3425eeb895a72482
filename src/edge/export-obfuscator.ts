// ONNX export of the CycleGAN-VC2 generator (the obfuscator F_σ) from plain weights, without libtorch.
// Mirrors src/models/cyclegan-vc2.ts node for node, with three exact rewrites for speed:
// - the zero padding of the frequency axis (161 → 164) is folded into conv1's bottom padding;
// - each gated pair (conv·σ(conv_gates)) runs as ONE Conv and ONE InstanceNormalization over the
//   concatenated channels, then Split (IN is per channel, so this is the same arithmetic);
// - PixelShuffle(2) is DepthToSpace(blocksize 2, mode CRD).
// The 'time-local' variant's AxisNorms are ReduceMean/Sub/Div/Sqrt over one axis, with a per-channel affine;
// only its 2D ones (per channel) may be fused over a gated pair, its 1D ones normalise over channels.
// Inputs (batch, nFreq, time) with dynamic batch and time; time is zero-padded to a multiple of 4
// inside the graph and the output cropped back, exactly as the libtorch forward.
import { GraphBuilder, concat, weight, type Weights } from './builder.js';
import { OUTPUT_LEVEL_DEFAULTS } from './obfuscate.js';
import type { OnnxModel } from './onnx.js';

/** The generator's shape parameters (CycleGanVc2Config, restated so src/edge needs no libtorch import). */
export interface GeneratorShape {
  nFreq: number;
  channels: number;
  residualBlocks: number;
  /** 'instance' (undefined: the paper's) or 'time-local' (AxisNorms; CycleGanVc2Config.norm). */
  norm?: 'instance' | 'time-local' | undefined;
}

/** The deployed front-end and windowing, stored in the model's metadata (`earmark.features`). */
export interface EdgeFeatureConfig {
  sampleRate: number;
  nFft: number;
  hopLength: number;
  window: 'hamming-periodic';
  center: boolean;
  padMode: 'reflect';
  /** log1p(|STFT|), then (S − mean)/std with the unbiased std, over each window of `windowFrames` frames. */
  normalize: 'per-window';
  /** Frames per obfuscation window (W; the training crop length, a multiple of 4). */
  windowFrames: number;
  /** Context frames on each side of a window's kept centre (M; the stream's look-ahead). */
  lookaheadFrames: number;
  /** The output is de-normalised with fixed statistics (never the input window's own: they leak its level). */
  denormalize: 'fixed';
  /** That fixed level: the training set's global mean and std of log1p|STFT| (obfuscate.ts OUTPUT_LEVEL_DEFAULTS when unknown). */
  outputMean: number;
  outputStd: number;
}

export const EDGE_FEATURES_DEFAULTS: EdgeFeatureConfig = {
  sampleRate: 16000,
  nFft: 320,
  hopLength: 160,
  window: 'hamming-periodic',
  center: true,
  padMode: 'reflect',
  normalize: 'per-window',
  windowFrames: 128,
  lookaheadFrames: 16,
  denormalize: 'fixed',
  outputMean: OUTPUT_LEVEL_DEFAULTS.mean,
  outputStd: OUTPUT_LEVEL_DEFAULTS.std,
};

export interface ObfuscatorExportOptions {
  /** Fold the frequency padding and fuse gated pairs (default true; false writes the literal graph). */
  optimize?: boolean;
  features?: Partial<EdgeFeatureConfig>;
  /** Extra metadata_props (e.g. the task, the training run). */
  metadata?: Record<string, string>;
}

/** Infer C and R from a generator's state-dict keys (nFreq defaults to 161: only ⌈nFreq/4⌉ is stored). */
export function inferGeneratorShape(w: Weights, nFreq = 161): GeneratorShape {
  const c1 = weight(w, 'conv1.weight');
  let r = 0;
  while (w.has(`residualLayer${r + 1}.conv1d_layer.0.weight`)) r++;
  const shape: GeneratorShape = { nFreq, channels: 2 * c1.shape[0]!, residualBlocks: r };
  return w.has('time_local_norm') ? { ...shape, norm: 'time-local' } : shape;
}

/**
 * Build the obfuscator's ONNX model from a config and its state dict as plain arrays.
 * Input 'spectrogram' (batch, nFreq, time) → output 'obfuscated' (batch, nFreq, time).
 * @example
 * const model = exportGenerator({ nFreq: 161, channels: 32, residualBlocks: 3 }, weights);
 * writeFileSync('obfuscator.onnx', encodeModel(model));
 */
export function exportGenerator(cfg: GeneratorShape, w: Weights, opts: ObfuscatorExportOptions = {}): OnnxModel {
  const { nFreq, channels: c, residualBlocks: r } = cfg;
  const local = cfg.norm === 'time-local';
  if (local !== w.has('time_local_norm'))
    throw new RangeError(
      `the weights ${local ? 'lack' : 'carry'} the 'time_local_norm' marker of a norm 'time-local' generator, ` +
        `but the shape says norm ${JSON.stringify(cfg.norm ?? 'instance')}: take the shape from inferGeneratorShape(weights)`,
    );
  if (!Number.isInteger(c) || c < 2 || c % 2 !== 0)
    throw new RangeError(`'channels' must be an even integer >= 2, got ${c}`);
  if (!Number.isInteger(r) || r < 0) throw new RangeError(`'residualBlocks' must be an integer >= 0, got ${r}`);
  const optimize = opts.optimize ?? true;
  const padded = Math.ceil(nFreq / 4) * 4;
  const latent = padded / 4;
  const b = new GraphBuilder();
  const x = b.input('spectrogram', ['batch', nFreq, 'time']);

  // time padding to a multiple of 4: padT = (4 − T mod 4) mod 4
  const shape = b.op('Shape', [x], {}, 'shape');
  const t = b.op('Slice', [shape, b.ints('c_2', [2]), b.ints('c_3', [3])], {}, 'time'); // (1)
  const four = b.ints('c_4', [4]);
  const padT = b.op('Mod', [b.op('Sub', [four, b.op('Mod', [t, four], {}, 'time_mod4')]), four], {}, 'pad_time');
  const padF = optimize ? 0 : padded - nFreq;
  const pads = b.op('Concat', [b.ints('pads_head', [0, 0, 0, 0, padF]), padT], { axis: 0 }, 'pads');
  let h = b.op('Pad', [x, pads], { mode: 'constant' }, 'pad'); // (B, nFreq or 164, T4)
  h = b.op('Unsqueeze', [h, b.ints('axes_1', [1])], {}, 'unsqueeze'); // (B, 1, H, T4)

  const conv = (input: string, keys: string[], attrs: Record<string, number[]>, name: string): string => {
    const ws = keys.map((k) => weight(w, `${k}.weight`));
    const bs = keys.map((k) => weight(w, `${k}.bias`));
    const dims = [ws.reduce((a, x) => a + x.shape[0]!, 0), ...ws[0]!.shape.slice(1)];
    const wName = b.floats(`${name}.weight`, concat(...ws.map((x) => x.data)), dims);
    const bName = b.floats(`${name}.bias`, concat(...bs.map((x) => x.data)), [dims[0]!]);
    return b.op('Conv', [input, wName, bName], attrs, name);
  };
  const instanceNorm = (input: string, keys: string[], name: string): string => {
    const scale = concat(...keys.map((k) => weight(w, `${k}.weight`).data));
    const bias = concat(...keys.map((k) => weight(w, `${k}.bias`).data));
    return b.op(
      'InstanceNormalization',
      [input, b.floats(`${name}.weight`, scale, [scale.length]), b.floats(`${name}.bias`, bias, [bias.length])],
      { epsilon: { float: 1e-5 } },
      name,
    );
  };
  /** AxisNorm over `axis` (1: channels of (B, C, T); 2: frequency of (B, C, H, T)) with a per-channel affine. */
  const axisNorm = (input: string, keys: string[], axis: 1 | 2, name: string): string => {
    const scale = concat(...keys.map((k) => weight(w, `${k}.weight`).data));
    const bias = concat(...keys.map((k) => weight(w, `${k}.bias`).data));
    const dims = axis === 2 ? [scale.length, 1, 1] : [scale.length, 1];
    const d = b.op(
      'Sub',
      [input, b.op('ReduceMean', [input], { axes: [axis], keepdims: 1 }, `${name}.mean`)],
      {},
      `${name}.centred`,
    );
    const v = b.op(
      'ReduceMean',
      [b.op('Mul', [d, d], {}, `${name}.square`)],
      { axes: [axis], keepdims: 1 },
      `${name}.var`,
    );
    const sd = b.op(
      'Sqrt',
      [b.op('Add', [v, b.floats(`${name}.eps`, new Float32Array([1e-5]), [1])], {}, `${name}.var_eps`)],
      {},
      `${name}.std`,
    );
    const y = b.op('Div', [d, sd], {}, `${name}.normalised`);
    return b.op(
      'Add',
      [
        b.op('Mul', [y, b.floats(`${name}.weight`, scale, dims)], {}, `${name}.scaled`),
        b.floats(`${name}.bias`, bias, dims),
      ],
      {},
      name,
    );
  };
  /** The generator's norm after a 1D (rank 1: AxisNorm over channels) or 2D (rank 2: over frequency) conv. */
  const norm = (input: string, keys: string[], rank: 1 | 2, name: string): string =>
    local ? axisNorm(input, keys, rank, name) : instanceNorm(input, keys, name);
  const gate = (a: string, g: string, name: string): string =>
    b.op('Mul', [a, b.op('Sigmoid', [g], {}, `${name}.sigmoid`)], {}, name);
  /** a·σ(g) for a pair of branches: fused (one conv, one IN, Split) or literal. */
  const gated = (
    input: string,
    convs: [string, string],
    norms: [string, string] | null,
    attrs: Record<string, number[]>,
    rank: 1 | 2,
    name: string,
  ): string => {
    let a: string, g: string;
    if (optimize) {
      const y = conv(input, convs, attrs, `${name}.conv`);
      const fuseNorm = norms !== null && !(local && rank === 1); // a channel norm must not span the pair
      [a, g] = b.node(
        'Split',
        [fuseNorm ? norm(y, norms, rank, `${name}.norm`) : y],
        { axis: 1 },
        `${name}.split`,
        2,
      ) as [string, string];
      if (fuseNorm) return gate(a, g, name);
    } else {
      a = conv(input, [convs[0]], attrs, `${name}.conv_a`);
      g = conv(input, [convs[1]], attrs, `${name}.conv_g`);
    }
    if (norms) {
      a = norm(a, [norms[0]], rank, `${name}.norm_a`);
      g = norm(g, [norms[1]], rank, `${name}.norm_g`);
    }
    return gate(a, g, name);
  };

  // conv1 · σ(conv1_gates): (B, 1, H, T4) → (B, C/2, 164, T4); folded padding adds the 3 zero rows below
  h = gated(h, ['conv1', 'conv1_gates'], null, { pads: [2, 7, 2 + (padded - nFreq) - padF, 7] }, 2, 'conv1');
  for (const d of ['downSample1', 'downSample2']) {
    h = gated(
      h,
      [`${d}.convLayer.0`, `${d}.convLayer_gates.0`],
      [`${d}.convLayer.1`, `${d}.convLayer_gates.1`],
      { strides: [2, 2], pads: [2, 2, 2, 2] },
      2,
      d,
    ); // (B, C, 41, T4/4) after both
  }
  h = b.op('Reshape', [h, b.ints('shape_1d', [0, c * latent, -1])], {}, 'to1d'); // (B, C·41, T')
  h = norm(conv(h, ['conv2dto1dLayer'], {}, 'conv2dto1dLayer'), ['conv2dto1dLayer_tfan'], 1, 'conv2dto1dLayer_tfan'); // (B, C, T')
  for (let i = 1; i <= r; i++) {
    const k = `residualLayer${i}`;
    const y = gated(
      h,
      [`${k}.conv1d_layer.0`, `${k}.conv_layer_gates.0`],
      [`${k}.conv1d_layer.1`, `${k}.conv_layer_gates.1`],
      { pads: [1, 1] },
      1,
      k,
    ); // (B, 2C, T')
    h = b.op(
      'Add',
      [
        h,
        norm(
          conv(y, [`${k}.conv1d_out_layer.0`], { pads: [1, 1] }, `${k}.out`),
          [`${k}.conv1d_out_layer.1`],
          1,
          `${k}.out_norm`,
        ),
      ],
      {},
      `${k}.add`,
    );
  }
  h = norm(conv(h, ['conv1dto2dLayer'], {}, 'conv1dto2dLayer'), ['conv1dto2dLayer_tfan'], 1, 'conv1dto2dLayer_tfan'); // (B, C·41, T')
  h = b.op('Reshape', [h, b.ints('shape_2d', [0, c, latent, -1])], {}, 'to2d'); // (B, C, 41, T')
  for (const u of ['upSample1', 'upSample2']) {
    h = conv(h, [`${u}.0`], { pads: [2, 2, 2, 2] }, `${u}.conv`);
    h = b.op('DepthToSpace', [h], { blocksize: 2, mode: 'CRD' }, `${u}.shuffle`); // PixelShuffle(2)
    h = norm(h, [`${u}.2`], 2, `${u}.norm`);
    h = gate(h, h, u); // x·σ(x)
  }
  h = conv(h, ['lastConvLayer'], { pads: [2, 7, 2, 7] }, 'lastConvLayer'); // (B, 1, 164, T4)
  const ends = b.op('Concat', [b.ints('c_nfreq', [nFreq]), t], { axis: 0 }, 'crop_ends');
  h = b.op('Slice', [h, b.ints('c_00', [0, 0]), ends, b.ints('c_axes23', [2, 3])], {}, 'crop'); // (B, 1, nFreq, T)
  b.node('Squeeze', [h, b.ints('axes_1', [1])], {}, 'squeeze', 1, ['obfuscated']);
  b.output('obfuscated', ['batch', nFreq, 'time']);

  const features = { ...EDGE_FEATURES_DEFAULTS, ...opts.features };
  return b.model(
    'obfuscator',
    {
      'earmark.kind': 'obfuscator',
      'earmark.model': JSON.stringify({ architecture: 'CycleGAN-VC2 generator', ...cfg }),
      'earmark.features': JSON.stringify(features),
      'earmark.io':
        `input 'spectrogram' (batch, ${nFreq}, time): log1p|STFT| normalised per window; output 'obfuscated' in the same ` +
        'normalised units, de-normalised by the windowed rule with the fixed outputMean/outputStd of earmark.features',
      ...opts.metadata,
    },
    'earmark obfuscator F_σ (Wang et al. 2022), CycleGAN-VC2 generator',
  );
}
