// The paper's experiments (Wang et al. 2022 §8): fig3a (target speaker ID, protect gender), fig3b
// (target gender, protect speaker ID), fig4 (target speaker ID, attack gender and emotion), run as a list
// of named stages over one run context (stages.ts, attacks.ts, inversion.ts, baseline-stage.ts). After
// EVERY stage report.json and report.html are rewritten, so a run that fails keeps what it computed: a
// failed stage is marked failed with its error; the stages that need it are not run; independent ones
// (inversion, edge, each baseline) still are. Each stage resumes from its checkpoints in the run folder.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { EarmarkError } from '../../errors.js';
import type { AmpDtype } from '../../tensor/index.js';
import { writeFileAtomicSync } from '../../util/atomic.js';
import { deployedWindow } from '../../methods/obfuscator.js';
import { disposeAttacks, attackStage, cleanStage, type AttackStage } from './attacks.js';
import { mcadamsStage, xvectorStage } from './baseline-stage.js';
import { EXPERIMENTS, type ExperimentConfig } from './config.js';
import type { RunContext } from './context.js';
import { inversionStage } from './inversion.js';
import { writeReportHtml, type ReportAssets } from './report.js';
import type { ExperimentReport, StageRecord } from './schema.js';
import {
  dataStage,
  deployStage,
  edgeStage,
  obfuscatorStage,
  targetOnOutputs,
  targetStage,
  warmupStage,
  type DataStage,
  type DeployStage,
} from './stages.js';
import type { DeepSpeech2 } from '../../models/deepspeech2.js';
import { protocolNotes, verdicts } from './verdicts.js';

export interface RunExperimentOptions {
  config: ExperimentConfig;
  runDir: string;
  /** Continue from the checkpoints in runDir (default true: finished stages are never redone). */
  resume?: boolean;
  /**
   * A checkpoint made with another config or other inputs than this run's: retrain that stage with a log
   * line naming the keys that differ (true, the default), or refuse with an error naming them (false).
   */
  retrain?: boolean;
  log?: (line: string) => void;
  /** Where T, the obfuscator and the attackers train: 'cpu', 'cuda', 'cuda:N' (default: cuda if present, else cpu). */
  device?: string;
  /** Mixed precision of those trainers ('bfloat16', 'float16' on CUDA; default off). */
  amp?: AmpDtype | null;
  /**
   * Which stages run (default 'all'). 'shared': the data, T, the clean classifiers and the obfuscator's
   * identity warm-up only, what a sweep's points share. 'baselines': those plus the configured baselines (McAdams, ADR), without an obfuscator.
   */
  stages?: ExperimentStages;
}

export type ExperimentStages = 'all' | 'shared' | 'baselines';

/** The first error of a run whose stages failed (report.json marks each; the other results are kept). */
export class ExperimentStageError extends EarmarkError {
  readonly report: ExperimentReport;
  constructor(report: ExperimentReport, failed: StageRecord[], options?: { cause?: unknown }) {
    const cause = (options?.cause ?? {}) as { code?: string };
    const code =
      typeof cause.code === 'string' && cause.code.startsWith('EARMARK_')
        ? (cause.code as EarmarkError['code'])
        : 'EARMARK_STAGE';
    super(
      code,
      `stage${failed.length > 1 ? 's' : ''} ${failed.map((s) => s.name).join(', ')} failed: ${failed[0]!.error}; ` +
        'the results of the other stages are in report.json and report.html',
      options,
    );
    this.report = report;
  }
}

/**
 * Run one experiment end to end; report.json and report.html are written into runDir after every stage.
 * @example const r = await runExperiment({ config: resolveExperimentConfig('cpu', { experiment: 'fig4', dataset }), runDir: 'runs/fig4' });
 */
export async function runExperiment(o: RunExperimentOptions): Promise<ExperimentReport> {
  const run = createRunContext(o);
  const stageNotes = run.report.notes;
  let assets: ReportAssets | undefined;
  const write = async (final = false): Promise<void> => {
    const r = run.report;
    r.notes = [...stageNotes];
    r.notes.push(...protocolNotes(r));
    r.verdicts = verdicts(r);
    r.createdAt = new Date().toISOString();
    writeFileAtomicSync(path.join(run.runDir, 'report.json'), JSON.stringify(r, null, 1));
    await writeReportHtml(path.join(run.runDir, 'report.html'), r, final ? assets : undefined);
    r.notes = stageNotes;
  };
  const failed: StageRecord[] = [];
  let firstError: unknown;
  /** Run one stage, record it, write the report; a failure is recorded and rethrown only when `required`. */
  const stage = async <T>(name: string, f: () => Promise<T> | T, required = true): Promise<T | undefined> => {
    const t0 = Date.now();
    const rec: StageRecord = { name, status: 'done', seconds: 0 };
    try {
      return await f();
    } catch (e) {
      rec.status = 'failed';
      rec.error = (e as Error).message ?? String(e);
      failed.push(rec);
      firstError ??= e;
      run.log(`[${name}] FAILED: ${rec.error}`);
      if (required) throw e;
      return undefined;
    } finally {
      rec.seconds = (Date.now() - t0) / 1000;
      run.report.stages.push(rec);
      await write();
    }
  };
  const must = async <T>(name: string, f: () => Promise<T> | T): Promise<T> => (await stage(name, f)) as T;

  let attacks: AttackStage | undefined;
  const models: { dispose(): void }[] = [];
  try {
    const d = await must('data', () => dataStage(run));
    const target = await must('target', () => targetStage(run, d));
    models.push(target.model);
    if (o.stages === 'shared' || o.stages === 'baselines') {
      attacks = await must('clean-attackers', () => cleanStage(run, d));
      if (o.stages === 'shared') await must('obfuscator-warmup', () => warmupStage(run, d));
      if (o.stages === 'baselines') await baselineStages(run, d, target.model, attacks, undefined, stage);
      await write(true);
      if (failed.length) throw firstError; // ExperimentStageError below, after the models are freed
      return run.report;
    }
    const obf = await must('obfuscator', () => obfuscatorStage(run, d, target));
    models.push(obf.obfuscator, obf.deobfuscator);
    const dep = await must('deploy', () => deployStage(run, d, obf));
    const r = run.report.deployed!;
    assets = {
      data: d.data,
      onnx: dep.onnx,
      window: { ...deployedWindow(run.config.obfuscatorTrain), outputMean: r.outputMean, outputStd: r.outputStd },
      synthesis: run.config.synthesis,
      deobfuscator: obf.deobfuscator,
      examples: run.config.reportExamples,
    };
    await must('outputs', () => targetOnOutputs(run, target, dep));
    attacks = await must('attacks', () => attackStage(run, d, dep, obf, '', target.model));
    const a = attacks;
    if (run.config.inversion.formats.length && run.config.inversion.networks.length)
      await stage('inversion', () => inversionStage(run, d, dep, a), false);
    await stage('edge', () => edgeStage(run, d, target, obf, dep, a.informed), false);
    await baselineStages(run, d, target.model, a, dep, stage);
    await write(true);
  } catch (e) {
    if (failed.length === 0) throw e; // not a stage's failure: nothing was marked
  } finally {
    if (attacks) disposeAttacks(attacks);
    for (const m of models) m.dispose();
  }
  if (failed.length) throw new ExperimentStageError(run.report, failed, { cause: firstError });
  return run.report;
}

/** McAdams and the x-vector baselines (ADR, verification), each a stage whose failure is recorded, not thrown. */
async function baselineStages(
  run: RunContext,
  d: DataStage,
  target: DeepSpeech2,
  a: AttackStage,
  dep: DeployStage | undefined,
  stage: <T>(name: string, f: () => Promise<T> | T, required: boolean) => Promise<T | undefined>,
): Promise<void> {
  const c = run.config.baselines;
  if (c.mcadams || c.adr || c.verification) run.report.baselines = { notes: [] };
  const mc = c.mcadams ? await stage('mcadams', () => mcadamsStage(run, d, target, a), false) : undefined;
  if (c.adr || c.verification) await stage('xvector-baselines', () => xvectorStage(run, d, dep, mc), false);
}

/**
 * The context every stage runs in: the run folder (created, with config.json), the log, the timings and an
 * empty report. runExperiment makes one; a sweep makes one to call the stages and attackerSet itself.
 */
export function createRunContext(o: RunExperimentOptions): RunContext {
  const config = o.config;
  mkdirSync(o.runDir, { recursive: true });
  writeFileAtomicSync(path.join(o.runDir, 'config.json'), JSON.stringify(config, null, 2));
  const spec = EXPERIMENTS[config.experiment];
  const seconds: Record<string, number> = {};
  const report: ExperimentReport = {
    format: 'earmark-experiment-report',
    version: 2,
    experiment: config.experiment,
    title: spec.title,
    dataset: { name: '', root: '', counts: {}, skipped: 0 },
    config,
    stages: [],
    notes: [],
    verdicts: [],
    seconds,
    createdAt: new Date().toISOString(),
  };
  return {
    config,
    spec,
    runDir: o.runDir,
    resume: o.resume ?? true,
    retrain: o.retrain ?? true,
    log: o.log ?? ((l: string) => console.error(l)),
    placement: { device: o.device, amp: o.amp ?? null },
    seconds,
    report,
  };
}
