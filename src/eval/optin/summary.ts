// The experiment's conclusions in words: the paper's claims checked against the measured numbers (stored
// in report.json as `verdicts`), and the plain-text summary table for the terminal.
import type { AttackResult, ExperimentReport } from './config.js';
import type { ClassScores } from '../metrics.js';

const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;
const cell = (s: ClassScores): string => `${pct(s.accuracy)} [${pct(s.accuracyCI.lo)}–${pct(s.accuracyCI.hi)}]`;

export function summaryTable(r: ExperimentReport): string {
  const rows: string[][] = [['', 'clean', 'ignorant', 'informed', 'reconstruction', 'chance']];
  rows.push([`target T (${r.target.task})`, cell(r.target.clean), `${cell(r.target.obfuscated)} (T on obfuscated)`, '', '', pct(r.target.clean.chanceUniform)]);
  for (const a of r.attacks) {
    rows.push([`attack ${a.attribute}`, cell(a.clean), cell(a.ignorant), cell(a.informed), cell(a.reconstruction),
      `${pct(a.clean.chanceUniform)} (majority ${pct(a.clean.chanceMajority)})`]);
  }
  for (const [name, rep] of [['ADR', r.baselines?.adr], ['McAdams', r.baselines?.mcadams]] as const) {
    if (!rep) continue;
    rows.push([`${name}: target on output`, cell(rep.target.clean), cell(rep.target.transformed), '', '', '']);
    for (const a of rep.attacks) rows.push([`${name}: attack ${a.attribute}`, cell(a.clean), cell(a.ignorant), cell(a.informed), '', '']);
  }
  const widths = rows[0]!.map((_, j) => Math.max(...rows.map((r) => r[j]!.length)));
  const lines = rows.map((r) => r.map((c, j) => c.padEnd(widths[j]!)).join('  '));
  lines.splice(1, 0, widths.map((w) => '-'.repeat(w)).join('  '));
  const eer = (r.verification ?? []).map((v) => `  ${v.system.padEnd(11)} EER original ${pct(v.original['all']!.eer)}, ignorant ${pct(v.ignorant['all']!.eer)}, ` +
    `lazy-informed ${pct(v.lazyInformed['all']!.eer)}, informed ${pct(v.informed['all']!.eer)}`);
  const e = r.edge;
  const edge = e ? [`on the device (ONNX, int8 ${e.int8}): T ${pct(e.target.fp32)} float32 → ${pct(e.target.int8)} int8; ` +
    Object.entries(e.attacks).map(([a, c]) => `informed ${a} ${pct(c.fp32)} → ${pct(c.int8)}`).join(', ')] : [];
  const v = r.verdicts.map((x) => `${x.holds ? '  holds   ' : '  FAILS   '} ${x.claim}: ${x.detail}`);
  return [`${r.title} on ${r.dataset.name}`, ...lines, ...(eer.length ? ['', 'speaker verification (50% = chance):', ...eer] : []),
    ...(edge.length ? ['', ...edge] : []), '', 'paper expectations:', ...v].join('\n');
}

/** The paper's claims (and the acceptance bounds) checked against measured numbers. */
export function verdicts(t: { clean: ClassScores; obfuscated: ClassScores }, attacks: AttackResult[], baselines: ExperimentReport['baselines']): ExperimentReport['verdicts'] {
  const pts = (x: number): string => `${(100 * x).toFixed(1)}%`;
  const out: ExperimentReport['verdicts'] = [];
  const drop = t.clean.accuracy - t.obfuscated.accuracy;
  out.push({ claim: "T's accuracy on obfuscated audio is within 6 points of its clean accuracy", holds: drop <= 0.06,
    detail: `clean ${pts(t.clean.accuracy)}, obfuscated ${pts(t.obfuscated.accuracy)} (drop ${(100 * drop).toFixed(1)} points)` });
  for (const a of attacks) {
    const chance = Math.max(a.ignorant.chanceUniform, a.ignorant.chanceMajority);
    out.push({ claim: `the ignorant ${a.attribute} attacker is within 10 points of chance`, holds: a.ignorant.accuracy - chance <= 0.10,
      detail: `${pts(a.ignorant.accuracy)} vs chance ${pts(chance)} (majority class ${pts(a.ignorant.chanceMajority)}, 1/K ${pts(a.ignorant.chanceUniform)})` });
    out.push({ claim: `the informed ${a.attribute} attacker stays below the clean ${a.attribute} classifier`, holds: a.informed.accuracy < a.clean.accuracy,
      detail: `informed ${pts(a.informed.accuracy)} vs clean ${pts(a.clean.accuracy)}` });
    for (const [name, rep] of [['ADR', baselines.adr], ['McAdams', baselines.mcadams]] as const) {
      const b = rep?.attacks.find((x) => x.attribute === a.attribute);
      if (b === undefined) continue;
      out.push({ claim: `the opt-in obfuscator protects ${a.attribute} better than ${name} against informed attackers`, holds: a.informed.accuracy < b.informed.accuracy,
        detail: `informed attacker: obfuscator ${pts(a.informed.accuracy)}, ${name} ${pts(b.informed.accuracy)}` });
    }
  }
  return out;
}
