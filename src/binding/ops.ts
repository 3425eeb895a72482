// The declared op table: every ATen op earmark calls, as `aten::name.overload`, with the JS arguments
// it takes in schema order (keyword-only arguments are passed positionally) and what it returns. The
// table is resolved to dispatcher ids once, when this module loads; `call` is native.call with these
// types, so a call site that passes the wrong arguments does not compile and nothing is added to the
// call path. The C++ side (native/src/dispatch.cc) converts each argument by the op's schema, which
// `native.schema(OP.x)` prints in full.
//
// To call a new op: add one line here (its name in the PyTorch 1.13 schema, native_functions.yaml),
// then `call(OP.name, ...)`. An op this libtorch lacks fails at load, naming it.
import { native, type Handle } from './native.js';

type H = Handle;
type Opt<T> = T | null;
/** A shape, or an `int[]` of dims. */
type Shape = readonly number[];
/** An `int[N]`: one integer for every dimension, or N of them. */
type Ints = number | Shape;
/** The trailing `dtype, layout, device` of factories: a ScalarType code (dtype.ts), always null, 'cpu' or 'cuda:N'. */
type Options = [dtype?: Opt<number>, layout?: null, device?: Opt<string>];
type Conv = [input: H, weight: H, bias?: Opt<H>, stride?: Ints, padding?: Ints, dilation?: Ints, groups?: number];
type ConvPadded = [
  input: H,
  weight: H,
  bias?: Opt<H>,
  stride?: Ints,
  padding?: 'same' | 'valid',
  dilation?: Ints,
  groups?: number,
];
type ConvTranspose = [
  input: H,
  weight: H,
  bias?: Opt<H>,
  stride?: Ints,
  padding?: Ints,
  outputPadding?: Ints,
  groups?: number,
  dilation?: Ints,
];
/** batch_norm and instance_norm (training = use_input_stats for the latter). */
type Norm = [
  input: H,
  weight: Opt<H>,
  bias: Opt<H>,
  runningMean: Opt<H>,
  runningVar: Opt<H>,
  training: boolean,
  momentum: number,
  eps: number,
  cudnnEnabled: boolean,
];
type Rnn<Hx> = [
  input: H,
  hx: Hx,
  params: readonly H[],
  hasBiases: boolean,
  numLayers: number,
  dropout: number,
  train: boolean,
  bidirectional: boolean,
  batchFirst: boolean,
];
type MaxPool = [self: H, kernelSize: Ints, stride?: Ints, padding?: Ints, dilation?: Ints, ceilMode?: boolean];
type Stft = [
  self: H,
  nFft: number,
  hopLength?: Opt<number>,
  winLength?: Opt<number>,
  window?: Opt<H>,
  center?: boolean,
  padMode?: 'reflect' | 'constant' | 'replicate' | 'circular',
  normalized?: boolean,
  onesided?: Opt<boolean>,
  returnComplex?: Opt<boolean>,
];
type Istft = [
  self: H,
  nFft: number,
  hopLength?: Opt<number>,
  winLength?: Opt<number>,
  window?: Opt<H>,
  center?: boolean,
  normalized?: boolean,
  onesided?: Opt<boolean>,
  length?: Opt<number>,
  returnComplex?: boolean,
];

declare const signature: unique symbol;

/** A resolved op: its dispatcher id, typed with the arguments it takes (A) and what it returns (R). */
export type OpId<A extends unknown[], R> = number & { readonly [signature]: (...args: A) => R };

/** An op's declaration: its schema name; the types ride along for `call`. */
interface OpDecl<A extends unknown[], R> {
  readonly schema: string;
  readonly [signature]?: (...args: A) => R;
}

const op = <A extends unknown[], R = H>(schema: string): OpDecl<A, R> => ({ schema });

const DECLARED = {
  // ---- Tensor methods (src/tensor/tensor*.ts) ----
  addT: op<[self: H, other: H, alpha?: number]>('aten::add.Tensor'),
  addS: op<[self: H, other: number, alpha?: number]>('aten::add.Scalar'),
  subT: op<[self: H, other: H, alpha?: number]>('aten::sub.Tensor'),
  subS: op<[self: H, other: number, alpha?: number]>('aten::sub.Scalar'),
  mulT: op<[self: H, other: H]>('aten::mul.Tensor'),
  mulS: op<[self: H, other: number]>('aten::mul.Scalar'),
  divT: op<[self: H, other: H]>('aten::div.Tensor'),
  divS: op<[self: H, other: number]>('aten::div.Scalar'),
  rsubS: op<[self: H, other: number, alpha?: number]>('aten::rsub.Scalar'),
  powS: op<[self: H, exponent: number]>('aten::pow.Tensor_Scalar'),
  powT: op<[self: H, exponent: H]>('aten::pow.Tensor_Tensor'),
  neg: op<[self: H]>('aten::neg'),
  abs: op<[self: H]>('aten::abs'),
  exp: op<[self: H]>('aten::exp'),
  log: op<[self: H]>('aten::log'),
  log1p: op<[self: H]>('aten::log1p'),
  sqrt: op<[self: H]>('aten::sqrt'),
  rsqrt: op<[self: H]>('aten::rsqrt'),
  sin: op<[self: H]>('aten::sin'),
  cos: op<[self: H]>('aten::cos'),
  sign: op<[self: H]>('aten::sign'),
  floor: op<[self: H]>('aten::floor'),
  ceil: op<[self: H]>('aten::ceil'),
  round: op<[self: H]>('aten::round'),
  square: op<[self: H]>('aten::square'),
  reciprocal: op<[self: H]>('aten::reciprocal'),
  atan2: op<[self: H, other: H]>('aten::atan2'),
  clamp: op<[self: H, min?: Opt<number>, max?: Opt<number>]>('aten::clamp'),
  sigmoid: op<[self: H]>('aten::sigmoid'),
  tanh: op<[self: H]>('aten::tanh'),
  relu: op<[self: H]>('aten::relu'),
  leakyRelu: op<[self: H, negativeSlope?: number]>('aten::leaky_relu'),
  hardtanh: op<[self: H, minVal?: number, maxVal?: number]>('aten::hardtanh'),
  softplus: op<[self: H, beta?: number, threshold?: number]>('aten::softplus'),
  elu: op<[self: H, alpha?: number, scale?: number, inputScale?: number]>('aten::elu'),
  gelu: op<[self: H, approximate?: string]>('aten::gelu'),
  silu: op<[self: H]>('aten::silu'),
  sum: op<[self: H, dtype?: Opt<number>]>('aten::sum'),
  sumDim: op<[self: H, dim: Opt<Ints>, keepdim?: boolean, dtype?: Opt<number>]>('aten::sum.dim_IntList'),
  mean: op<[self: H, dtype?: Opt<number>]>('aten::mean'),
  meanDim: op<[self: H, dim: Opt<Ints>, keepdim?: boolean, dtype?: Opt<number>]>('aten::mean.dim'),
  max: op<[self: H]>('aten::max'),
  maxDim: op<[self: H, dim: number, keepdim?: boolean], [values: H, indices: H]>('aten::max.dim'),
  min: op<[self: H]>('aten::min'),
  minDim: op<[self: H, dim: number, keepdim?: boolean], [values: H, indices: H]>('aten::min.dim'),
  maximum: op<[self: H, other: H]>('aten::maximum'),
  minimum: op<[self: H, other: H]>('aten::minimum'),
  amax: op<[self: H, dim?: Ints, keepdim?: boolean]>('aten::amax'),
  amin: op<[self: H, dim?: Ints, keepdim?: boolean]>('aten::amin'),
  argmax: op<[self: H, dim?: Opt<number>, keepdim?: boolean]>('aten::argmax'),
  argmin: op<[self: H, dim?: Opt<number>, keepdim?: boolean]>('aten::argmin'),
  varDim: op<[self: H, dim: Opt<Ints>, unbiased?: boolean, keepdim?: boolean]>('aten::var.dim'),
  stdDim: op<[self: H, dim: Opt<Ints>, unbiased?: boolean, keepdim?: boolean]>('aten::std.dim'),
  logsumexp: op<[self: H, dim: Ints, keepdim?: boolean]>('aten::logsumexp'),
  prod: op<[self: H, dtype?: Opt<number>]>('aten::prod'),
  cumsum: op<[self: H, dim: number, dtype?: Opt<number>]>('aten::cumsum'),
  norm: op<[self: H, ord?: number, dim?: Opt<Ints>, keepdim?: boolean, dtype?: Opt<number>]>(
    'aten::linalg_vector_norm',
  ),
  all: op<[self: H]>('aten::all'),
  any: op<[self: H]>('aten::any'),
  softmax: op<[self: H, dim: number, dtype?: Opt<number>]>('aten::softmax.int'),
  logSoftmax: op<[self: H, dim: number, dtype?: Opt<number>]>('aten::log_softmax.int'),
  matmul: op<[self: H, other: H]>('aten::matmul'),
  mm: op<[self: H, mat2: H]>('aten::mm'),
  bmm: op<[self: H, mat2: H]>('aten::bmm'),
  reshape: op<[self: H, shape: Shape]>('aten::reshape'),
  view: op<[self: H, size: Shape]>('aten::view'),
  permute: op<[self: H, dims: Shape]>('aten::permute'),
  transpose: op<[self: H, dim0: number, dim1: number]>('aten::transpose.int'),
  narrow: op<[self: H, dim: number, start: number, length: number]>('aten::narrow'),
  slice: op<[self: H, dim?: number, start?: Opt<number>, end?: Opt<number>, step?: number]>('aten::slice.Tensor'),
  select: op<[self: H, dim: number, index: number]>('aten::select.int'),
  squeeze: op<[self: H]>('aten::squeeze'),
  squeezeDim: op<[self: H, dim: number]>('aten::squeeze.dim'),
  unsqueeze: op<[self: H, dim: number]>('aten::unsqueeze'),
  expand: op<[self: H, size: Shape, implicit?: boolean]>('aten::expand'),
  flip: op<[self: H, dims: Shape]>('aten::flip'),
  repeat: op<[self: H, repeats: Shape]>('aten::repeat'),
  contiguous: op<[self: H]>('aten::contiguous'),
  clone: op<[self: H]>('aten::clone'),
  detach: op<[self: H]>('aten::detach'),
  flatten: op<[self: H, startDim?: number, endDim?: number]>('aten::flatten.using_ints'),
  chunk: op<[self: H, chunks: number, dim?: number], H[]>('aten::chunk'),
  split: op<[self: H, splitSize: number, dim?: number], H[]>('aten::split.Tensor'),
  pad: op<[self: H, pad: Shape, mode?: string, value?: Opt<number>]>('aten::pad'),
  indexSelect: op<[self: H, dim: number, index: H]>('aten::index_select'),
  gather: op<[self: H, dim: number, index: H, sparseGrad?: boolean]>('aten::gather'),
  index: op<[self: H, indices: readonly Opt<H>[]]>('aten::index.Tensor'),
  maskedFill: op<[self: H, mask: H, value: number]>('aten::masked_fill.Scalar'),
  where: op<[condition: H, self: H, other: H]>('aten::where.self'),
  whereScalar: op<[condition: H, self: H, other: number]>('aten::where.ScalarOther'),
  sort: op<[self: H, dim?: number, descending?: boolean], [values: H, indices: H]>('aten::sort'),
  topk: op<[self: H, k: number, dim?: number, largest?: boolean, sorted?: boolean], [values: H, indices: H]>(
    'aten::topk',
  ),
  oneHot: op<[self: H, numClasses?: number]>('aten::one_hot'),
  scatter: op<[self: H, dim: number, index: H, src: H]>('aten::scatter.src'),
  toDtype: op<[self: H, dtype: number, nonBlocking?: boolean, copy?: boolean]>('aten::to.dtype'),
  toDevice: op<[self: H, device: string, dtype: number, nonBlocking?: boolean, copy?: boolean]>('aten::to.device'),
  pinMemory: op<[self: H, device?: string | null]>('aten::pin_memory'),
  isPinned: op<[self: H, device?: string | null], boolean>('aten::is_pinned'),
  eqT: op<[self: H, other: H]>('aten::eq.Tensor'),
  eqS: op<[self: H, other: number]>('aten::eq.Scalar'),
  neT: op<[self: H, other: H]>('aten::ne.Tensor'),
  neS: op<[self: H, other: number]>('aten::ne.Scalar'),
  gtT: op<[self: H, other: H]>('aten::gt.Tensor'),
  gtS: op<[self: H, other: number]>('aten::gt.Scalar'),
  ltT: op<[self: H, other: H]>('aten::lt.Tensor'),
  ltS: op<[self: H, other: number]>('aten::lt.Scalar'),
  geT: op<[self: H, other: H]>('aten::ge.Tensor'),
  geS: op<[self: H, other: number]>('aten::ge.Scalar'),
  leT: op<[self: H, other: H]>('aten::le.Tensor'),
  leS: op<[self: H, other: number]>('aten::le.Scalar'),
  logicalNot: op<[self: H]>('aten::logical_not'),
  logicalAnd: op<[self: H, other: H]>('aten::logical_and'),
  logicalOr: op<[self: H, other: H]>('aten::logical_or'),
  isnan: op<[self: H]>('aten::isnan'),
  isfinite: op<[self: H]>('aten::isfinite'),
  stft: op<Stft>('aten::stft.center'),
  istft: op<Istft>('aten::istft'),
  viewAsReal: op<[self: H]>('aten::view_as_real'),
  viewAsComplex: op<[self: H]>('aten::view_as_complex'),
  stride: op<[self: H, dim: number], number>('aten::stride.int'),
  angle: op<[self: H]>('aten::angle'),
  polar: op<[abs: H, angle: H]>('aten::polar'),
  // in place (optimisers, init, loading weights): the result is self as a new handle, dropped by the caller
  add_: op<[self: H, other: H, alpha?: number]>('aten::add_.Tensor'),
  addS_: op<[self: H, other: number, alpha?: number]>('aten::add_.Scalar'),
  mul_: op<[self: H, other: H]>('aten::mul_.Tensor'),
  mulS_: op<[self: H, other: number]>('aten::mul_.Scalar'),
  div_: op<[self: H, other: H]>('aten::div_.Tensor'),
  addcmul_: op<[self: H, tensor1: H, tensor2: H, value?: number]>('aten::addcmul_'),
  addcdiv_: op<[self: H, tensor1: H, tensor2: H, value?: number]>('aten::addcdiv_'),
  copy_: op<[self: H, src: H, nonBlocking?: boolean]>('aten::copy_'),
  zero_: op<[self: H]>('aten::zero_'),
  fill_: op<[self: H, value: number]>('aten::fill_.Scalar'),
  clamp_: op<[self: H, min?: Opt<number>, max?: Opt<number>]>('aten::clamp_'),
  uniform_: op<[self: H, from?: number, to?: number]>('aten::uniform_'),
  normal_: op<[self: H, mean?: number, std?: number]>('aten::normal_'),
  lerp_: op<[self: H, end: H, weight: number]>('aten::lerp_.Scalar'),
  sqrt_: op<[self: H]>('aten::sqrt_'),
  // ---- factories, joins, windows (src/tensor/creation.ts) ----
  zeros: op<[size: Shape, ...Options]>('aten::zeros'),
  ones: op<[size: Shape, ...Options]>('aten::ones'),
  full: op<[size: Shape, fillValue: number, ...Options]>('aten::full'),
  empty: op<[size: Shape, ...Options]>('aten::empty.memory_format'),
  randn: op<[size: Shape, ...Options]>('aten::randn'),
  rand: op<[size: Shape, ...Options]>('aten::rand'),
  randint: op<[low: number, high: number, size: Shape, ...Options]>('aten::randint.low'),
  randperm: op<[n: number, ...Options]>('aten::randperm'),
  arange: op<[start: number, end: number, step?: number, ...Options]>('aten::arange.start_step'),
  linspace: op<[start: number, end: number, steps: number, ...Options]>('aten::linspace'),
  eye: op<[n: number, ...Options]>('aten::eye'),
  zerosLike: op<[self: H, ...Options]>('aten::zeros_like'),
  onesLike: op<[self: H, ...Options]>('aten::ones_like'),
  randnLike: op<[self: H, ...Options]>('aten::randn_like'),
  randLike: op<[self: H, ...Options]>('aten::rand_like'),
  fullLike: op<[self: H, fillValue: number, ...Options]>('aten::full_like'),
  cat: op<[tensors: readonly H[], dim?: number]>('aten::cat'),
  stack: op<[tensors: readonly H[], dim?: number]>('aten::stack'),
  bernoulli: op<[self: H, p: number]>('aten::bernoulli.p'),
  multinomial: op<[self: H, numSamples: number, replacement?: boolean]>('aten::multinomial'),
  hann: op<[windowLength: number, periodic: boolean, ...Options]>('aten::hann_window.periodic'),
  hamming: op<[windowLength: number, periodic: boolean, ...Options]>('aten::hamming_window.periodic'),
  // ---- torch.nn.functional (src/nn/functional.ts) ----
  linear: op<[input: H, weight: H, bias?: Opt<H>]>('aten::linear'),
  conv1d: op<Conv>('aten::conv1d'),
  conv1dPad: op<ConvPadded>('aten::conv1d.padding'),
  conv2d: op<Conv>('aten::conv2d'),
  conv2dPad: op<ConvPadded>('aten::conv2d.padding'),
  convTranspose1d: op<ConvTranspose>('aten::conv_transpose1d'),
  convTranspose2d: op<ConvTranspose>('aten::conv_transpose2d.input'),
  batchNorm: op<Norm>('aten::batch_norm'),
  instanceNorm: op<Norm>('aten::instance_norm'),
  layerNorm:
    op<[input: H, normalizedShape: Shape, weight?: Opt<H>, bias?: Opt<H>, eps?: number, cudnnEnable?: boolean]>(
      'aten::layer_norm',
    ),
  groupNorm:
    op<[input: H, numGroups: number, weight?: Opt<H>, bias?: Opt<H>, eps?: number, cudnnEnabled?: boolean]>(
      'aten::group_norm',
    ),
  lstm: op<Rnn<readonly H[]>, [output: H, h: H, c: H]>('aten::lstm.input'),
  gru: op<Rnn<H>, [output: H, h: H]>('aten::gru.input'),
  dropout: op<[input: H, p: number, train: boolean]>('aten::dropout'),
  featureDropout: op<[input: H, p: number, train: boolean]>('aten::feature_dropout'),
  maxPool1d: op<MaxPool>('aten::max_pool1d'),
  maxPool2d: op<MaxPool>('aten::max_pool2d'),
  avgPool2d:
    op<
      [
        self: H,
        kernelSize: Ints,
        stride?: Ints,
        padding?: Ints,
        ceilMode?: boolean,
        countIncludePad?: boolean,
        divisorOverride?: Opt<number>,
      ]
    >('aten::avg_pool2d'),
  adaptiveAvgPool2d: op<[self: H, outputSize: Ints]>('aten::adaptive_avg_pool2d'),
  pixelShuffle: op<[self: H, upscaleFactor: number]>('aten::pixel_shuffle'),
  pixelUnshuffle: op<[self: H, downscaleFactor: number]>('aten::pixel_unshuffle'),
  glu: op<[self: H, dim?: number]>('aten::glu'),
  prelu: op<[self: H, weight: H]>('aten::prelu'),
  embedding:
    op<[weight: H, indices: H, paddingIdx?: number, scaleGradByFreq?: boolean, sparse?: boolean]>('aten::embedding'),
  // ---- losses (src/nn/losses.ts) ----
  crossEntropy:
    op<[self: H, target: H, weight?: Opt<H>, reduction?: number, ignoreIndex?: number, labelSmoothing?: number]>(
      'aten::cross_entropy_loss',
    ),
  nll: op<[self: H, target: H, weight?: Opt<H>, reduction?: number, ignoreIndex?: number]>('aten::nll_loss_nd'),
  bceWithLogits: op<[self: H, target: H, weight?: Opt<H>, posWeight?: Opt<H>, reduction?: number]>(
    'aten::binary_cross_entropy_with_logits',
  ),
  mse: op<[self: H, target: H, reduction?: number]>('aten::mse_loss'),
  l1: op<[self: H, target: H, reduction?: number]>('aten::l1_loss'),
  smoothL1: op<[self: H, target: H, reduction?: number, beta?: number]>('aten::smooth_l1_loss'),
  // ---- audio (src/audio/functional.ts, mel.ts) ----
  expm1: op<[self: H]>('aten::expm1'),
  log10: op<[self: H]>('aten::log10'),
  powScalar: op<[self: number, exponent: H]>('aten::pow.Scalar'),
  // ---- gradient clipping (src/optim/clip.ts): torch.norm(g, p) is `_VF.norm(g, p, dim=all)` ----
  legacyNorm: op<[self: H, p: Opt<number>, dim: Ints, keepdim?: boolean]>('aten::norm.ScalarOpt_dim'),
};

type Resolved<T> = { readonly [K in keyof T]: T[K] extends OpDecl<infer A, infer R> ? OpId<A, R> : never };

function resolve<T extends Record<string, OpDecl<never, unknown>>>(table: T): Resolved<T> {
  const ids = Object.entries(table).map(([key, { schema }]): [string, number] => {
    const dot = schema.indexOf('.');
    return [
      key,
      dot < 0 ? native.resolveOp(schema, '') : native.resolveOp(schema.slice(0, dot), schema.slice(dot + 1)),
    ];
  });
  // fromEntries keeps V8's fast properties: a table of 200 keys assigned one by one ends in dictionary mode,
  // where every OP.x read on the hot path is an out-of-line lookup (~2% of a 1-element add)
  return Object.fromEntries(ids) as Resolved<T>;
}

/**
 * Every declared op, resolved to its dispatcher id.
 * @example const y = wrap(call(OP.addT, a.handle, b.handle, 1));
 */
export const OP = resolve(DECLARED);

/** The schema names of the declared ops, by key (e.g. OP_NAMES.addT === 'aten::add.Tensor'). */
export const OP_NAMES: Readonly<Record<keyof typeof DECLARED, string>> = Object.fromEntries(
  Object.entries(DECLARED).map(([k, d]) => [k, d.schema]),
) as Record<keyof typeof DECLARED, string>;

/**
 * Call a declared op: native.call, typed by the op's declaration (the same function, no wrapper).
 * @example const [values, indices] = call(OP.maxDim, x.handle, 1, false);
 */
export const call = native.call as <A extends unknown[], R>(id: OpId<A, R>, ...args: A) => R;
