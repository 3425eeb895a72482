// The experiment's plain-text summary for the terminal: T and every attacker per protocol with the
// shipped formats side by side (rows), the baselines, the verdicts from the intervals, the notes, and
// what each stage cost. Works on a partial report (a failed run prints what it computed).
import type { ClassScores } from '../metrics.js';
import type { OutputFormat } from './config.js';
import type { ExperimentReport } from './schema.js';
import { chanceOf, sizeOf } from './verdicts.js';

export { verdicts } from './verdicts.js';

const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;
const cell = (s: ClassScores | undefined): string =>
  s === undefined ? '—' : `${pct(s.accuracy)} [${pct(s.accuracyCI.lo)}–${pct(s.accuracyCI.hi)}]`;

/** Columns padded to their widest cell, with a rule under the header. */
function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, j) => Math.max(...rows.map((r) => (r[j] ?? '').length)));
  const lines = rows.map((r) =>
    r
      .map((c, j) => (c ?? '').padEnd(widths[j]!))
      .join('  ')
      .trimEnd(),
  );
  lines.splice(1, 0, widths.map((w) => '-'.repeat(w)).join('  '));
  return lines;
}

/** The attack tables: one block per (attribute, protocol), one row per shipped format. */
function attackLines(r: ExperimentReport): string[] {
  const nets = [...new Set((r.inversion ?? []).map((n) => n.name))];
  const out: string[] = [];
  for (const a of r.attacks ?? []) {
    const s = r.protocols?.splits[a.protocol];
    const how =
      a.clean.speakers !== undefined
        ? `: ${sizeOf(a.clean)}, intervals resample speakers`
        : a.protocol === 'speaker-disjoint' && s?.heldOutSpeakers
          ? `: ${s.heldOutSpeakers.length} held-out test speakers`
          : '';
    const shown =
      a.functionOfTask && a.protocol === 'closed-set'
        ? ` — ${a.attribute} is a function of the granted ${r.target?.task ?? 'task'} here: shown, not judged`
        : '';
    out.push('', `attack ${a.attribute} (${a.protocol}${how}), chance ${pct(chanceOf(a.clean))}${shown}`);
    const rows: string[][] = [
      [
        '',
        'clean',
        'ignorant',
        'informed',
        'task output',
        ...nets.map((n) => `inversion (${n})`),
        'in-training (optimistic)',
      ],
    ];
    rows.push(['clean audio', cell(a.clean), '', '', a.taskOutputClean ? cell(a.taskOutputClean) : '—']);
    for (const f of Object.keys(a.formats) as OutputFormat[]) {
      const fa = a.formats[f]!;
      rows.push([
        `  ${f}`,
        '',
        cell(fa.ignorant),
        cell(fa.informed),
        fa.taskOutput ? cell(fa.taskOutput) : '—',
        ...nets.map((n) => (fa.inversion[n] ? cell(fa.inversion[n]) : '—')),
        cell(fa.inTraining),
      ]);
    }
    out.push(...table(rows));
  }
  return out;
}

export function summaryTable(r: ExperimentReport): string {
  const lines: string[] = [`${r.title} on ${r.dataset.name}`];
  const t = r.target;
  if (t) {
    const fs = Object.keys(t.formats) as OutputFormat[];
    lines.push(
      ...table([
        ['', 'clean', ...fs],
        [`target T (${t.task})`, cell(t.clean), ...fs.map((f) => cell(t.formats[f]))],
      ]),
    );
    lines.push(
      `chance ${pct(chanceOf(t.clean))}; frames = the served obfuscated log1p|STFT|, pcm = the phase-free ${r.deployed?.synthesis ?? ''} audio re-analysed as an app would`,
    );
  }
  lines.push(...attackLines(r));
  const b = r.baselines;
  for (const [p, rep] of Object.entries(b?.mcadams ?? {})) {
    lines.push('', `McAdams (${p}): T ${cell(rep!.target.clean)} → ${cell(rep!.target.transformed)}`);
    for (const a of rep!.attacks)
      lines.push(
        `  ${a.attribute}: clean ${cell(a.clean)}, ignorant ${cell(a.ignorant)}, informed ${cell(a.informed)}`,
      );
  }
  if (b?.adr) {
    lines.push(
      '',
      `ADR (told to hide ${b.adr.hidden}, on x-vectors): T ${cell(b.adr.target.clean)} → ${cell(b.adr.target.transformed)}`,
    );
    for (const a of b.adr.attacks)
      lines.push(
        `  ${a.attribute}: clean ${cell(a.clean)}, ignorant ${cell(a.ignorant)}, informed ${cell(a.informed)}`,
      );
  }
  const eer = (r.verification ?? []).map(
    (v) =>
      `  ${v.system.padEnd(11)} EER original ${pct(v.original['all']!.eer)}, ignorant ${pct(v.ignorant['all']!.eer)}, ` +
      `lazy-informed ${pct(v.lazyInformed['all']!.eer)}, informed ${pct(v.informed['all']!.eer)}`,
  );
  if (eer.length) lines.push('', 'speaker verification (50% = chance):', ...eer);
  const e = r.edge;
  if (e)
    lines.push(
      '',
      `on the device (ONNX, int8 ${e.int8}): T ${pct(e.target.fp32)} float32 → ${pct(e.target.int8)} int8; ` +
        Object.entries(e.attacks)
          .map(([a, c]) => `informed ${a} ${pct(c.fp32)} → ${pct(c.int8)}`)
          .join(', '),
    );
  const judged = r.verdicts.filter((v) => v.judged);
  const mark = (s: string): string =>
    s === 'holds' ? '  holds       ' : s === 'fails' ? '  FAILS       ' : '  inconclusive';
  lines.push(
    '',
    'verdicts (from the 95% intervals):',
    ...judged.map((v) => `${mark(v.status)} ${v.claim}: ${v.detail}`),
  );
  const notes = [...r.notes, ...(b?.notes ?? [])];
  if (notes.length) lines.push('', ...notes.map((n) => `note: ${n}`));
  const failed = r.stages.filter((s) => s.status !== 'done');
  lines.push(
    '',
    `stages: ${r.stages.map((s) => `${s.name} ${s.seconds.toFixed(0)} s${s.status === 'done' ? '' : ` (${s.status})`}`).join(', ')}`,
  );
  for (const s of failed) if (s.error) lines.push(`  ${s.name} ${s.status}: ${s.error}`);
  return lines.join('\n');
}
