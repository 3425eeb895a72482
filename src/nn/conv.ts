// Convolutions with torch.nn's keys, checks and default init: Conv1d, Conv2d, ConvTranspose1d, ConvTranspose2d.
import type { Tensor } from '../tensor/index.js';
import { checkInt, checkInts, checkRank } from './args.js';
import { conv1d, conv2d, convTranspose1d, convTranspose2d, type ConvPadding } from './functional.js';
import { defaultLinearInit, emptyParam, type TensorPlacement } from './init.js';
import { Module, type Layer } from './module.js';

export type PaddingMode = 'zeros' | 'reflect' | 'replicate' | 'circular';

export interface ConvOptions extends TensorPlacement {
  stride?: number | readonly number[];
  /** Ints, or 'same' (stride 1 only) / 'valid' (default 0). */
  padding?: ConvPadding;
  dilation?: number | readonly number[];
  groups?: number;
  /** Learn an additive bias (default true). */
  bias?: boolean;
  /** How the padding is filled (default 'zeros'). */
  paddingMode?: PaddingMode;
}

export interface ConvTransposeOptions extends TensorPlacement {
  stride?: number | readonly number[];
  padding?: number | readonly number[];
  /** Extra size added to one side of the output (must be < stride or < dilation). */
  outputPadding?: number | readonly number[];
  dilation?: number | readonly number[];
  groups?: number;
  bias?: boolean;
}

/** Checks and parameters common to every convolution; `transposed` swaps the weight's channel dims. */
abstract class ConvNd extends Module implements Layer {
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernelSize: number[];
  readonly stride: number[];
  readonly dilation: number[];
  readonly groups: number;
  /** (out, in/groups, *k), or (in, out/groups, *k) when transposed */
  readonly weight: Tensor;
  /** (out) or null */
  readonly bias: Tensor | null;

  /** Every argument is checked before any tensor is allocated. */
  constructor(
    name: string,
    n: number,
    transposed: boolean,
    inChannels: number,
    outChannels: number,
    kernelSize: number | readonly number[],
    o: ConvOptions | ConvTransposeOptions,
    checkRest: (c: ConvNd) => void,
  ) {
    super();
    this.inChannels = checkInt(name, 'inChannels', inChannels);
    this.outChannels = checkInt(name, 'outChannels', outChannels);
    this.kernelSize = checkInts(name, 'kernelSize', kernelSize, n, 1);
    this.stride = checkInts(name, 'stride', o.stride ?? 1, n, 1);
    this.dilation = checkInts(name, 'dilation', o.dilation ?? 1, n, 1);
    this.groups = checkInt(name, 'groups', o.groups ?? 1);
    if (inChannels % this.groups !== 0)
      throw new RangeError(`${name}: 'inChannels' (${inChannels}) must be divisible by 'groups' (${this.groups})`);
    if (outChannels % this.groups !== 0)
      throw new RangeError(`${name}: 'outChannels' (${outChannels}) must be divisible by 'groups' (${this.groups})`);
    checkRest(this);
    const shape = transposed
      ? [inChannels, outChannels / this.groups, ...this.kernelSize]
      : [outChannels, inChannels / this.groups, ...this.kernelSize];
    this.weight = this.param('weight', emptyParam(shape, o));
    this.bias = (o.bias ?? true) ? this.param('bias', emptyParam([outChannels], o)) : null;
    defaultLinearInit(this.weight, this.bias);
  }

  abstract forward(x: Tensor): Tensor;
}

/** Conv padding resolved: what the conv op gets, and F.pad widths (last dim first) for a non-zeros mode. */
function resolvePadding(
  name: string,
  n: number,
  c: ConvNd,
  o: ConvOptions,
): { padding: number[] | 'same' | 'valid'; mode: PaddingMode; widths: number[] } {
  const p = o.padding ?? 0;
  let padding: number[] | 'same' | 'valid';
  if (p === 'same') {
    if (c.stride.some((s) => s !== 1))
      throw new RangeError(`${name}: padding 'same' needs 'stride' 1, got [${c.stride.join(', ')}]`);
    padding = 'same';
  } else if (p === 'valid') {
    padding = 'valid';
  } else if (typeof p === 'string') {
    throw new RangeError(`${name}: 'padding' must be an integer, an array of ${n}, 'same' or 'valid', got '${p}'`);
  } else {
    padding = checkInts(name, 'padding', p, n, 0);
  }
  const mode = o.paddingMode ?? 'zeros';
  if (!['zeros', 'reflect', 'replicate', 'circular'].includes(mode)) {
    throw new RangeError(
      `${name}: 'paddingMode' must be 'zeros', 'reflect', 'replicate' or 'circular', got '${String(mode)}'`,
    );
  }
  // torch's _reversed_padding_repeated_twice
  const widths: number[] = [];
  for (let i = n - 1; i >= 0; i--) {
    if (padding === 'valid') widths.push(0, 0);
    else if (padding === 'same') {
      const total = c.dilation[i]! * (c.kernelSize[i]! - 1);
      widths.push(Math.floor(total / 2), total - Math.floor(total / 2));
    } else widths.push(padding[i]!, padding[i]!);
  }
  return { padding, mode, widths };
}

/** Conv1d/Conv2d: padding (with its mode) on top of ConvNd. */
abstract class Conv extends ConvNd {
  readonly padding: number[] | 'same' | 'valid';
  readonly paddingMode: PaddingMode;
  readonly #padWidths: number[];

  constructor(
    name: string,
    n: number,
    inChannels: number,
    outChannels: number,
    kernelSize: number | readonly number[],
    o: ConvOptions,
  ) {
    let r: ReturnType<typeof resolvePadding> | undefined;
    super(name, n, false, inChannels, outChannels, kernelSize, o, (c) => {
      r = resolvePadding(name, n, c, o);
    });
    this.padding = r!.padding;
    this.paddingMode = r!.mode;
    this.#padWidths = r!.widths;
  }

  /** Input padded by paddingMode and the padding left for the conv op itself. */
  protected padded(x: Tensor): [Tensor, ConvPadding] {
    if (this.paddingMode === 'zeros') return [x, this.padding];
    return [x.pad(this.#padWidths, this.paddingMode), 0];
  }

  protected opts(padding: ConvPadding): { stride: number[]; padding: ConvPadding; dilation: number[]; groups: number } {
    return { stride: this.stride, padding, dilation: this.dilation, groups: this.groups };
  }
}

/**
 * 1-d convolution over (N, Cin, L) → (N, Cout, Lout).
 * @example const conv = new Conv1d(80, 256, 5, { padding: 2 });
 */
export class Conv1d extends Conv {
  constructor(inChannels: number, outChannels: number, kernelSize: number | readonly number[], opts: ConvOptions = {}) {
    super('Conv1d', 1, inChannels, outChannels, kernelSize, opts);
  }

  forward(x: Tensor): Tensor {
    checkRank('Conv1d', x.shape, [2, 3], '(N, C, L) or (C, L)');
    const [xp, padding] = this.padded(x);
    return conv1d(xp, this.weight, this.bias, this.opts(padding));
  }
}

/**
 * 2-d convolution over (N, Cin, H, W) → (N, Cout, Hout, Wout).
 * @example const conv = new Conv2d(1, 32, [41, 11], { stride: [2, 2], padding: [20, 5] });
 */
export class Conv2d extends Conv {
  constructor(inChannels: number, outChannels: number, kernelSize: number | readonly number[], opts: ConvOptions = {}) {
    super('Conv2d', 2, inChannels, outChannels, kernelSize, opts);
  }

  forward(x: Tensor): Tensor {
    checkRank('Conv2d', x.shape, [3, 4], '(N, C, H, W) or (C, H, W)');
    const [xp, padding] = this.padded(x);
    return conv2d(xp, this.weight, this.bias, this.opts(padding));
  }
}

/** ConvTranspose1d/2d: padding and outputPadding on top of ConvNd. */
abstract class ConvTranspose extends ConvNd {
  readonly padding: number[];
  readonly outputPadding: number[];

  constructor(
    name: string,
    n: number,
    inChannels: number,
    outChannels: number,
    kernelSize: number | readonly number[],
    o: ConvTransposeOptions,
  ) {
    let padding: number[] = [];
    let outputPadding: number[] = [];
    super(name, n, true, inChannels, outChannels, kernelSize, o, (c) => {
      padding = checkInts(name, 'padding', o.padding ?? 0, n, 0);
      outputPadding = checkInts(name, 'outputPadding', o.outputPadding ?? 0, n, 0);
      if (outputPadding.some((op, i) => op >= c.stride[i]! && op >= c.dilation[i]!)) {
        throw new RangeError(
          `${name}: 'outputPadding' [${outputPadding.join(', ')}] must be smaller than either 'stride' or 'dilation' in each dimension`,
        );
      }
    });
    this.padding = padding;
    this.outputPadding = outputPadding;
  }

  protected opts(): {
    stride: number[];
    padding: number[];
    outputPadding: number[];
    dilation: number[];
    groups: number;
  } {
    return {
      stride: this.stride,
      padding: this.padding,
      outputPadding: this.outputPadding,
      dilation: this.dilation,
      groups: this.groups,
    };
  }
}

/** Transposed 1-d convolution over (N, Cin, L) → (N, Cout, (L−1)·s − 2p + d·(k−1) + op + 1). */
export class ConvTranspose1d extends ConvTranspose {
  constructor(
    inChannels: number,
    outChannels: number,
    kernelSize: number | readonly number[],
    opts: ConvTransposeOptions = {},
  ) {
    super('ConvTranspose1d', 1, inChannels, outChannels, kernelSize, opts);
  }

  forward(x: Tensor): Tensor {
    checkRank('ConvTranspose1d', x.shape, [2, 3], '(N, C, L) or (C, L)');
    return convTranspose1d(x, this.weight, this.bias, this.opts());
  }
}

/**
 * Transposed 2-d convolution over (N, Cin, H, W) → (N, Cout, Hout, Wout),
 * Hout = (H−1)·stride − 2·padding + dilation·(k−1) + outputPadding + 1.
 * @example const up = new ConvTranspose2d(64, 32, 4, { stride: 2, padding: 1 }); // doubles H and W
 */
export class ConvTranspose2d extends ConvTranspose {
  constructor(
    inChannels: number,
    outChannels: number,
    kernelSize: number | readonly number[],
    opts: ConvTransposeOptions = {},
  ) {
    super('ConvTranspose2d', 2, inChannels, outChannels, kernelSize, opts);
  }

  forward(x: Tensor): Tensor {
    checkRank('ConvTranspose2d', x.shape, [3, 4], '(N, C, H, W) or (C, H, W)');
    return convTranspose2d(x, this.weight, this.bias, this.opts());
  }
}
