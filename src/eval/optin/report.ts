// The experiment's HTML report: one self-contained file with the paper-style plot (target accuracy
// against attacker accuracy, chance lines), the tables with 95% intervals, the verdicts, training
// curves, spectrograms before/after and playable audio before/after (resynthesised with the original phase).
import { writeFileAtomic } from '../../util/atomic.js';
import { loadAudio, encodeWav } from '../../audio/io.js';
import { DS2_SPECTROGRAM, ds2Invert, ds2Spectrogram } from '../../audio/functional.js';
import { hammingWindow, noGrad, tensor, tidy } from '../../tensor/index.js';
import type { CycleGanVc2Generator } from '../../models/cyclegan-vc2.js';
import type { DeepSpeech2 } from '../../models/deepspeech2.js';
import type { ExperimentData } from '../../data/experiment-data.js';
import type { ExperimentReport } from './config.js';
import type { ClassScores } from '../metrics.js';
import { matrixToPng } from '../png.js';

export interface ReportAssets {
  data: ExperimentData;
  target: DeepSpeech2;
  obfuscator: CycleGanVc2Generator;
  deobfuscator: CycleGanVc2Generator;
  examples: number;
}

const esc = (s: string): string => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;
const ci = (s: ClassScores): string => `${pct(s.accuracy)} <small>[${pct(s.accuracyCI.lo)}, ${pct(s.accuracyCI.hi)}]</small>`;
const uar = (s: ClassScores): string => `${pct(s.uar)} <small>[${pct(s.uarCI.lo)}, ${pct(s.uarCI.hi)}]</small>`;

/** Write report.html for a finished experiment. */
export async function writeReportHtml(file: string, r: ExperimentReport, assets?: ReportAssets): Promise<void> {
  const examples = assets ? await exampleBlocks(assets) : '';
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>earmark ${esc(r.experiment)}: ${esc(r.dataset.name)}</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}th{background:#f3f3f3}
td:first-child,th:first-child{text-align:left}.ok{color:#176b2c}.no{color:#a4161a;font-weight:600}small{color:#666}
figure{display:inline-block;margin:0 1em 1em 0;vertical-align:top}figcaption{font-size:12px;color:#555}img.spec{image-rendering:pixelated;border:1px solid #ccc}
pre{background:#f6f6f6;padding:1em;overflow:auto;font-size:12px}
</style></head><body>
<h1>${esc(r.title)}</h1>
<p>Dataset <b>${esc(r.dataset.name)}</b> (${esc(r.dataset.root)}): ${r.dataset.counts.train} train / ${r.dataset.counts.val} val / ${r.dataset.counts.test} test utterances${r.dataset.skipped ? `, ${r.dataset.skipped} unreadable files skipped` : ''}.
Obfuscator ${r.obfuscator.parameters.toLocaleString('en')} parameters, deobfuscator ${r.obfuscator.deobfuscatorParameters.toLocaleString('en')}. Created ${esc(r.createdAt)}.</p>
<h2>Verdicts</h2>
<ul>${r.verdicts.map((v) => `<li class="${v.holds ? 'ok' : 'no'}">${v.holds ? '✔ holds' : '✘ does not hold'}: ${esc(v.claim)} (${esc(v.detail)})</li>`).join('')}</ul>
<h2>Target accuracy against attacker accuracy</h2>
${r.attacks.map((a) => plot(r, a.attribute, Math.max(a.clean.chanceUniform, a.clean.chanceMajority))).join('\n')}
<h2>Tables (accuracy and UAR with 95% bootstrap intervals)</h2>
<table><tr><th>target task: ${esc(r.target.task)} (${r.target.classes.length} classes)</th><th>accuracy</th><th>UAR</th><th>chance (1/K, majority)</th></tr>
<tr><td>T on clean test audio</td><td>${ci(r.target.clean)}</td><td>${uar(r.target.clean)}</td><td>${pct(r.target.clean.chanceUniform)}, ${pct(r.target.clean.chanceMajority)}</td></tr>
<tr><td>T on obfuscated test audio</td><td>${ci(r.target.obfuscated)}</td><td>${uar(r.target.obfuscated)}</td><td></td></tr></table>
${r.attacks.map((a) => `<table><tr><th>attribute: ${esc(a.attribute)} (${a.classes.length} classes)</th><th>accuracy</th><th>UAR</th></tr>
<tr><td>clean classifier on clean audio (circle)</td><td>${ci(a.clean)}</td><td>${uar(a.clean)}</td></tr>
<tr><td>ignorant attacker (clean model, obfuscated audio)</td><td>${ci(a.ignorant)}</td><td>${uar(a.ignorant)}</td></tr>
<tr><td>informed attacker (trained on obfuscated audio)</td><td>${ci(a.informed)}</td><td>${uar(a.informed)}</td></tr>
<tr><td>reconstruction attacker (clean model on F_μ(X̃))</td><td>${ci(a.reconstruction)}</td><td>${uar(a.reconstruction)}</td></tr>
<tr><td>chance: 1/K, majority class</td><td colspan="2">${pct(a.clean.chanceUniform)}, ${pct(a.clean.chanceMajority)}</td></tr></table>`).join('\n')}
${baselineTable(r)}
${eerTable(r)}
${edgeTable(r)}
<h2>Obfuscator training</h2>
<table><tr><th>epoch</th><th>L_a</th><th>L_t</th><th>L_p</th><th>val T acc (obfuscated)</th><th>val T acc (clean)</th><th>val L_a</th><th>s</th></tr>
${r.obfuscator.history.map((e) => `<tr><td>${e.epoch + 1}</td><td>${e.la.toFixed(4)}</td><td>${e.lt.toFixed(4)}</td><td>${e.lp.toFixed(4)}</td><td>${pct(e.valTargetAcc)}</td><td>${pct(e.valCleanAcc)}</td><td>${e.valLa.toFixed(4)}</td><td>${e.seconds.toFixed(0)}</td></tr>`).join('')}</table>
${examples}
<h2>Timings (s)</h2><p>${Object.entries(r.seconds).map(([k, v]) => `${esc(k)} ${v.toFixed(0)}`).join(' · ')}</p>
<h2>Resolved configuration</h2><pre>${esc(JSON.stringify(r.config, null, 2))}</pre>
</body></html>`;
  await writeFileAtomic(file, html);
}

interface PlotSystem {
  name: string;
  colour: string;
  /** The target task's accuracy on clean input and on the system's output. */
  targetClean: number;
  targetOut: number;
  attack?: { clean: ClassScores; ignorant: ClassScores; informed: ClassScores; reconstruction?: ClassScores };
}

/** Every system judged on one attribute: the obfuscator, then the baselines present. */
function systemsFor(r: ExperimentReport, attribute: string): PlotSystem[] {
  const out: PlotSystem[] = [];
  const a = r.attacks.find((x) => x.attribute === attribute);
  out.push({ name: 'opt-in obfuscator', colour: '#1f77b4', targetClean: r.target.clean.accuracy, targetOut: r.target.obfuscated.accuracy,
    ...(a ? { attack: { clean: a.clean, ignorant: a.ignorant, informed: a.informed, reconstruction: a.reconstruction } } : {}) });
  const adr = r.baselines?.adr;
  if (adr) {
    const b = adr.attacks.find((x) => x.attribute === attribute);
    out.push({ name: `ADR (opt-out, hides ${adr.hidden})`, colour: '#ff7f0e', targetClean: adr.target.clean.accuracy, targetOut: adr.target.transformed.accuracy,
      ...(b ? { attack: { clean: b.clean, ignorant: b.ignorant, informed: b.informed } } : {}) });
  }
  const mc = r.baselines?.mcadams;
  if (mc) {
    const b = mc.attacks.find((x) => x.attribute === attribute);
    out.push({ name: 'McAdams (training-free)', colour: '#2ca02c', targetClean: mc.target.clean.accuracy, targetOut: mc.target.transformed.accuracy,
      ...(b ? { attack: { clean: b.clean, ignorant: b.ignorant, informed: b.informed } } : {}) });
  }
  return out;
}

/**
 * The paper's plot for one attribute: x = target-task accuracy, y = attacker accuracy; hollow circle =
 * clean data (the paper's circles), square = ignorant, triangle = informed, diamond = reconstruction;
 * one colour per system; dashed line = chance; bars = 95% intervals.
 */
function plot(r: ExperimentReport, attribute: string, chance: number): string {
  const W = 700, H = 380, L = 60, B = 50, T = 20, R = 290;
  const sx = (v: number): number => L + v * (W - L - R);
  const sy = (v: number): number => H - B - v * (H - B - T);
  const parts: string[] = [];
  for (let i = 0; i <= 10; i++) {
    const v = i / 10;
    parts.push(`<line x1="${sx(v)}" y1="${sy(0)}" x2="${sx(v)}" y2="${sy(1)}" stroke="#eee"/><line x1="${sx(0)}" y1="${sy(v)}" x2="${sx(1)}" y2="${sy(v)}" stroke="#eee"/>`);
    parts.push(`<text x="${sx(v)}" y="${sy(0) + 16}" font-size="10" text-anchor="middle">${i * 10}</text><text x="${sx(0) - 6}" y="${sy(v) + 3}" font-size="10" text-anchor="end">${i * 10}</text>`);
  }
  parts.push(`<text x="${(sx(0) + sx(1)) / 2}" y="${H - 12}" font-size="12" text-anchor="middle">target (${esc(r.target.task)}) accuracy %</text>`);
  parts.push(`<text transform="translate(16 ${(sy(0) + sy(1)) / 2}) rotate(-90)" font-size="12" text-anchor="middle">${esc(attribute)} attacker accuracy %</text>`);
  parts.push(`<line x1="${sx(0)}" y1="${sy(chance)}" x2="${sx(1)}" y2="${sy(chance)}" stroke="#555" stroke-dasharray="4 3"/>`);
  const legend: string[] = [];
  systemsFor(r, attribute).forEach((sys, i) => {
    legend.push(`<text x="${W - R + 12}" y="${T + 14 + i * 18}" font-size="12" fill="${sys.colour}">${esc(sys.name)}</text>`);
    if (!sys.attack) return;
    const pts: [string, number, ClassScores | undefined][] = [
      ['circle', sys.targetClean, sys.attack.clean], ['square', sys.targetOut, sys.attack.ignorant],
      ['triangle', sys.targetOut, sys.attack.informed], ['diamond', sys.targetOut, sys.attack.reconstruction],
    ];
    for (const [shape, x, sc] of pts) {
      if (sc === undefined) continue;
      parts.push(`<line x1="${sx(x)}" y1="${sy(sc.accuracyCI.lo)}" x2="${sx(x)}" y2="${sy(sc.accuracyCI.hi)}" stroke="${sys.colour}"/>`);
      parts.push(marker(shape, sx(x), sy(sc.accuracy), sys.colour));
    }
  });
  const n = systemsFor(r, attribute).length;
  ['circle:clean data', 'square:ignorant attacker', 'triangle:informed attacker', 'diamond:reconstruction', 'dash:chance'].forEach((k, i) => {
    const [shape, name] = k.split(':') as [string, string];
    const y = T + 30 + n * 18 + i * 18;
    const m = shape === 'dash' ? `<line x1="${W - R + 10}" y1="${y - 4}" x2="${W - R + 26}" y2="${y - 4}" stroke="#555" stroke-dasharray="4 3"/>` : marker(shape, W - R + 18, y - 4, '#444');
    legend.push(m + `<text x="${W - R + 30}" y="${y}" font-size="12">${name}</text>`);
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}">${parts.join('')}${legend.join('')}</svg>`;
}

/** Systems side by side: target accuracy on each system's output and every attacker per attribute. */
function baselineTable(r: ExperimentReport): string {
  if (!r.baselines?.adr && !r.baselines?.mcadams) return '';
  const rows: string[] = [];
  for (const a of r.attacks) {
    for (const sys of systemsFor(r, a.attribute)) {
      if (!sys.attack) continue;
      rows.push(`<tr><td>${esc(sys.name)}</td><td>${esc(a.attribute)}</td><td>${pct(sys.targetClean)} → ${pct(sys.targetOut)}</td>` +
        `<td>${ci(sys.attack.clean)}</td><td>${ci(sys.attack.ignorant)}</td><td>${ci(sys.attack.informed)}</td></tr>`);
    }
  }
  const adr = r.baselines?.adr;
  const note = adr ? `<p><small>ADR is judged on x-vectors (classifiers on x-vectors, as the paper does): its target row is a speaker classifier on x-vectors
(retrained on ADR output: ${pct(adr.target.retrained.accuracy)}). McAdams is judged by T and the DS2 attackers on anonymised audio.</small></p>` : '';
  return `<h2>Opt-in obfuscator beside ADR and McAdams</h2>
<table><tr><th>system</th><th>attribute</th><th>target clean → on output</th><th>clean classifier</th><th>ignorant</th><th>informed</th></tr>${rows.join('')}</table>${note}`;
}

/** The deployed obfuscator (ONNX, windowed) in float32 and int8, judged by T and the informed attackers. */
function edgeTable(r: ExperimentReport): string {
  const e = r.edge;
  if (!e) return '';
  const row = (who: string, c: { fp32: number; int8: number; changed: number }, n: string): string =>
    `<tr><td>${esc(who)}</td><td>${pct(c.fp32)}</td><td>${pct(c.int8)}</td><td>${c.changed} ${n}</td></tr>`;
  return `<h2>On the device: ONNX float32 and int8 (${esc(e.int8)})</h2>
<p><small>The obfuscator as deployed (onnxruntime, windows of 128 frames with 16 frames of context), on the test split.
${esc(e.onnx)} and ${esc(e.int8Onnx)}; mean |float32 − int8| of the obfuscated spectrograms ${e.target.meanAbsDiff.toFixed(4)} (normalised units).</small></p>
<table><tr><th>model</th><th>float32</th><th>int8</th><th>decisions changed</th></tr>
${row(`T (${r.target.task})`, e.target, 'utterances')}
${Object.entries(e.attacks).map(([attr, c]) => row(`informed ${attr} attacker`, c, 'utterances')).join('\n')}</table>`;
}

/** Speaker-verification EERs per system, scenario and gender (higher = more privacy; 50% = chance). */
function eerTable(r: ExperimentReport): string {
  const rows: string[] = [];
  const fmt = (e: Record<string, { eer: number }> | undefined, g: string): string => (e?.[g] ? pct(e[g]!.eer) : '–');
  for (const v of r.verification ?? []) {
    for (const g of ['all', 'female', 'male']) {
      rows.push(`<tr><td>${esc(v.system)}</td><td>${g}</td><td>${fmt(v.original, g)}</td><td>${fmt(v.ignorant, g)}</td><td>${fmt(v.lazyInformed, g)}</td><td>${fmt(v.informed, g)}</td></tr>`);
    }
  }
  const adr = r.baselines?.adr;
  if (adr) for (const g of ['all', 'female', 'male']) {
    rows.push(`<tr><td>ADR (x-vectors)</td><td>${g}</td><td>${fmt(adr.verification.original, g)}</td><td>${fmt(adr.verification.ignorant, g)}</td><td>${fmt(adr.verification.lazyInformed, g)}</td><td>–</td></tr>`);
  }
  if (!rows.length) return '';
  return `<h2>Speaker verification (x-vector cosine scoring, speaker-mean enrolment)</h2>
<p><small>EER: 0% = speakers fully linkable, 50% = chance. Ignorant: clean enrolment, transformed trials. Lazy-informed: both transformed.
Informed: the extractor retrained on transformed training data.</small></p>
<table><tr><th>system</th><th>gender</th><th>original</th><th>ignorant</th><th>lazy-informed</th><th>informed</th></tr>${rows.join('')}</table>`;
}

function marker(shape: string, x: number, y: number, col: string): string {
  switch (shape) {
    case 'circle': return `<circle cx="${x}" cy="${y}" r="6" fill="none" stroke="${col}" stroke-width="2"/>`;
    case 'square': return `<rect x="${x - 5}" y="${y - 5}" width="10" height="10" fill="${col}"/>`;
    case 'triangle': return `<path d="M${x} ${y - 6}L${x + 6} ${y + 5}L${x - 6} ${y + 5}Z" fill="${col}"/>`;
    default: return `<path d="M${x} ${y - 6}L${x + 6} ${y}L${x} ${y + 6}L${x - 6} ${y}Z" fill="none" stroke="${col}" stroke-width="2"/>`;
  }
}

/** Spectrograms and audio of the first test utterances: clean X, obfuscated X̃, reconstruction F_μ(X̃). */
async function exampleBlocks(a: ReportAssets): Promise<string> {
  const ids = a.data.sets.test.ids.slice(0, a.examples);
  const blocks: string[] = [];
  for (const id of ids) {
    const u = a.data.byId.get(id)!;
    const audio = await loadAudio(u.path, { mono: true, sampleRate: DS2_SPECTROGRAM.sampleRate });
    const out = noGrad(() => tidy(() => {
      const w = hammingWindow(DS2_SPECTROGRAM.nFft);
      const x = tensor(audio.samples, [audio.samples.length]);
      const f = ds2Spectrogram(x, w, { ...DS2_SPECTROGRAM, returnPhase: true }); // (161, frames)
      const spec = f.spectrogram.unsqueeze(0); // (1, 161, T)
      const xt = a.obfuscator.forward(spec);
      const rec = a.deobfuscator.forward(xt);
      const frames = spec.size(2);
      const wav = (s: ReturnType<typeof tensor>): Uint8Array => {
        const y = ds2Invert(s.squeeze(0), f.mean, f.std, f.phase!, w, DS2_SPECTROGRAM, audio.samples.length).toFloat32Array();
        const peak = y.reduce((m, v) => Math.max(m, Math.abs(v)), 1e-9);
        return encodeWav(y.map((v) => (0.9 * v) / peak), DS2_SPECTROGRAM.sampleRate, { format: 'pcm16' });
      };
      return {
        frames,
        images: [spec, xt, rec].map((s) => matrixToPng(s.squeeze(0).toFloat32Array(), 161, frames, { lo: -2, hi: 3 })),
        wavs: [wav(spec), wav(xt), wav(rec)],
      };
    }));
    const names = ['clean X', 'obfuscated X̃ = F_σ(X)', 'reconstruction F_μ(X̃)'];
    blocks.push(`<h3>${esc(id)} <small>(speaker ${esc(u.speaker)}, ${esc(u.gender ?? '?')}, ${esc(u.emotion ?? '?')})</small></h3>` +
      names.map((n, i) => `<figure><img class="spec" alt="${esc(n)}" width="${Math.min(600, out.frames * 2)}" height="240" src="data:image/png;base64,${out.images[i]!.toString('base64')}">` +
        `<figcaption>${esc(n)}</figcaption><audio controls src="data:audio/wav;base64,${Buffer.from(out.wavs[i]!).toString('base64')}"></audio></figure>`).join(''));
  }
  return blocks.length ? `<h2>Examples (audio resynthesised with the original phase)</h2>${blocks.join('\n')}` : '';
}
