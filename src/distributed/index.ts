// Data-parallel training on torch's own c10d: process groups, gradient all-reduce, sharded sampling,
// rank-0 helpers and the local launcher.
export { readTorchrunEnv, isDistributedEnv, isLoopback, type TorchrunEnv } from './env.js';
export {
  DEFAULT_TIMEOUT_MS,
  ProcessGroup,
  distributedAvailable,
  initProcessGroup,
  type Backend,
  type ProcessGroupOptions,
  type ReduceOp,
} from './process-group.js';
export {
  DEFAULT_BUCKET_BYTES,
  allReduceGradients,
  broadcastParameters,
  planBuckets,
  syncBuffers,
} from './data-parallel.js';
export { DistributedSampler, sampleRng, type DistributedSamplerOptions } from './sampler.js';
export { isRank0, logRank0, onRank0 } from './rank0.js';
export { freePort, launch, rankEnv, type LaunchOptions, type LaunchResult } from './launch.js';
