// Weight initialisation as torch.nn.init (PyTorch 1.13), in place under noGrad, plus each layer's default scheme.
import { empty, noGrad, type DType, type Tensor } from '../tensor/index.js';

/** Where a layer's tensors live: dtype (default 'float32'; 'float64' for gradient checks) and device. */
export interface TensorPlacement {
  dtype?: DType;
  device?: string;
}

/** An uninitialised float tensor for a layer's parameter or buffer. */
export function emptyParam(shape: readonly number[], p: TensorPlacement = {}): Tensor {
  const dtype = p.dtype ?? 'float32';
  if (dtype !== 'float32' && dtype !== 'float64')
    throw new TypeError(`'dtype' must be 'float32' or 'float64' for layer weights, got '${dtype}'`);
  return empty(shape, p.device === undefined ? { dtype } : { dtype, device: p.device });
}

export type Nonlinearity =
  | 'linear'
  | 'conv1d'
  | 'conv2d'
  | 'conv_transpose1d'
  | 'conv_transpose2d'
  | 'sigmoid'
  | 'tanh'
  | 'relu'
  | 'leaky_relu'
  | 'selu';

/**
 * The recommended gain for a nonlinearity (torch.nn.init.calculate_gain); `param` is leaky_relu's slope.
 * @example calculateGain('relu') // √2
 */
export function calculateGain(nonlinearity: Nonlinearity, param?: number): number {
  switch (nonlinearity) {
    case 'tanh':
      return 5 / 3;
    case 'relu':
      return Math.SQRT2;
    case 'leaky_relu': {
      const slope = param ?? 0.01;
      return Math.sqrt(2 / (1 + slope * slope));
    }
    case 'selu':
      return 3 / 4;
    case 'linear':
    case 'conv1d':
    case 'conv2d':
    case 'conv_transpose1d':
    case 'conv_transpose2d':
    case 'sigmoid':
      return 1;
    default:
      throw new TypeError(`calculateGain: unknown 'nonlinearity' '${String(nonlinearity)}'`);
  }
}

/**
 * torch's _calculate_fan_in_and_fan_out: dim 1 × receptive field, dim 0 × receptive field. For a
 * ConvTranspose weight (in, out/groups, k…) that makes fan_in = out/groups·k…, as torch does.
 */
export function fanInAndFanOut(shape: readonly number[]): { fanIn: number; fanOut: number } {
  if (shape.length < 2)
    throw new RangeError(`fan in and fan out need a tensor with >= 2 dims, got shape [${shape.join(', ')}]`);
  const receptive = shape.slice(2).reduce((a, b) => a * b, 1);
  return { fanIn: shape[1]! * receptive, fanOut: shape[0]! * receptive };
}

/** Fill with U(a, b) in place. */
export function uniform_(t: Tensor, a = 0, b = 1): Tensor {
  return noGrad(() => t.uniform_(a, b));
}

/** Fill with N(mean, std²) in place. */
export function normal_(t: Tensor, mean = 0, std = 1): Tensor {
  return noGrad(() => t.normal_(mean, std));
}

export function constant_(t: Tensor, v: number): Tensor {
  return noGrad(() => t.fill_(v));
}

export const zeros_ = (t: Tensor): Tensor => constant_(t, 0);
export const ones_ = (t: Tensor): Tensor => constant_(t, 1);

/** Glorot uniform: U(−b, b), b = gain·√(6 / (fan_in + fan_out)). */
export function xavierUniform_(t: Tensor, gain = 1): Tensor {
  const { fanIn, fanOut } = fanInAndFanOut(t.shape);
  const bound = gain * Math.sqrt(6 / (fanIn + fanOut));
  return uniform_(t, -bound, bound);
}

/** Glorot normal: N(0, std²), std = gain·√(2 / (fan_in + fan_out)). */
export function xavierNormal_(t: Tensor, gain = 1): Tensor {
  const { fanIn, fanOut } = fanInAndFanOut(t.shape);
  return normal_(t, 0, gain * Math.sqrt(2 / (fanIn + fanOut)));
}

export interface KaimingOptions {
  /** Negative slope of the following leaky_relu (default 0). */
  a?: number;
  mode?: 'fanIn' | 'fanOut';
  nonlinearity?: Nonlinearity;
}

function kaimingStd(t: Tensor, o: KaimingOptions): number {
  const { fanIn, fanOut } = fanInAndFanOut(t.shape);
  const fan = (o.mode ?? 'fanIn') === 'fanIn' ? fanIn : fanOut;
  if (fan === 0)
    throw new RangeError(`kaiming init of a tensor with zero ${o.mode ?? 'fanIn'} (shape [${t.shape.join(', ')}])`);
  return calculateGain(o.nonlinearity ?? 'leaky_relu', o.a ?? 0) / Math.sqrt(fan);
}

/**
 * He uniform: U(−b, b), b = √3 · gain / √fan (torch defaults: a = 0, fan_in, leaky_relu).
 * @example kaimingUniform_(w, { a: Math.sqrt(5) }) // Linear/Conv default: b = 1/√fan_in
 */
export function kaimingUniform_(t: Tensor, o: KaimingOptions = {}): Tensor {
  const bound = Math.sqrt(3) * kaimingStd(t, o);
  return uniform_(t, -bound, bound);
}

/** He normal: N(0, std²), std = gain / √fan. */
export function kaimingNormal_(t: Tensor, o: KaimingOptions = {}): Tensor {
  return normal_(t, 0, kaimingStd(t, o));
}

// ---- the defaults of torch.nn's layers (reset_parameters in 1.13) ----

/**
 * Linear and Conv*d (including ConvTranspose, whose fan_in comes from dim 1): weight kaiming_uniform_(a=√5),
 * i.e. U(±1/√fan_in); bias U(±1/√fan_in) with the weight's fan_in.
 */
export function defaultLinearInit(weight: Tensor, bias: Tensor | null): void {
  kaimingUniform_(weight, { a: Math.sqrt(5) });
  if (bias !== null) {
    const { fanIn } = fanInAndFanOut(weight.shape);
    const bound = fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
    uniform_(bias, -bound, bound);
  }
}

/** RNN, LSTM, GRU: every weight and bias U(±1/√hiddenSize). */
export function defaultRnnInit(params: readonly Tensor[], hiddenSize: number): void {
  const bound = 1 / Math.sqrt(hiddenSize);
  for (const p of params) uniform_(p, -bound, bound);
}
