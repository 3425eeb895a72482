// A plain-text summary table of an experiment report, for the terminal.
import type { ExperimentReport } from './config.js';
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
