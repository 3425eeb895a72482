// The attacker set of ONE obfuscator, as a function (issue 11): what a sweep over obfuscators (λ values,
// epochs, architectures) calls for each one, with the same protocol as the experiment itself:
//   deploy     export it to ONNX with the training set's fixed output level; every utterance through the
//              deployed windowed rule, as frames and as phase-free PCM re-analysed as an app would;
//   outputs    T on each shipped format of the task's test set;
//   attacks    per protected attribute and protocol: the clean classifier (shared by every obfuscator of the
//              run), the ignorant attacker, informed attackers retrained on each format's shipped TRAINING
//              output, and the co-trained deobfuscator (in-training, optimistic);
//   inversion  fresh inversion networks trained against this frozen obfuscator, judged by the clean classifiers;
// then the verdicts from the 95% intervals. Every file it writes (ONNX, informed and inversion checkpoints)
// is named `<prefix>…` in the run folder, so that obfuscators do not overwrite each other and a resumed
// sweep reloads them.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { ObfuscatorRun } from '../../methods/obfuscator.js';
import type { ClassScores } from '../metrics.js';
import { attackStage, disposeAttacks } from './attacks.js';
import type { OutputFormat } from './config.js';
import type { RunContext } from './context.js';
import { inversionStage } from './inversion.js';
import type { AttackResult, ExperimentReport, InversionRecord, Verdict } from './schema.js';
import { deployStage, targetOnOutputs, type DataStage, type TargetStage } from './stages.js';
import { verdicts } from './verdicts.js';

export interface AttackerSetOptions {
  /** Put before every file name it writes in the run folder, e.g. 'sweep/lambda-p-3/' ('' = the experiment's own names). */
  prefix?: string;
  /** Train the fresh inversion networks the config lists (default true; they are the costliest attackers). */
  inversion?: boolean;
}

/** What one obfuscator's attacker set found (the same shapes as report.json's fields). */
export interface AttackerSet {
  deployed: NonNullable<ExperimentReport['deployed']>;
  /** T on each shipped format of the task's test set (its clean score is the run's `report.target.clean`). */
  target: Partial<Record<OutputFormat, ClassScores>>;
  attacks: AttackResult[];
  inversion: InversionRecord[];
  /** The verdicts of these results alone (baselines are not compared here). */
  verdicts: Verdict[];
}

/**
 * Judge one obfuscator with the full attacker set on what ships (frames and re-analysed PCM, every
 * protocol). `run`, `d` and `target` come from createRunContext, dataStage and targetStage; the run's
 * report is not changed.
 * @example
 * const run = createRunContext({ config, runDir });
 * const d = await dataStage(run);
 * const target = await targetStage(run, d);
 * const obf = await trainObfuscator({ target: target.model, ... });
 * const set = await attackerSet(run, d, target, obf, { prefix: 'sweep/lambda-p-3/' });
 */
export async function attackerSet(
  run: RunContext,
  d: DataStage,
  target: TargetStage,
  obf: Pick<ObfuscatorRun, 'obfuscator' | 'deobfuscator'>,
  o: AttackerSetOptions = {},
): Promise<AttackerSet> {
  const prefix = o.prefix ?? '';
  if (prefix.includes('..') || path.isAbsolute(prefix))
    throw new RangeError(`attackerSet: prefix '${prefix}' must be a relative name inside the run folder`);
  mkdirSync(path.dirname(path.join(run.runDir, `${prefix}x`)), { recursive: true });
  if (run.report.target === undefined)
    throw new RangeError('attackerSet: run targetStage first (T is scored on the shipped outputs)');
  const { baselines: _b, verification: _v, edge: _e, deployed: _d, ...rest } = run.report;
  const report: ExperimentReport = {
    ...rest,
    target: { ...run.report.target, formats: {} },
    attacks: [],
    inversion: [],
    stages: [],
    notes: [],
    verdicts: [],
  };
  const child: RunContext = { ...run, report };
  const dep = await deployStage(child, d, obf, prefix);
  targetOnOutputs(child, target, dep);
  const attacks = await attackStage(child, d, dep, obf, prefix, target.model);
  try {
    if ((o.inversion ?? true) && run.config.inversion.formats.length && run.config.inversion.networks.length)
      await inversionStage(child, d, dep, attacks, prefix);
  } finally {
    disposeAttacks(attacks);
  }
  return {
    deployed: report.deployed!,
    target: report.target!.formats,
    attacks: report.attacks!,
    inversion: report.inversion!,
    verdicts: verdicts(report),
  };
}
