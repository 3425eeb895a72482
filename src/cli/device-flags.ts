// --device and --amp of the training commands, and the process group of a data-parallel job: under
// `earmark launch --nproc N -- …`, torchrun or a cluster script (WORLD_SIZE > 1 in the environment), every
// rank joins one c10d group (NCCL on CUDA where the addon has it, else Gloo) and trains on its own device,
// cuda:LOCAL_RANK when --device is 'cuda'.
import { EarmarkError } from '../errors.js';
// The libtorch-using modules load inside placementFromFlags, so that --help and usage errors answer without libtorch.
import type { ProcessGroup } from '../distributed/index.js';
import type { AmpDtype } from '../tensor/index.js';
import { flagTable } from './args.js';

export const DEVICE_FLAGS = flagTable({
  device: {
    type: 'string',
    description:
      'cpu, cuda or cuda:N (default: cuda when this libtorch has a GPU, else cpu; under a launcher, cuda means cuda:LOCAL_RANK)',
  },
  amp: {
    type: 'string',
    choices: ['off', 'bf16', 'fp16'],
    description: 'mixed precision through autocast: bf16 (CPU and CUDA) or fp16 (CUDA, with loss scaling)',
    default: 'off',
  },
});

/** What the training library functions take, and the group to close at the end. */
export interface CliPlacement {
  device: string;
  amp: AmpDtype | null;
  processGroup: ProcessGroup | null;
  /** This process's rank (0 without a launcher): only rank 0 prints the results. */
  rank: number;
  close(): Promise<void>;
}

/**
 * Resolve --device and --amp, and join the data-parallel job when the environment describes one.
 * @param dataParallel false for commands that run in one process (they refuse WORLD_SIZE > 1, naming it)
 */
export async function placementFromFlags(
  o: { device?: string | undefined; amp: string },
  command: string,
  dataParallel = true,
): Promise<CliPlacement> {
  const { distributedAvailable, initProcessGroup, isDistributedEnv, readTorchrunEnv } =
    await import('../distributed/index.js');
  const { defaultDevice, parseAmp, resolveDevice } = await import('../tensor/index.js');
  const { resolvePlacement } = await import('../methods/placement.js');
  const amp = parseAmp(o.amp, '--amp');
  const env = readTorchrunEnv();
  const distributed = isDistributedEnv() && env.worldSize > 1;
  if (distributed && !dataParallel) {
    throw new EarmarkError(
      'EARMARK_DISTRIBUTED',
      `\`earmark ${command}\` runs in one process, but WORLD_SIZE=${env.worldSize}: run it without ` +
        '`earmark launch`/torchrun (data-parallel training is for train-target and train-obfuscator)',
    );
  }
  let device = resolveDevice(o.device ?? defaultDevice(), '--device');
  if (distributed && device !== 'cpu' && (o.device === undefined || o.device === 'cuda'))
    device = resolveDevice(`cuda:${env.localRank}`, '--device (cuda:LOCAL_RANK)');
  resolvePlacement({ device, amp }); // --amp fp16 on the CPU fails here, before any data is read
  if (!distributed) return { device, amp, processGroup: null, rank: 0, close: async () => undefined };
  const backend = device !== 'cpu' && distributedAvailable().nccl ? 'nccl' : 'gloo';
  const pg = await initProcessGroup({ backend });
  return { device, amp, processGroup: pg, rank: pg.rank, close: () => pg.destroy() };
}
