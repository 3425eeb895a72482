// The sweep's HTML report: one self-contained file with, per attacked attribute, the frontier plot (T's
// accuracy on the output against each attacker's, 95% intervals on both axes, the Pareto front of the
// strongest attacker, McAdams and ADR on the same axes), the privacy bins, latency against privacy at the
// budget, the table of points with their configs and, with several seeds, the table of seed groups.
import { writeFileAtomic } from '../../util/atomic.js';
import type { ClassScores } from '../metrics.js';
import type { AttributeFrontier } from './frontier.js';
import type { Spread, SweepReport } from './schema.js';

const esc = (s: string): string =>
  s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
const pct = (x: number): string => (Number.isFinite(x) ? `${(100 * x).toFixed(1)}%` : '–');
const ci = (s: ClassScores | undefined): string =>
  s ? `${pct(s.accuracy)} <small>[${pct(s.accuracyCI.lo)}, ${pct(s.accuracyCI.hi)}]</small>` : '–';

/** Colours and markers of the attackers (by kind) and the baselines. */
const KINDS: [RegExp, string, string][] = [
  [/^ignorant$/, '#7f7f7f', 'square'],
  [/^informed$/, '#d62728', 'triangle'],
  [/^in-training$/, '#9467bd', 'diamond'],
  [/^inversion/, '#8c564b', 'circle'],
];
const kindOf = (attacker: string): [string, string] => {
  const k = KINDS.find(([r]) => r.test(attacker));
  return k ? [k[1], k[2]] : ['#333', 'circle'];
};

function marker(shape: string, x: number, y: number, col: string, filled = true): string {
  const fill = filled ? col : 'none';
  switch (shape) {
    case 'square':
      return `<rect x="${x - 4}" y="${y - 4}" width="8" height="8" fill="${fill}" stroke="${col}"/>`;
    case 'triangle':
      return `<path d="M${x} ${y - 5}L${x + 5} ${y + 4}L${x - 5} ${y + 4}Z" fill="${fill}" stroke="${col}"/>`;
    case 'diamond':
      return `<path d="M${x} ${y - 5}L${x + 5} ${y}L${x} ${y + 5}L${x - 5} ${y}Z" fill="${fill}" stroke="${col}"/>`;
    default:
      return `<circle cx="${x}" cy="${y}" r="4.5" fill="${fill}" stroke="${col}" stroke-width="1.5"/>`;
  }
}

interface Axes {
  sx: (v: number) => number;
  sy: (v: number) => number;
  parts: string[];
}

/** An SVG frame with a 0–1 grid on both axes (x from `x0`), labels in %. */
function axes(
  W: number,
  H: number,
  xLabel: string,
  yLabel: string,
  xMax = 1,
  xTicks = (v: number): string => `${Math.round(v * 100)}`,
): Axes {
  const L = 56,
    B = 44,
    T = 14,
    R = 16;
  const sx = (v: number): number => L + (v / xMax) * (W - L - R);
  const sy = (v: number): number => H - B - v * (H - B - T);
  const parts: string[] = [];
  for (let i = 0; i <= 10; i++) {
    const v = i / 10;
    parts.push(
      `<line x1="${sx(v * xMax)}" y1="${sy(0)}" x2="${sx(v * xMax)}" y2="${sy(1)}" stroke="#eee"/>`,
      `<line x1="${sx(0)}" y1="${sy(v)}" x2="${sx(xMax)}" y2="${sy(v)}" stroke="#eee"/>`,
      `<text x="${sx(v * xMax)}" y="${sy(0) + 15}" font-size="10" text-anchor="middle">${xTicks(v * xMax)}</text>`,
      `<text x="${sx(0) - 5}" y="${sy(v) + 3}" font-size="10" text-anchor="end">${i * 10}</text>`,
    );
  }
  parts.push(
    `<text x="${(sx(0) + sx(xMax)) / 2}" y="${H - 10}" font-size="12" text-anchor="middle">${esc(xLabel)}</text>`,
    `<text transform="translate(14 ${(sy(0) + sy(1)) / 2}) rotate(-90)" font-size="12" text-anchor="middle">${esc(yLabel)}</text>`,
  );
  return { sx, sy, parts };
}

/** One attribute's frontier: every attacker of every point and baseline, intervals on both axes, the Pareto front. */
export function frontierSvg(f: AttributeFrontier, task: string): string {
  const W = 720,
    H = 420;
  const { sx, sy, parts } = axes(
    W,
    H,
    `target (${task}) accuracy %, on the output`,
    `${f.attribute} attacker accuracy %`,
  );
  parts.push(
    `<line x1="${sx(0)}" y1="${sy(f.chance)}" x2="${sx(1)}" y2="${sy(f.chance)}" stroke="#555" stroke-dasharray="4 3"/>`,
    `<line x1="${sx(0)}" y1="${sy(f.cleanAttribute)}" x2="${sx(1)}" y2="${sy(f.cleanAttribute)}" stroke="#aaa" stroke-dasharray="1 3"/>`,
  );
  if (Number.isFinite(f.cleanTarget))
    parts.push(
      `<line x1="${sx(f.cleanTarget)}" y1="${sy(0)}" x2="${sx(f.cleanTarget)}" y2="${sy(1)}" stroke="#aaa" stroke-dasharray="1 3"/>`,
    );
  const front = f.pareto.map((id) => f.points.find((p) => p.id === id)!);
  if (front.length > 1) {
    parts.push(
      `<polyline fill="none" stroke="#1f77b4" stroke-width="1.5" points="${front.map((p) => `${sx(p.target.accuracy)},${sy(p.strongest.score.accuracy)}`).join(' ')}"/>`,
    );
  }
  for (const p of f.points) {
    const x = p.target.accuracy;
    const baseline = p.kind === 'baseline';
    for (const a of p.attackers) {
      const [col, shape] = kindOf(a.attacker);
      const c = baseline ? (p.id.startsWith('ADR') ? '#ff7f0e' : '#2ca02c') : col;
      const y = a.score.accuracy;
      parts.push(
        `<g><title>${esc(`${p.id}: ${a.attacker} (${a.format}, ${a.protocol}) ${pct(y)}; T ${pct(x)}`)}</title>`,
        `<line x1="${sx(x)}" y1="${sy(a.score.accuracyCI.lo)}" x2="${sx(x)}" y2="${sy(a.score.accuracyCI.hi)}" stroke="${c}" stroke-opacity="0.5"/>`,
        marker(shape, sx(x), sy(y), c, !baseline),
        '</g>',
      );
    }
    const y = p.strongest.score.accuracy;
    parts.push(
      `<line x1="${sx(p.target.accuracyCI.lo)}" y1="${sy(y)}" x2="${sx(p.target.accuracyCI.hi)}" y2="${sy(y)}" stroke="#444" stroke-opacity="0.5"/>`,
      `<text x="${sx(x) + 6}" y="${sy(y) - 6}" font-size="10" fill="${baseline ? '#2ca02c' : '#1f77b4'}">${esc(p.id)}</text>`,
    );
  }
  const legend = [
    ['informed', 'informed attacker'],
    ['ignorant', 'ignorant attacker'],
    ['in-training', 'co-trained deobfuscator (in-training)'],
    ['inversion', 'fresh inversion attacker'],
  ].map(([k, name], i) => {
    const [col, shape] = kindOf(k!);
    return `${marker(shape, W - 230, 24 + i * 16, col)}<text x="${W - 220}" y="${28 + i * 16}" font-size="11">${esc(name!)}</text>`;
  });
  legend.push(
    `<text x="${W - 236}" y="${28 + 4 * 16}" font-size="11" fill="#2ca02c">hollow green: McAdams; orange: ADR</text>`,
    `<text x="${W - 236}" y="${28 + 5 * 16}" font-size="11" fill="#1f77b4">line: Pareto front (strongest attacker)</text>`,
  );
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}">${parts.join('')}${legend.join('')}</svg>`;
}

/** Latency (x, ms) against the strongest attacker's accuracy of the point the budget picks per window. */
function latencySvg(r: SweepReport): string {
  if (!r.latency.length) return '';
  const W = 560,
    H = 320;
  const xMax = Math.max(200, ...r.latency.map((l) => l.latencyMs)) * 1.1;
  const { sx, sy, parts } = axes(
    W,
    H,
    'algorithmic latency (ms)',
    'strongest attacker accuracy %',
    xMax,
    (v) => `${Math.round(v)}`,
  );
  parts.push(
    `<line x1="${sx(150)}" y1="${sy(0)}" x2="${sx(150)}" y2="${sy(1)}" stroke="#d62728" stroke-dasharray="4 3"/>`,
  );
  const colours = ['#1f77b4', '#9467bd', '#8c564b'];
  r.frontiers.forEach((f, i) => {
    for (const l of r.latency) {
      const y = l.strongest[f.attribute];
      if (y === undefined) continue;
      parts.push(
        marker(l.withinBudget ? 'circle' : 'square', sx(l.latencyMs), sy(y), colours[i % 3]!, l.withinBudget === true),
        `<text x="${sx(l.latencyMs) + 6}" y="${sy(y) - 5}" font-size="10">${esc(`${l.window.w}:${l.window.m} ${f.attribute}`)}</text>`,
      );
    }
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}">${parts.join('')}</svg>`;
}

/** The table of points: configs, validation drop, T on the output and each attribute's strongest and informed attackers. */
function pointsTable(r: SweepReport): string {
  const attrs = r.frontiers.map((f) => f.attribute);
  const head =
    `<tr><th>point</th><th>status</th><th>λ_p</th><th>width C</th><th>epochs</th><th>W:M</th><th>norm</th><th>latency</th><th>val T drop</th>` +
    `<th>T on output (test)</th>${attrs.map((a) => `<th>${esc(a)}: strongest</th><th>${esc(a)}: informed</th>`).join('')}</tr>`;
  const rows = r.points.map((p) => {
    const cells = attrs
      .map((a) => {
        const f = r.frontiers.find((x) => x.attribute === a)!.points.find((x) => x.id === p.id);
        const inf = f?.attackers
          .filter((x) => x.attacker === 'informed')
          .sort((x, y) => y.score.accuracy - x.score.accuracy)[0];
        return `<td>${f ? `${ci(f.strongest.score)} <small>${esc(f.strongest.attacker)}/${esc(f.strongest.format)}</small>` : '–'}</td><td>${ci(inf?.score)}</td>`;
      })
      .join('');
    const t = p.test ? (p.test.target['pcm'] ?? Object.values(p.test.target)[0]) : undefined;
    const s = p.settings;
    return (
      `<tr><td>${esc(p.id)}</td><td>${esc(p.status)}${p.error ? ` <small>${esc(p.error)}</small>` : ''}</td><td>${s.lambdaP}</td><td>${s.width}</td>` +
      `<td>${s.epochs}</td><td>${s.window.w}:${s.window.m}</td><td>${esc(s.norm ?? 'instance')}</td><td>${s.latencyMs.toFixed(0)} ms</td>` +
      `<td>${p.val ? `${(100 * p.val.drop).toFixed(1)} pts` : '–'}</td><td>${ci(t)}</td>${cells}</tr>`
    );
  });
  return `<table>${head}${rows.join('')}</table>`;
}

const range = (s: Spread | undefined): string =>
  s ? `${pct(s.mean)} <small>(${pct(s.min)} to ${pct(s.max)})</small>` : '–';

/** With several seeds: per group of points that differ only in seed, the mean over its seeds and the min–max. */
function seedsTable(r: SweepReport): string {
  if (!r.seedGroups) return '';
  const attrs = r.frontiers.map((f) => f.attribute);
  const seeds = [...new Set(r.seedGroups.flatMap((g) => g.seeds))].sort((a, b) => a - b);
  const head =
    `<tr><th>group</th><th>seeds</th><th>val T drop</th><th>T on output (test)</th>` +
    `${attrs.map((a) => `<th>${esc(a)}: strongest</th><th>${esc(a)}: informed</th>`).join('')}</tr>`;
  const rows = r.seedGroups.map((g) => {
    const cells = attrs.map(
      (a) => `<td>${range(g.attributes[a]?.strongest)}</td><td>${range(g.attributes[a]?.informed)}</td>`,
    );
    return (
      `<tr><td>${esc(g.id)}</td><td>${g.seeds.join(', ')}</td><td>${range(g.valDrop)}</td>` +
      `<td>${range(g.target)}</td>${cells.join('')}</tr>`
    );
  });
  return (
    `<h2>Over ${seeds.length} obfuscator seeds (${seeds.join(', ')})</h2><p><small>Each group is the points that differ ` +
    'only in seed: the mean over its seeds, the min and max in parentheses. This range is training noise, which the 95% ' +
    "intervals (test sampling only) leave out; the budget chooses by the groups' means.</small></p>" +
    `<table>${head}${rows.join('')}</table>`
  );
}

/** VoicePrivacy-style bins: the best utility within each privacy level (informed attacker ≤ chance + n points). */
function binsTable(r: SweepReport): string {
  const rows = r.frontiers.flatMap((f) =>
    f.bins.map(
      (b) =>
        `<tr><td>${esc(f.attribute)}</td><td>≤ chance + ${b.points} = ${pct(b.bound)}</td>` +
        `<td>${b.best ? esc(b.best.id) : 'no system'}</td><td>${b.best ? pct(b.best.target) : '–'}</td><td>${b.best ? pct(b.best.informed) : '–'}</td></tr>`,
    ),
  );
  return `<table><tr><th>attribute</th><th>informed attacker</th><th>best system</th><th>T accuracy</th><th>its informed attacker</th></tr>${rows.join('')}</table>`;
}

/** Write the sweep's report.html. */
export async function writeSweepHtml(file: string, r: SweepReport): Promise<void> {
  const failed = [...r.points, ...r.baselines].filter((p) => p.status === 'failed');
  const choice = r.choice
    ? `<h2>Utility budget: T may drop ${r.choice.maxTargetDrop} points (validation split)</h2>
<p class="${r.choice.withinBudget ? 'ok' : 'no'}">Chosen: <b>${esc(r.choice.chosen)}</b>. ${esc(r.choice.reason)}. Exported as obfuscator.onnx (metadata earmark.choice).</p>`
    : '';
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>earmark sweep ${esc(r.experiment)}</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;max-width:1150px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}th{background:#f3f3f3}
td:first-child,th:first-child{text-align:left}.ok{color:#176b2c}.no{color:#a4161a;font-weight:600}small{color:#666}
</style></head><body>
<h1>Privacy–utility frontier: ${esc(r.experiment)}</h1>
<p>Dataset ${esc(r.dataset)}. ${r.points.length} points, ${r.baselines.length} baselines. Created ${esc(r.createdAt)}.
Each point is judged by the experiment's full attacker set on its primary protocol; y = each attacker's test accuracy, bars = 95% intervals;
dashed = chance, dotted = the clean classifier (horizontal) and T on clean audio (vertical).</p>
${r.baselines
  .filter((b) => b.note && !b.test)
  .map((b) => `<p>${esc(b.id)}: ${esc(b.note!)}</p>`)
  .join('\n')}
${failed.length ? `<p class="no">Failed: ${failed.map((p) => `${esc(p.id)} (${esc(p.error ?? '')})`).join('; ')}</p>` : ''}
${choice}
${r.frontiers.map((f) => `<h2>${esc(f.attribute)}</h2>${frontierSvg(f, r.task)}<p>Pareto front: ${f.pareto.map(esc).join(' → ') || '–'}</p>`).join('\n')}
<h2>Privacy bins (best utility within each privacy level)</h2>${binsTable(r)}
<h2>Latency against privacy at a ${r.latency[0]?.budget ?? 3}-point budget</h2>
<p><small>Per deployed window (W kept frames, M context frames each side): the point the budget picks on validation; filled = within
the budget, square = none fits (smallest drop shown). Red dashes: 150 ms.</small></p>${latencySvg(r)}
<h2>Points</h2>${pointsTable(r)}${seedsTable(r)}
</body></html>`;
  await writeFileAtomic(file, html);
}
