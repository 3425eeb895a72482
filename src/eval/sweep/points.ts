// One judged system of a sweep as the frontier reads it: T's accuracy on the system's output (x) and every
// attacker's accuracy (y) with their 95% intervals, read from an experiment's report.json (version 1, or
// version 2 of issue 11: per output format and protocol), plus the VALIDATION-only numbers the utility
// budget chooses by (kept apart, so that the choice cannot read test data).
import type { ClassScores } from '../metrics.js';

/** One attacker's score on one attribute, output format and protocol. */
export interface AttackerScore {
  attribute: string;
  /** 'ignorant', 'informed', 'in-training' (the co-trained deobfuscator), 'inversion:<network>'. */
  attacker: string;
  /** The output the attacker and T read ('frames', 'pcm'; 'x-vectors' for ADR). */
  format: string;
  /** 'closed-set' or 'speaker-disjoint'. */
  protocol: string;
  score: ClassScores;
  /** max(1/K, majority class) of the attribute's test labels. */
  chance: number;
  /** The clean classifier on clean test audio. */
  clean: ClassScores;
}

/** What the utility budget reads: the validation split only (T's and the informed attackers' validation accuracies). */
export interface PointValidation {
  cleanAcc: number;
  targetAcc: number;
  /** cleanAcc − targetAcc, in [−1, 1]. */
  drop: number;
  /** Per attribute: the best validation accuracy of its informed attackers (the strongest format). */
  informed: Record<string, number>;
}

/** T and the attackers on one system's test output. */
export interface TestScores {
  clean: ClassScores;
  /** T on the output by format. */
  target: Record<string, ClassScores>;
  attackers: AttackerScore[];
}

const chanceOf = (s: ClassScores): number => Math.max(s.chanceUniform, s.chanceMajority);
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** T and every attacker of the obfuscator in an experiment report (v1 or v2). */
export function testScores(r: Json): TestScores {
  if (r['version'] === 1) {
    const attackers: AttackerScore[] = [];
    for (const a of r['attacks'] ?? []) {
      const base = {
        attribute: a.attribute,
        format: 'frames',
        protocol: 'closed-set',
        chance: chanceOf(a.clean),
        clean: a.clean,
      };
      attackers.push(
        { ...base, attacker: 'ignorant', score: a.ignorant },
        { ...base, attacker: 'informed', score: a.informed },
        { ...base, attacker: 'in-training', score: a.reconstruction },
      );
    }
    return { clean: r['target'].clean, target: { frames: r['target'].obfuscated }, attackers };
  }
  const attackers: AttackerScore[] = [];
  for (const a of r['attacks'] ?? []) {
    for (const [format, f] of Object.entries<Json>(a.formats ?? {})) {
      const base = { attribute: a.attribute, format, protocol: a.protocol, chance: chanceOf(a.clean), clean: a.clean };
      attackers.push({ ...base, attacker: 'ignorant', score: f['ignorant'] });
      if (f['informed']) attackers.push({ ...base, attacker: 'informed', score: f['informed'] });
      if (f['taskOutput']) attackers.push({ ...base, attacker: 'task-output', score: f['taskOutput'] });
      if (f['inTraining']) attackers.push({ ...base, attacker: 'in-training', score: f['inTraining'] });
      for (const [net, s] of Object.entries<ClassScores>(f['inversion'] ?? {}))
        attackers.push({ ...base, attacker: `inversion:${net}`, score: s });
    }
  }
  return { clean: r['target']?.clean, target: { ...(r['target']?.formats ?? {}) }, attackers };
}

/** The validation numbers of an experiment report: T at the selected obfuscator epoch, the informed attackers' best. */
export function validationOf(r: Json): PointValidation {
  const hist: Json[] = r['obfuscator']?.history ?? [];
  let sel: number = r['obfuscator']?.selectedEpoch ?? -1;
  if (sel < 0 || sel >= hist.length) {
    const last = r['config']?.obfuscatorTrain?.selection === 'last';
    sel = 0;
    hist.forEach((e, i) => {
      if (last || e['valTargetAcc'] >= hist[sel]!['valTargetAcc']) sel = i;
    });
  }
  const e = hist[sel] ?? { valCleanAcc: NaN, valTargetAcc: NaN };
  const informed: Record<string, number> = {};
  const primary: string | undefined = r['protocols']?.primary;
  for (const a of r['attacks'] ?? []) {
    if (primary !== undefined && a.protocol !== primary) continue;
    const histories: Json[][] =
      r['version'] === 1
        ? [a.informedHistory ?? []]
        : Object.values<Json>(a.formats ?? {}).map((f) => f['informedHistory'] ?? []);
    const best = Math.max(...histories.flat().map((h) => h['valAcc'] as number));
    if (Number.isFinite(best)) informed[a.attribute] = Math.max(informed[a.attribute] ?? -Infinity, best);
  }
  return {
    cleanAcc: e['valCleanAcc'],
    targetAcc: e['valTargetAcc'],
    drop: e['valCleanAcc'] - e['valTargetAcc'],
    informed,
  };
}

/** A baseline (McAdams, ADR) of an experiment report, as test scores (T's accuracy on its output, its attackers). */
export function baselineScores(r: Json, system: 'mcadams' | 'adr'): TestScores | undefined {
  let b: Json | undefined = r['baselines']?.[system];
  if (b === undefined) return undefined;
  let protocol = 'closed-set';
  if (system === 'mcadams' && r['version'] !== 1) {
    protocol = r['protocols']?.primary ?? Object.keys(b)[0] ?? 'closed-set';
    b = b[protocol];
    if (b === undefined) return undefined;
  }
  const format = system === 'adr' ? 'x-vectors' : 'frames';
  const attackers: AttackerScore[] = [];
  for (const a of (b['attacks'] ?? []) as Json[]) {
    const base = { attribute: a['attribute'], format, protocol, chance: chanceOf(a['clean']), clean: a['clean'] };
    attackers.push(
      { ...base, attacker: 'ignorant', score: a['ignorant'] },
      { ...base, attacker: 'informed', score: a['informed'] },
    );
  }
  return { clean: b['target'].clean, target: { [format]: b['target'].transformed }, attackers };
}
