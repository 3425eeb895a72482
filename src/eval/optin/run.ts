// The paper's experiments (Wang et al. 2022 §8): fig3a (target speaker ID, protect gender), fig3b
// (target gender, protect speaker ID), fig4 (target speaker ID, attack gender and emotion), run as a list
// of named stages over one run context. Each stage resumes from its checkpoints in the run folder:
//   data        corpus → splits → cached DS2 features
//   target      T, the permitted task's model, on clean training audio
//   obfuscator  F_σ and F_μ against the frozen T
//   obfuscate   every split set through F_σ
//   attacks     per non-permitted attribute: a clean classifier (the paper's circles), the ignorant
//               attacker (clean model on obfuscated audio), the informed attacker (trained on obfuscated
//               training audio) and a reconstruction attacker (clean model on F_μ's output)
//   edge        the obfuscator as deployed (ONNX, windowed rule) and what int8 costs T and the attackers
//   baselines   McAdams and ADR judged by the same attackers; speaker-verification EERs
//   report      report.json and report.html
// Every attacker has T's architecture.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { classNames, type ExperimentData } from '../../data/experiment-data.js';
import type { ObfuscatorRun } from '../../methods/obfuscator.js';
import { writeFileAtomicSync } from '../../util/atomic.js';
import type { VerificationResult } from '../verification.js';
import { EXPERIMENTS, type AttackResult, type ExperimentConfig, type ExperimentReport } from './config.js';
import { writeReportHtml } from './report.js';
import {
  attackStage, baselineStage, dataStage, edgeStage, obfuscateStage, obfuscatorStage, scoreTarget, targetStage,
  type RunContext, type TargetScores, type TargetStage,
} from './stages.js';
import { verdicts } from './summary.js';

export interface RunExperimentOptions {
  config: ExperimentConfig;
  runDir: string;
  /** Continue from the checkpoints in runDir (default true: finished stages are never redone). */
  resume?: boolean;
  log?: (line: string) => void;
}

/**
 * Run one experiment end to end and write report.json and report.html into runDir.
 * @example const r = await runExperiment({ config: resolveExperimentConfig('cpu', { experiment: 'fig4', dataset }), runDir: 'runs/fig4' });
 */
export async function runExperiment(o: RunExperimentOptions): Promise<ExperimentReport> {
  const run = startRun(o);
  const data = await dataStage(run);
  const target = await targetStage(run, data);
  const obf = await obfuscatorStage(run, data, target);
  const obfSets = await obfuscateStage(run, data, obf);
  const targetScores = scoreTarget(run, target, obf);
  const attacks = await attackStage(run, data, obf, obfSets);
  const edge = await edgeStage(run, data, target, obf, attacks);
  for (const a of Object.values(attacks.informed)) a.model.dispose();
  const baselines = await baselineStage(run, data, target.model, obfSets, attacks.clean);
  for (const m of Object.values(attacks.clean)) m.dispose();
  const report = await reportStage(run, data, target, targetScores, obf, attacks.results, baselines, edge);
  target.model.dispose();
  obf.obfuscator.dispose();
  obf.deobfuscator.dispose();
  return report;
}

function startRun(o: RunExperimentOptions): RunContext {
  const config = o.config;
  mkdirSync(o.runDir, { recursive: true });
  writeFileAtomicSync(path.join(o.runDir, 'config.json'), JSON.stringify(config, null, 2));
  return {
    config, spec: EXPERIMENTS[config.experiment], runDir: o.runDir, resume: o.resume ?? true,
    log: o.log ?? ((l: string) => console.error(l)), seconds: {},
  };
}

/** report.json (the numbers, the resolved config, the verdicts) and report.html (plots, examples). */
async function reportStage(run: RunContext, data: ExperimentData, target: TargetStage, targetScores: TargetScores, obf: ObfuscatorRun,
  attacks: AttackResult[], b: { baselines: ExperimentReport['baselines']; verification: VerificationResult[] },
  edge: ExperimentReport['edge']): Promise<ExperimentReport> {
  const { config: c, spec } = run;
  const report: ExperimentReport = {
    format: 'earmark-experiment-report',
    version: 1,
    experiment: c.experiment,
    title: spec.title,
    dataset: {
      name: data.corpus.name, root: data.corpus.root, skipped: data.skipped.length,
      counts: { train: data.sets.train.ids.length, val: data.sets.val.ids.length, test: data.sets.test.ids.length },
    },
    config: c,
    target: { task: String(spec.task), classes: classNames(data, spec.task), ...targetScores, history: target.history },
    obfuscator: { parameters: obf.obfuscator.numParameters(), deobfuscatorParameters: obf.deobfuscator.numParameters(), history: obf.history },
    attacks,
    baselines: b.baselines,
    verification: b.verification,
    ...(edge ? { edge } : {}),
    verdicts: verdicts(targetScores, attacks, b.baselines),
    seconds: run.seconds,
    createdAt: new Date().toISOString(),
  };
  writeFileAtomicSync(path.join(run.runDir, 'report.json'), JSON.stringify(report, null, 2));
  await writeReportHtml(path.join(run.runDir, 'report.html'), report,
    { data, target: target.model, obfuscator: obf.obfuscator, deobfuscator: obf.deobfuscator, examples: c.reportExamples });
  return report;
}
