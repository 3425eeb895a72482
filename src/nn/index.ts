// earmark's nn: Module, layers, functional ops, losses and init, under torch's names.
export { Module, Sequential, ModuleList, type Layer } from './module.js';
export * from './linear.js';
export * from './conv.js';
export * from './norm.js';
export * from './rnn.js';
export * from './dropout.js';
export * from './pool.js';
export * from './shape.js';
export * from './activation.js';
export * from './losses.js';
export * as functional from './functional.js';
export * as init from './init.js';
export { gradReverse, type IntOrTuple, type ConvPadding } from './functional.js';
export { type TensorPlacement } from './init.js';
