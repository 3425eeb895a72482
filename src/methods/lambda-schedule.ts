// λ_p's schedule (issue 14, item 5): the privacy weight of L_σ = λ_t·L_t − λ_p·L_p as a function of
// training progress. Unset, λ_p is constant (the paper, the reference row). Set, the obfuscator first
// learns the task alone (λ_p = 0 for `warmup` epochs), then λ_p rises linearly to its value over `ramp`
// epochs, so the privacy term pushes an obfuscator T can already read instead of a random one.
// Progress counts in epochs with a fraction per batch, so the ramp is smooth within an epoch.
import { check } from '../config/resolve.js';

export interface LambdaPSchedule {
  /** Epochs (fractional allowed) at λ_p = 0, from the start of joint training. */
  warmup: number;
  /** Epochs over which λ_p then rises linearly from 0 to its value; 0 = a step at the end of warmup. */
  ramp: number;
}

/**
 * λ_p at `progress` epochs (epoch + batch / batches) under `schedule` (undefined = constant λ_p).
 * @example lambdaPAt(3, { warmup: 1, ramp: 2 }, 2) // 1.5: half-way up the ramp
 */
export function lambdaPAt(lambdaP: number, schedule: LambdaPSchedule | undefined, progress: number): number {
  if (schedule === undefined) return lambdaP;
  if (progress < schedule.warmup) return 0;
  if (schedule.ramp === 0) return lambdaP;
  return lambdaP * Math.min(1, (progress - schedule.warmup) / schedule.ramp);
}

/**
 * Whether epoch `epoch` (0-based) of `epochs` competes in the obfuscator's checkpoint selection: it ends at the
 * full λ_p (always, without a schedule), or it is the last epoch (a schedule longer than the run).
 * @example competesInSelection({ warmup: 1, ramp: 1 }, 0, 4) // false: epoch 0 trains at λ_p = 0
 */
export function competesInSelection(schedule: LambdaPSchedule | undefined, epoch: number, epochs: number): boolean {
  return schedule === undefined || epoch + 1 >= schedule.warmup + schedule.ramp || epoch === epochs - 1;
}

/** Refuse a schedule that is not two finite numbers >= 0 (naming the config and the key). */
export function checkLambdaPSchedule(where: string, s: unknown): void {
  if (s === undefined) return;
  const o = s as Partial<Record<string, unknown>>;
  const ok =
    s !== null &&
    typeof s === 'object' &&
    !Array.isArray(s) &&
    Object.keys(o).every((k) => k === 'warmup' || k === 'ramp') &&
    [o['warmup'], o['ramp']].every((v) => typeof v === 'number' && Number.isFinite(v) && v >= 0);
  check(ok, where, 'lambdaPSchedule', '{ "warmup": epochs >= 0, "ramp": epochs >= 0 } (or absent: constant λ_p)', s);
}
