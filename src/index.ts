// earmark's public surface: what `import … from 'earmark'` gives a dependent project (package.json's
// "exports" "."). Top level: the tensor engine under torch's names, the models, the training methods,
// the export to ONNX, the edge runtime and sensor, and the experiments. Namespaces, as torch has them:
// nn, optim, audio, data, rdal, distributed. Importing this module loads the native addon (libtorch); the edge path
// alone needs only onnxruntime.
//
// @example
// import { tensor, tidy, nn, DeepSpeech2, resolveDeepSpeech2Config, runExperiment } from 'earmark';
export { EarmarkError, type EarmarkErrorCode } from './errors.js';

// ---- tensors, layers, optimisers, formats ----
export * from './tensor/index.js';
export * as nn from './nn/index.js';
export * as optim from './optim/index.js';
export * from './serialize/index.js';

// ---- audio and data ----
export * as audio from './audio/index.js';
export * as data from './data/index.js';
export {
  loadExperimentData,
  DATASET_DEFAULTS,
  type DatasetOptions,
  type ExperimentData,
  type SplitSets,
} from './data/experiment-data.js';
export type { LabelledSet, SpecSet } from './data/spec-set.js';

// ---- models ----
export * from './models/deepspeech2.js';
export * from './models/cyclegan-vc2.js';
export * from './models/sed-cnn.js';
export * from './models/xvector.js';
export * from './models/adr.js';
export * from './models/vector-classifier.js';

// ---- training methods ----
export * from './methods/classifier.js';
export * from './methods/obfuscator.js';
export * from './methods/losses.js';
export {
  saveCheckpoint,
  loadCheckpoint,
  loadModuleWeights,
  readCheckpointState,
  type CheckpointParts,
} from './methods/checkpoint.js';
export * from './methods/adr.js';
export * from './methods/xvector.js';
export * from './methods/vector-classifier.js';
export * as rdal from './methods/rdal/index.js';

// ---- data-parallel training (torch's c10d) ----
export * as distributed from './distributed/index.js';

// ---- from libtorch to ONNX ----
export * from './deploy/export.js';
export * from './deploy/int8-cost.js';

// ---- on the device (onnxruntime only) ----
export { OnnxSession, type FloatArray, type SessionOptions } from './edge/runtime.js';
export {
  StreamingObfuscator,
  obfuscateOffline,
  obfuscateSpectrogram,
  algorithmicLatency,
  windowPlan,
  WINDOW_DEFAULTS,
  type WindowConfig,
} from './edge/obfuscate.js';
export { obfuscateFile, obfuscatePcmStream, windowFromModel, SAMPLE_RATE } from './edge/obfuscate-io.js';
export { Ds2Frontend, ds2SpectrogramTs } from './edge/spectrogram.js';
export { PrivacySensor, type ServiceOptions } from './edge/service.js';
export { arecordSource, fileLoopSource, pcmStreamSource, type AudioSource } from './edge/sources.js';
export { TokenStore, type Grant } from './edge/tokens.js';
export { edgeSpeed } from './edge/speed.js';

// ---- judging and experiments ----
export * from './eval/metrics.js';
export * from './eval/eer.js';
export * from './eval/roc.js';
export * from './eval/baselines.js';
export * from './eval/verification.js';
export * from './eval/optin/config.js';
export type {
  AttackResult,
  ExperimentReport,
  FormatAttack,
  InversionRecord,
  StageRecord,
  Verdict,
} from './eval/optin/schema.js';
export { runExperiment, type RunExperimentOptions } from './eval/optin/run.js';
export {
  floorMarkdown,
  taskOutputFloor,
  type FloorFold,
  type FloorOptions,
  type FloorPooled,
  type FloorReport,
} from './eval/optin/floor.js';
export { summaryTable, verdicts } from './eval/optin/summary.js';
export { writeReportHtml } from './eval/optin/report.js';
export { runSweep, type RunSweepOptions, type SweepReport, type SweepPointRecord } from './eval/sweep/run.js';
export * from './eval/sweep/grid.js';
export * from './eval/sweep/frontier.js';
export { exportChoice, choiceMetadata } from './eval/sweep/choice.js';
export { chooseBySeeds, seedGroups, type SeedGroup, type Spread } from './eval/sweep/seeds.js';
export {
  runTrainTarget,
  runTrainObfuscator,
  loadTarget,
  type TrainTargetOptions,
  type TrainTargetResult,
  type TrainObfuscatorOptions as RunTrainObfuscatorOptions,
} from './eval/optin/pipeline.js';
export { runRdalExperiment, evaluateRdal, type RdalExperimentOptions } from './eval/rdal/run.js';
export type { RdalReport, RdalRunMetrics, RdalSummaryRow } from './eval/rdal/schema.js';
