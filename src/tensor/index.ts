export { Tensor, REDUCTION, wrap, wrapAll, type Shape, type ScalarOrTensor } from './tensor.js';
export * from './creation.js';
export { tidy, keep, memory, dispose } from './scope.js';
export * from './device.js';
export type { DType, TypedArray } from '../binding/dtype.js';
