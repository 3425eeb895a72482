// torch.optim for earmark: optimisers, gradient clipping, learning-rate schedules, state files.
export {
  Optimizer,
  type OptimizerStateDict,
  type OptimizerMeta,
  type ParamGroup,
  type ParamsArg,
  type ParamState,
  type HyperValue,
  type StatefulOptimizer,
} from './optimizer.js';
export { SGD, type SGDOptions, type SGDHyper } from './sgd.js';
export { Adam, AdamW, type AdamOptions, type AdamHyper } from './adam.js';
export { clipGradNorm_, clipGradValue_ } from './clip.js';
export { StepLR, ReduceLROnPlateau, type LRScheduler, type ReduceLROnPlateauOptions } from './lr-scheduler.js';
export {
  encodeOptimizerState,
  decodeOptimizerState,
  saveOptimizerState,
  saveOptimizerStateSync,
  loadOptimizerState,
  loadOptimizerStateSync,
  OPTIMIZER_KEY,
  SCHEDULER_KEY,
  type OptimizerStateOptions,
} from './state-file.js';
export { GradScaler, type GradScalerOptions, type GradScalerState, type ScalableOptimizer } from './grad-scaler.js';
