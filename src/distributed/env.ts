// torchrun's environment contract, read once: MASTER_ADDR/MASTER_PORT (where rank 0's TCPStore listens),
// RANK/WORLD_SIZE (this process among all), LOCAL_RANK/LOCAL_WORLD_SIZE (among this machine's). The same
// variables come from `earmark launch`, torchrun, or a cluster script starting one process per GPU.
import { EarmarkError } from '../errors.js';

export interface TorchrunEnv {
  masterAddr: string;
  masterPort: number;
  rank: number;
  worldSize: number;
  localRank: number;
  localWorldSize: number;
}

/** True when the environment describes a multi-process job (WORLD_SIZE set). */
export function isDistributedEnv(env: NodeJS.ProcessEnv = process.env): boolean {
  return env['WORLD_SIZE'] !== undefined && env['WORLD_SIZE'] !== '';
}

/**
 * Read and check torchrun's variables. Without WORLD_SIZE this is a single process (rank 0 of 1) on
 * 127.0.0.1; a malformed variable throws EarmarkError('EARMARK_DISTRIBUTED') naming it.
 * @example const { rank, worldSize } = readTorchrunEnv();
 */
export function readTorchrunEnv(env: NodeJS.ProcessEnv = process.env): TorchrunEnv {
  const int = (name: string, dflt: number, min: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return dflt;
    const v = Number(raw);
    if (!Number.isInteger(v) || v < min) {
      throw new EarmarkError(
        'EARMARK_DISTRIBUTED',
        `environment variable ${name}='${raw}' must be an integer >= ${min}; ` +
          'start the job with `earmark launch --nproc N -- …` or torchrun, which set it',
      );
    }
    return v;
  };
  const worldSize = int('WORLD_SIZE', 1, 1);
  const rank = int('RANK', 0, 0);
  if (rank >= worldSize) {
    throw new EarmarkError(
      'EARMARK_DISTRIBUTED',
      `RANK=${rank} is not below WORLD_SIZE=${worldSize}; every rank runs with 0 <= RANK < WORLD_SIZE`,
    );
  }
  const localWorldSize = int('LOCAL_WORLD_SIZE', worldSize, 1);
  const localRank = int('LOCAL_RANK', rank % localWorldSize, 0);
  const masterPort = int('MASTER_PORT', 29500, 1);
  if (masterPort > 65535)
    throw new EarmarkError('EARMARK_DISTRIBUTED', `MASTER_PORT=${masterPort} is not a TCP port (1..65535)`);
  const masterAddr = env['MASTER_ADDR'] || '127.0.0.1';
  if (worldSize > 1 && env['MASTER_PORT'] === undefined) {
    throw new EarmarkError(
      'EARMARK_DISTRIBUTED',
      `WORLD_SIZE=${worldSize} but MASTER_PORT is not set; set MASTER_ADDR and ` +
        "MASTER_PORT to rank 0's host and a free port on it (earmark launch and torchrun do this)",
    );
  }
  return { masterAddr, masterPort, rank, worldSize, localRank, localWorldSize };
}

/** Whether `host` names this machine's loopback interface. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}
