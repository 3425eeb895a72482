// The paper-style plot of one attribute (inline SVG; scripts/results.mjs renders it to PNG): x = the target
// task's accuracy on each system's output, y = the attacker's accuracy, bars = 95% intervals, dashed line =
// chance. One colour per system — the obfuscator's shipped formats (frames, PCM) side by side, then McAdams
// and ADR — and one marker per attacker: hollow circle clean data, square ignorant, triangle informed,
// cross fresh inversion, hollow diamond the co-trained deobfuscator (in-training, optimistic).
import type { ClassScores } from '../metrics.js';
import type { OutputFormat } from './config.js';
import type { ExperimentReport } from './schema.js';
import { chanceOf } from './verdicts.js';

export const esc = (s: string): string =>
  s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

interface PlotSystem {
  name: string;
  colour: string;
  targetClean: number;
  targetOut: number;
  points: [shape: string, scores: ClassScores | undefined, onClean: boolean][];
}

const FORMAT_COLOURS: Record<OutputFormat, string> = { frames: '#1f77b4', pcm: '#9467bd' };

/** Every system judged on one attribute under the primary protocol. */
export function systemsFor(r: ExperimentReport, attribute: string): PlotSystem[] {
  const out: PlotSystem[] = [];
  const primary = r.protocols?.primary;
  const a =
    (r.attacks ?? []).find((x) => x.attribute === attribute && x.protocol === primary) ??
    (r.attacks ?? []).find((x) => x.attribute === attribute);
  for (const f of r.config.attack.formats) {
    const fa = a?.formats[f];
    const t = r.target;
    if (!fa || !t || !t.formats[f]) continue;
    out.push({
      name: `opt-in obfuscator, ${f}`,
      colour: FORMAT_COLOURS[f],
      targetClean: t.clean.accuracy,
      targetOut: t.formats[f]!.accuracy,
      points: [
        ['circle', a!.clean, true],
        ['square', fa.ignorant, false],
        ['triangle', fa.informed, false],
        ['diamond', fa.inTraining, false],
        ...Object.values(fa.inversion).map((s) => ['cross', s, false] as [string, ClassScores, boolean]),
      ],
    });
  }
  const mc = primary ? r.baselines?.mcadams?.[primary] : undefined;
  const m = mc?.attacks.find((x) => x.attribute === attribute);
  if (mc && m)
    out.push({
      name: `McAdams (training-free, ${primary})`,
      colour: '#2ca02c',
      targetClean: mc.target.clean.accuracy,
      targetOut: mc.target.transformed.accuracy,
      points: [
        ['circle', m.clean, true],
        ['square', m.ignorant, false],
        ['triangle', m.informed, false],
      ],
    });
  const adr = r.baselines?.adr;
  const b = adr?.attacks.find((x) => x.attribute === attribute);
  if (adr && b)
    out.push({
      name: `ADR (opt-out, hides ${adr.hidden}, closed set)`,
      colour: '#ff7f0e',
      targetClean: adr.target.clean.accuracy,
      targetOut: adr.target.transformed.accuracy,
      points: [
        ['circle', b.clean, true],
        ['square', b.ignorant, false],
        ['triangle', b.informed, false],
      ],
    });
  return out;
}

function marker(shape: string, x: number, y: number, col: string): string {
  switch (shape) {
    case 'circle':
      return `<circle cx="${x}" cy="${y}" r="6" fill="none" stroke="${col}" stroke-width="2"/>`;
    case 'square':
      return `<rect x="${x - 5}" y="${y - 5}" width="10" height="10" fill="${col}"/>`;
    case 'triangle':
      return `<path d="M${x} ${y - 6}L${x + 6} ${y + 5}L${x - 6} ${y + 5}Z" fill="${col}"/>`;
    case 'cross':
      return `<path d="M${x - 5} ${y - 5}L${x + 5} ${y + 5}M${x - 5} ${y + 5}L${x + 5} ${y - 5}" stroke="${col}" stroke-width="2.5"/>`;
    default:
      return `<path d="M${x} ${y - 6}L${x + 6} ${y}L${x} ${y + 6}L${x - 6} ${y}Z" fill="none" stroke="${col}" stroke-width="2"/>`;
  }
}

/**
 * The plot of one attribute as a standalone SVG document.
 * @example writeFileSync('gender.svg', plotSvg(report, 'gender'));
 */
export function plotSvg(r: ExperimentReport, attribute: string): string {
  const W = 760,
    H = 400,
    L = 60,
    B = 50,
    T = 30,
    R = 330;
  const sx = (v: number): number => L + v * (W - L - R);
  const sy = (v: number): number => H - B - v * (H - B - T);
  const parts: string[] = [`<rect width="${W}" height="${H}" fill="#fff"/>`];
  for (let i = 0; i <= 10; i++) {
    const v = i / 10;
    parts.push(
      `<line x1="${sx(v)}" y1="${sy(0)}" x2="${sx(v)}" y2="${sy(1)}" stroke="#eee"/><line x1="${sx(0)}" y1="${sy(v)}" x2="${sx(1)}" y2="${sy(v)}" stroke="#eee"/>`,
    );
    parts.push(
      `<text x="${sx(v)}" y="${sy(0) + 16}" font-size="10" text-anchor="middle">${i * 10}</text><text x="${sx(0) - 6}" y="${sy(v) + 3}" font-size="10" text-anchor="end">${i * 10}</text>`,
    );
  }
  const task = r.target?.task ?? 'task';
  parts.push(
    `<text x="${L}" y="18" font-size="13" font-weight="600">${esc(r.experiment)}: ${esc(attribute)} (${esc(r.protocols?.primary ?? '')}) on ${esc(r.dataset.name)}</text>`,
  );
  parts.push(
    `<text x="${(sx(0) + sx(1)) / 2}" y="${H - 12}" font-size="12" text-anchor="middle">target (${esc(task)}) accuracy %</text>`,
  );
  parts.push(
    `<text transform="translate(16 ${(sy(0) + sy(1)) / 2}) rotate(-90)" font-size="12" text-anchor="middle">${esc(attribute)} attacker accuracy %</text>`,
  );
  const systems = systemsFor(r, attribute);
  const first = systems[0]?.points[0]?.[1];
  if (first)
    parts.push(
      `<line x1="${sx(0)}" y1="${sy(chanceOf(first))}" x2="${sx(1)}" y2="${sy(chanceOf(first))}" stroke="#555" stroke-dasharray="4 3"/>`,
    );
  const legend: string[] = [];
  systems.forEach((sys, i) => {
    legend.push(
      `<text x="${W - R + 12}" y="${T + 14 + i * 18}" font-size="12" fill="${sys.colour}">${esc(sys.name)}</text>`,
    );
    for (const [shape, s, onClean] of sys.points) {
      if (s === undefined) continue;
      const x = sx(onClean ? sys.targetClean : sys.targetOut) + 4 * i; // systems at the same x side by side
      parts.push(
        `<line x1="${x}" y1="${sy(s.accuracyCI.lo)}" x2="${x}" y2="${sy(s.accuracyCI.hi)}" stroke="${sys.colour}"/>`,
      );
      parts.push(marker(shape, x, sy(s.accuracy), sys.colour));
    }
  });
  [
    'circle:clean data',
    'square:ignorant attacker',
    'triangle:informed attacker',
    'cross:fresh inversion attacker',
    'diamond:in-training deobfuscator (optimistic)',
    'dash:chance',
  ].forEach((k, i) => {
    const [shape, name] = k.split(':') as [string, string];
    const y = T + 30 + systems.length * 18 + i * 18;
    const m =
      shape === 'dash'
        ? `<line x1="${W - R + 10}" y1="${y - 4}" x2="${W - R + 26}" y2="${y - 4}" stroke="#555" stroke-dasharray="4 3"/>`
        : marker(shape, W - R + 18, y - 4, '#444');
    legend.push(m + `<text x="${W - R + 30}" y="${y}" font-size="12">${name}</text>`);
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif">${parts.join('')}${legend.join('')}</svg>`;
}
