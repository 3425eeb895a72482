// Functional convolutions and pooling (torch.nn.functional's names, camelCase), one boxed call into ATen
// each; the layers in conv.ts and pool.ts delegate here. functional.ts re-exports everything.
import { call, OP } from '../binding/ops.js';
import { wrap, type Tensor } from '../tensor/index.js';

/** An int argument given once for every spatial dimension, or per dimension. */
export type IntOrTuple = number | readonly number[];
/** Conv padding: ints, or 'same' / 'valid' as torch (stride 1 only for 'same'). */
export type ConvPadding = IntOrTuple | 'same' | 'valid';

/** Expand `v` to `n` ints, checking each is an integer >= `min`; errors name `name`. */
export function ntuple(v: IntOrTuple, n: number, name: string, min = 0): number[] {
  const out = typeof v === 'number' ? new Array<number>(n).fill(v) : [...v];
  if (out.length !== n || out.some((d) => !Number.isInteger(d) || d < min)) {
    throw new RangeError(`'${name}' must be an integer >= ${min} or ${n} of them, got ${JSON.stringify(v)}`);
  }
  return out;
}

export interface ConvOptions {
  stride?: IntOrTuple;
  padding?: ConvPadding;
  dilation?: IntOrTuple;
  groups?: number;
}

export interface ConvTransposeOptions {
  stride?: IntOrTuple;
  padding?: IntOrTuple;
  outputPadding?: IntOrTuple;
  dilation?: IntOrTuple;
  groups?: number;
}

function conv(
  opInt: typeof OP.conv2d,
  opPad: typeof OP.conv2dPad,
  n: number,
  x: Tensor,
  w: Tensor,
  b: Tensor | null,
  o: ConvOptions,
): Tensor {
  const stride = ntuple(o.stride ?? 1, n, 'stride', 1);
  const dilation = ntuple(o.dilation ?? 1, n, 'dilation', 1);
  const p = o.padding ?? 0;
  if (p === 'same' || p === 'valid') {
    return wrap(call(opPad, x.handle, w.handle, b?.handle ?? null, stride, p, dilation, o.groups ?? 1));
  }
  return wrap(
    call(opInt, x.handle, w.handle, b?.handle ?? null, stride, ntuple(p, n, 'padding'), dilation, o.groups ?? 1),
  );
}

/**
 * 1-d convolution. x: (N, Cin, L), weight: (Cout, Cin/groups, k) → (N, Cout, Lout).
 * @example conv1d(x, w, b, { stride: 2, padding: 1 })
 */
export function conv1d(x: Tensor, weight: Tensor, bias: Tensor | null = null, opts: ConvOptions = {}): Tensor {
  return conv(OP.conv1d, OP.conv1dPad, 1, x, weight, bias, opts);
}

/**
 * 2-d convolution. x: (N, Cin, H, W), weight: (Cout, Cin/groups, kH, kW) → (N, Cout, Hout, Wout).
 * @example conv2d(x, w, b, { padding: 'same' })
 */
export function conv2d(x: Tensor, weight: Tensor, bias: Tensor | null = null, opts: ConvOptions = {}): Tensor {
  return conv(OP.conv2d, OP.conv2dPad, 2, x, weight, bias, opts);
}

function convT(
  op: typeof OP.convTranspose2d,
  n: number,
  x: Tensor,
  w: Tensor,
  b: Tensor | null,
  o: ConvTransposeOptions,
): Tensor {
  return wrap(
    call(
      op,
      x.handle,
      w.handle,
      b?.handle ?? null,
      ntuple(o.stride ?? 1, n, 'stride', 1),
      ntuple(o.padding ?? 0, n, 'padding'),
      ntuple(o.outputPadding ?? 0, n, 'outputPadding'),
      o.groups ?? 1,
      ntuple(o.dilation ?? 1, n, 'dilation', 1),
    ),
  );
}

/** Transposed 1-d convolution. x: (N, Cin, L), weight: (Cin, Cout/groups, k) → (N, Cout, Lout). */
export function convTranspose1d(
  x: Tensor,
  weight: Tensor,
  bias: Tensor | null = null,
  opts: ConvTransposeOptions = {},
): Tensor {
  return convT(OP.convTranspose1d, 1, x, weight, bias, opts);
}

/**
 * Transposed 2-d convolution. x: (N, Cin, H, W), weight: (Cin, Cout/groups, kH, kW) → (N, Cout, Hout, Wout),
 * Hout = (H−1)·stride − 2·padding + dilation·(kH−1) + outputPadding + 1.
 * @example convTranspose2d(x, w, b, { stride: 2, padding: 1, outputPadding: 1 })
 */
export function convTranspose2d(
  x: Tensor,
  weight: Tensor,
  bias: Tensor | null = null,
  opts: ConvTransposeOptions = {},
): Tensor {
  return convT(OP.convTranspose2d, 2, x, weight, bias, opts);
}

export interface PoolOptions {
  /** Default: the kernel size. */
  stride?: IntOrTuple;
  padding?: IntOrTuple;
  dilation?: IntOrTuple;
  ceilMode?: boolean;
}

/** Max pooling. x: (N, C, L) → (N, C, Lout). */
export function maxPool1d(x: Tensor, kernelSize: IntOrTuple, o: PoolOptions = {}): Tensor {
  return wrap(
    call(
      OP.maxPool1d,
      x.handle,
      ntuple(kernelSize, 1, 'kernelSize', 1),
      ntuple(o.stride ?? kernelSize, 1, 'stride', 1),
      ntuple(o.padding ?? 0, 1, 'padding'),
      ntuple(o.dilation ?? 1, 1, 'dilation', 1),
      o.ceilMode ?? false,
    ),
  );
}

/**
 * Max pooling. x: (N, C, H, W) → (N, C, Hout, Wout).
 * @example maxPool2d(x, 2) // halves H and W
 */
export function maxPool2d(x: Tensor, kernelSize: IntOrTuple, o: PoolOptions = {}): Tensor {
  return wrap(
    call(
      OP.maxPool2d,
      x.handle,
      ntuple(kernelSize, 2, 'kernelSize', 1),
      ntuple(o.stride ?? kernelSize, 2, 'stride', 1),
      ntuple(o.padding ?? 0, 2, 'padding'),
      ntuple(o.dilation ?? 1, 2, 'dilation', 1),
      o.ceilMode ?? false,
    ),
  );
}

/** Average pooling (padding counted, as torch's default). x: (N, C, H, W) → (N, C, Hout, Wout). */
export function avgPool2d(x: Tensor, kernelSize: IntOrTuple, o: Omit<PoolOptions, 'dilation'> = {}): Tensor {
  return wrap(
    call(
      OP.avgPool2d,
      x.handle,
      ntuple(kernelSize, 2, 'kernelSize', 1),
      ntuple(o.stride ?? kernelSize, 2, 'stride', 1),
      ntuple(o.padding ?? 0, 2, 'padding'),
      o.ceilMode ?? false,
      true,
      null,
    ),
  );
}

/** Average to a fixed output size. x: (N, C, H, W) → (N, C, oH, oW). */
export function adaptiveAvgPool2d(x: Tensor, outputSize: IntOrTuple): Tensor {
  return wrap(call(OP.adaptiveAvgPool2d, x.handle, ntuple(outputSize, 2, 'outputSize', 1)));
}
