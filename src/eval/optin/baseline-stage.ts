// The baselines beside the obfuscator (issue 5), judged by the same attackers under the same protocols:
// McAdams on audio (T and the DS2 attackers, per protocol), ADR on x-vectors — told to hide a PROTECTED
// attribute of the experiment, never the granted task (issue 11: fig3b used to tell it to hide gender,
// the task granted there) — and VoicePrivacy-style speaker verification of the shipped frames and of McAdams.
import path from 'node:path';
import { classNames } from '../../data/experiment-data.js';
import { mcadamsSpecSets, type AnonymisedSets } from '../../data/features-mcadams.js';
import type { LabelKey } from '../../data/index.js';
import { experimentInputs, featureInputs } from '../../methods/stage.js';
import { trainCleanXVector } from '../../methods/xvector.js';
import type { DeepSpeech2 } from '../../models/deepspeech2.js';
import { evaluateAdr, evaluateSpecSystem, type SpecSystemReport } from '../baselines.js';
import { evaluateVerification, type VerificationResult } from '../verification.js';
import { attackKey, attackedProtocols, informedFormats, protocolSets, type AttackStage } from './attacks.js';
import { setOf, timed, type RunContext } from './context.js';
import type { DataStage, DeployStage } from './stages.js';

/**
 * The attribute ADR hides: the configured one, else the experiment's first binary protected attribute;
 * null (with the reason) when there is none (fig3b protects the speaker, which is not binary).
 */
export function adrHidden(run: RunContext, d: DataStage): { hide: string } | { reason: string } {
  const want = run.config.adr.hide;
  if (want !== '') return { hide: want };
  for (const a of run.spec.attacks) if (classNames(d.data, a).length === 2) return { hide: String(a) };
  return {
    reason:
      `ADR hides one binary attribute, and the protected attribute${run.spec.attacks.length > 1 ? 's' : ''} ` +
      `${run.spec.attacks.join(', ')} ${run.spec.attacks.length > 1 ? 'are' : 'is'} not binary; it is not told to hide the granted ${run.spec.task} instead`,
  };
}

/** McAdams features (cached), judged per protocol by T and the DS2 attackers (the run's clean ones reused). */
export async function mcadamsStage(
  run: RunContext,
  d: DataStage,
  target: DeepSpeech2,
  attacks: AttackStage,
): Promise<AnonymisedSets> {
  const { config: c, spec, runDir, resume, retrain, log } = run;
  log('[baselines] McAdams anonymisation judged by T and the DS2 attackers');
  const mc = await timed(run, 'mcadams-features', () =>
    mcadamsSpecSets(d.data, { ...c.mcadams, seed: c.mcadams.seed ?? c.seed }, path.join(runDir, 'features')),
  );
  const reports: Partial<Record<string, SpecSystemReport>> = {};
  for (const protocol of d.protocols) {
    // the attributes with an informed attacker here (attacks.ts): McAdams is judged where the obfuscator is
    const attrs = spec.attacks.filter(
      (a) =>
        attackedProtocols([protocol], String(a)).length > 0 &&
        informedFormats(c.attack, d.protocols, String(a), protocol).length > 0,
    );
    if (attrs.length === 0) continue;
    const cleanAttackers = Object.fromEntries(
      attrs
        .map((a) => [String(a), attacks.clean.get(attackKey(String(a), protocol))?.model])
        .filter(([, m]) => m !== undefined),
    );
    reports[protocol] = await timed(run, `mcadams-${protocol}`, () =>
      evaluateSpecSystem({
        data: d.data,
        system: 'mcadams',
        task: spec.task,
        attacks: attrs,
        target,
        twin: mc.twin,
        model: c.model,
        attackerTrain: c.attackerTrain,
        cleanAttackers,
        runDir,
        resume,
        retrain,
        inputs: { mcadams: featureInputs(mc.spec) },
        seed: c.seed,
        log,
        tag: `-${protocol}`,
        attackSets: (a: LabelKey) => protocolSets(d, String(a), protocol),
      }),
    );
  }
  run.report.baselines!.mcadams = reports;
  return mc;
}

/** ADR on x-vectors (hiding a protected attribute) and the speaker-verification EERs. */
export async function xvectorStage(
  run: RunContext,
  d: DataStage,
  dep: DeployStage | undefined,
  mc: AnonymisedSets | undefined,
): Promise<void> {
  const { config: c, spec, runDir, resume, retrain, log } = run;
  const b = run.report.baselines!;
  log('[baselines] clean x-vector extractor');
  const xv = await timed(run, 'xvector', () =>
    trainCleanXVector(d.data, c.verification, { runDir, log, resume, retrain, inputs: experimentInputs(d.data) }),
  );
  try {
    if (c.baselines.adr) {
      const h = adrHidden(run, d);
      if ('reason' in h) b.notes.push(`ADR is not run: ${h.reason}.`);
      else {
        log(`[baselines] ADR (opt-out, told to hide ${h.hide}) judged on x-vectors`);
        b.adr = await timed(run, 'adr', () =>
          evaluateAdr({
            data: d.data,
            task: spec.task,
            attacks: spec.attacks,
            extractor: xv.model,
            config: { ...c.adr, hide: h.hide },
            log,
          }),
        );
      }
    }
    if (c.baselines.verification) {
      log('[baselines] speaker verification: ignorant, lazy-informed and informed attackers');
      const judge = (
        system: string,
        output: { train: ReturnType<typeof setOf>; test: ReturnType<typeof setOf> },
        upstream: Record<string, unknown>,
      ): Promise<VerificationResult> =>
        timed(run, `verification-${system}`, () =>
          evaluateVerification({
            data: d.data,
            system,
            output,
            clean: xv.model,
            config: c.verification,
            runDir,
            resume,
            retrain,
            log,
            inputs: experimentInputs(d.data, upstream),
          }),
        );
      const verification: VerificationResult[] = [];
      // without an obfuscator (a sweep's baselines-only run), only the baselines are verified
      const frames = dep ? (dep.shipped.frames ?? dep.shipped.pcm!) : undefined;
      if (dep && frames)
        verification.push(
          await judge(
            'obfuscator',
            { train: setOf(frames, d.data.sets.train.ids), test: setOf(frames, d.data.sets.test.ids) },
            { shipped: path.basename(dep.cacheFile) },
          ),
        );
      if (mc)
        verification.push(
          await judge('mcadams', { train: mc.sets.train, test: mc.sets.test }, { mcadams: featureInputs(mc.spec) }),
        );
      run.report.verification = verification;
    }
  } finally {
    xv.model.dispose();
  }
}
