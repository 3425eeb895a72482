// report.html for an RDAL experiment: the mean ± std table, the qualitative checks, ROC curves of the
// fresh speech attacker (inline SVG, one curve per method: its median-AUC run), and histograms of that
// attacker's probabilities for speech vs non-speech clips (the reference's KDE plots, binned).
import type { RdalMethod } from '../../methods/rdal/config.js';
import type { RdalMetricKey, RdalReport, RdalRunMetrics } from './schema.js';
import { rocCurve } from '../roc.js';

const NAMES: Record<RdalMethod, string> = {
  baseline: 'Baseline (no privacy)',
  naive: 'NaiveAdv (GRL)',
  rdal: 'RDAL',
  'rdal-m': 'RDAL+M',
};
const COLOURS: Record<RdalMethod, string> = {
  baseline: '#444',
  naive: '#d62728',
  rdal: '#1f77b4',
  'rdal-m': '#2ca02c',
};

const COLUMNS: [RdalMetricKey, string][] = [
  ['eventAcc', 'event acc'],
  ['eventMacroF1', 'event macro-F1'],
  ['advAcc', 'in-training adversary acc'],
  ['speechAcc', 'fresh speech attacker acc'],
  ['speechRecall', 'speech recall'],
  ['speechAuc', 'speech AUC'],
  ['speechValBce', 'attacker best val BCE'],
  ['genderAcc', 'gender acc'],
  ['genderAuc', 'gender AUC'],
  ['epochsRun', 'epochs'],
  ['seconds', 'seconds / run'],
];

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function cell(m: { mean: number; std: number; n: number }, key: RdalMetricKey): string {
  if (m.n === 0) return '—';
  const digits = key === 'epochsRun' || key === 'seconds' ? 0 : 3;
  return `${m.mean.toFixed(digits)} ± ${m.std.toFixed(digits)}`;
}

/** The run whose AUC is the median of its method's runs. */
function medianRun(runs: RdalRunMetrics[]): RdalRunMetrics | undefined {
  const s = [...runs].sort((a, b) => a.speechAuc - b.speechAuc);
  return s[Math.floor((s.length - 1) / 2)];
}

/** The fresh speech attackers' ROC curves of every method (one run each), as an SVG element. */
export function rocSvg(report: RdalReport): string {
  const W = 320;
  const P = 40;
  const x = (v: number): number => P + v * (W - 2 * P);
  const y = (v: number): number => W - P - v * (W - 2 * P);
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${W}" viewBox="0 0 ${W} ${W}" font-size="11">`,
    `<rect x="${P}" y="${P}" width="${W - 2 * P}" height="${W - 2 * P}" fill="none" stroke="#999"/>`,
    `<line x1="${x(0)}" y1="${y(0)}" x2="${x(1)}" y2="${y(1)}" stroke="#bbb" stroke-dasharray="4 3"/>`,
    `<text x="${W / 2}" y="${W - 8}" text-anchor="middle">false-positive rate</text>`,
    `<text x="12" y="${W / 2}" text-anchor="middle" transform="rotate(-90 12 ${W / 2})">true-positive rate</text>`,
  ];
  report.summary.forEach((s, i) => {
    const run = medianRun(report.runs.filter((r) => r.method === s.method));
    if (run === undefined) return;
    const c = rocCurve(run.speechProb, run.speechLabel);
    const pts = c.fpr.map((f, j) => `${x(f).toFixed(1)},${y(c.tpr[j]!).toFixed(1)}`).join(' ');
    parts.push(`<polyline fill="none" stroke="${COLOURS[s.method]}" stroke-width="1.8" points="${pts}"/>`);
    parts.push(
      `<text x="${x(0.45)}" y="${y(0.05) - 14 * (report.summary.length - 1 - i)}" fill="${COLOURS[s.method]}">${esc(NAMES[s.method])} (AUC ${run.speechAuc.toFixed(3)})</text>`,
    );
  });
  parts.push('</svg>');
  return parts.join('');
}

function histogramSvg(method: RdalMethod, runs: RdalRunMetrics[]): string {
  const bins = 20;
  const W = 260;
  const H = 140;
  const P = 24;
  const count = (label: number): number[] => {
    const h = new Array<number>(bins).fill(0);
    let n = 0;
    for (const r of runs)
      r.speechProb.forEach((p, i) => {
        if (r.speechLabel[i] === label) {
          h[Math.min(bins - 1, Math.floor(p * bins))]!++;
          n++;
        }
      });
    return h.map((v) => v / Math.max(1, n));
  };
  const sp = count(1);
  const ns = count(0);
  const top = Math.max(...sp, ...ns, 1e-9);
  const bw = (W - 2 * P) / bins;
  const bar = (h: number[], colour: string): string =>
    h
      .map(
        (v, i) =>
          `<rect x="${(P + i * bw).toFixed(1)}" y="${(H - P - (v / top) * (H - 2 * P)).toFixed(1)}" width="${bw.toFixed(1)}" height="${((v / top) * (H - 2 * P)).toFixed(1)}" fill="${colour}" fill-opacity="0.5"/>`,
      )
      .join('');
  return (
    `<figure><svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-size="10">` +
    `<line x1="${P}" y1="${H - P}" x2="${W - P}" y2="${H - P}" stroke="#999"/>${bar(ns, '#888')}${bar(sp, COLOURS[method])}` +
    `<text x="${P}" y="${H - 8}">0</text><text x="${W / 2}" y="${H - 8}" text-anchor="middle">P(speech)</text><text x="${W - P}" y="${H - 8}" text-anchor="end">1</text>` +
    `</svg><figcaption>${esc(NAMES[method])}: <span style="color:${COLOURS[method]}">speech</span> vs <span style="color:#888">no speech</span> (all runs)</figcaption></figure>`
  );
}

/**
 * The report as one self-contained HTML page.
 * @example writeFileSync('report.html', renderRdalReport(report));
 */
export function renderRdalReport(report: RdalReport): string {
  const head = COLUMNS.map(([, h]) => `<th>${esc(h)}</th>`).join('');
  const rows = report.summary
    .map(
      (s) =>
        `<tr><th>${esc(NAMES[s.method])}</th><td>${s.runs}</td>${COLUMNS.map(([k]) => `<td>${cell(s.metrics[k], k)}</td>`).join('')}</tr>`,
    )
    .join('\n');
  const checks = report.checks
    .map(
      (c) =>
        `<li><b>${c.holds === null ? 'n/a' : c.holds ? 'holds' : 'does not hold'}</b>: ${esc(c.claim)} — ${esc(c.detail)}</li>`,
    )
    .join('\n');
  const perRun = report.runs
    .map(
      (r) =>
        `<tr><td>${esc(NAMES[r.method])}</td><td>${r.run}</td><td>${r.seed}</td><td>${r.eventAcc.toFixed(3)}</td><td>${r.advAcc === null ? '—' : r.advAcc.toFixed(3)}</td>` +
        `<td>${r.speechAcc.toFixed(3)}</td><td>${r.speechAuc.toFixed(3)}</td><td>${r.genderAcc.toFixed(3)}</td><td>${r.epochsRun}</td><td>${r.bestEpoch}</td><td>${r.seconds.toFixed(0)}</td></tr>`,
    )
    .join('\n');
  const hists = report.summary
    .map((s) =>
      histogramSvg(
        s.method,
        report.runs.filter((r) => r.method === s.method),
      ),
    )
    .join('');
  return `<!doctype html><html><head><meta charset="utf-8"><title>${esc(report.title)}</title>
<style>body{font-family:system-ui,sans-serif;margin:2em;max-width:1200px}table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;padding:3px 6px;text-align:right}figure{display:inline-block;margin:0 1em 1em 0}pre{background:#f6f6f6;padding:1em;overflow:auto;font-size:12px}</style></head><body>
<h1>${esc(report.title)}</h1>
<p>Data: <code>${esc(report.data)}</code> (${report.sizes.train} train / ${report.sizes.val} val / ${report.sizes.eval} eval clips, ${report.classes.length} event classes). Created ${esc(report.created)}.
Mean ± population std over runs; eval split; attackers are fresh MLPs trained on the frozen train-split latents with early stopping on validation BCE. Chance is 0.5 for the speech and gender attackers.</p>
<table><tr><th>method</th><th>runs</th>${head}</tr>
${rows}</table>
<h2>The paper's qualitative result</h2><ul>${checks}</ul>
<h3>Paired over seeds</h3><p>Run r of every method has the same seed; differences a − b per seed, mean ± population std, paired two-sided t test.</p>
<table><tr><th>a − b</th><th>metric</th><th>seeds</th><th>difference</th><th>t (df)</th><th>p</th></tr>
${(report.paired ?? [])
  .map(
    (c) =>
      `<tr><td>${esc(NAMES[c.a])} − ${esc(NAMES[c.b])}</td><td>${esc(c.metric)}</td><td>${c.seeds.length}</td>` +
      `<td>${c.meanDiff.toFixed(3)} ± ${c.stdDiff.toFixed(3)}</td><td>${c.t === null ? '—' : `${c.t.toFixed(2)} (${c.df})`}</td><td>${c.p === null ? '—' : c.p.toFixed(3)}</td></tr>`,
  )
  .join('\n')}</table>
<h2>Fresh speech attacker</h2>${rocSvg(report)}
<h3>Attacker probabilities</h3>${hists}
<h2>Runs</h2><table><tr><th>method</th><th>run</th><th>seed</th><th>event acc</th><th>adversary acc</th><th>attacker acc</th><th>AUC</th><th>gender acc</th><th>epochs</th><th>best epoch</th><th>s</th></tr>
${perRun}</table>
<h2>Configuration</h2><pre>${esc(JSON.stringify({ config: report.config, meta: report.meta }, null, 2))}</pre>
</body></html>
`;
}
