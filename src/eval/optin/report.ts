// The experiment's HTML report: one self-contained file, rewritten after every stage (a failed run keeps
// what it computed): the stages with their status, seconds and errors; the verdicts from the intervals;
// the notes; the paper-style plot per attribute (report-plot.ts); T and every attacker with the shipped
// formats side by side; the protocols; the inversion networks; baselines, EERs, int8; the obfuscator's
// training; spectrograms and playable audio of test utterances as shipped (phase-free synthesis from
// the obfuscated magnitude, never the original phase).
import { writeFileAtomic } from '../../util/atomic.js';
import { loadAudio, encodeWav } from '../../audio/io.js';
import type { ExperimentData } from '../../data/experiment-data.js';
import { obfuscateOffline, type WindowConfig } from '../../edge/obfuscate.js';
import { OnnxSession } from '../../edge/runtime.js';
import { Ds2Frontend, normalizeInPlace } from '../../edge/spectrogram.js';
import { synthesizeLogMagnitude, type SynthesisConfig } from '../../edge/synthesis.js';
import type { CycleGanVc2Generator } from '../../models/cyclegan-vc2.js';
import { noGrad, tensor, tidy } from '../../tensor/index.js';
import type { ClassScores } from '../metrics.js';
import { matrixToPng } from '../png.js';
import type { OutputFormat } from './config.js';
import { esc, plotSvg, systemsFor } from './report-plot.js';
import type { ExperimentReport } from './schema.js';
import { chanceOf, sizeOf } from './verdicts.js';

export interface ReportAssets {
  data: ExperimentData;
  /** The deployed obfuscator (ONNX) and the rule it runs under. */
  onnx: string;
  window: WindowConfig;
  synthesis: SynthesisConfig;
  deobfuscator: CycleGanVc2Generator;
  examples: number;
}

const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;
const ci = (s: ClassScores | undefined): string =>
  s === undefined ? '—' : `${pct(s.accuracy)} <small>[${pct(s.accuracyCI.lo)}, ${pct(s.accuracyCI.hi)}]</small>`;

/** Write report.html for a (possibly partial) report; examples only when `assets` are given. */
export async function writeReportHtml(file: string, r: ExperimentReport, assets?: ReportAssets): Promise<void> {
  const examples = assets && assets.examples > 0 ? await exampleBlocks(assets) : '';
  const mark = (s: string): string => (s === 'holds' ? '✔ holds' : s === 'fails' ? '✘ fails' : '? inconclusive');
  const verdictList = (judged: boolean): string =>
    r.verdicts
      .filter((v) => v.judged === judged)
      .map(
        (v) =>
          `<li class="${v.status === 'holds' ? 'ok' : v.status === 'fails' ? 'no' : 'open'}">${mark(v.status)}: ${esc(v.claim)} (${esc(v.detail)})</li>`,
      )
      .join('');
  const attributes = [...new Set((r.attacks ?? []).map((a) => a.attribute))];
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>earmark ${esc(r.experiment)}: ${esc(r.dataset.name)}</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;max-width:1200px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}th{background:#f3f3f3}
td:first-child,th:first-child{text-align:left}.ok{color:#176b2c}.no{color:#a4161a;font-weight:600}.open{color:#8a6d00}small{color:#666}
figure{display:inline-block;margin:0 1em 1em 0;vertical-align:top}figcaption{font-size:12px;color:#555}img.spec{image-rendering:pixelated;border:1px solid #ccc}
pre{background:#f6f6f6;padding:1em;overflow:auto;font-size:12px}
</style></head><body>
<h1>${esc(r.title)}</h1>
<p>Dataset <b>${esc(r.dataset.name)}</b> (${esc(r.dataset.root)}): ${r.dataset.counts['train'] ?? '?'} train / ${r.dataset.counts['val'] ?? '?'} val / ${r.dataset.counts['test'] ?? '?'} test utterances${r.dataset.skipped ? `, ${r.dataset.skipped} unreadable files skipped` : ''}.
${r.obfuscator ? `Obfuscator ${r.obfuscator.parameters.toLocaleString('en')} parameters, deobfuscator ${r.obfuscator.deobfuscatorParameters.toLocaleString('en')}.` : ''}
${r.deployed ? `Deployed as ${esc(r.deployed.onnx)} (windows of 128 frames, 16 of context, fixed output level ${r.deployed.outputMean.toFixed(3)} ± ${r.deployed.outputStd.toFixed(3)}; PCM by ${esc(r.deployed.synthesis)}).` : ''} Written ${esc(r.createdAt)}.</p>
<h2>Stages</h2><table><tr><th>stage</th><th>status</th><th>s</th><th>error</th></tr>
${r.stages.map((s) => `<tr><td>${esc(s.name)}</td><td class="${s.status === 'done' ? 'ok' : 'no'}">${s.status}</td><td>${s.seconds.toFixed(0)}</td><td>${esc(s.error ?? '')}</td></tr>`).join('')}</table>
<h2>Verdicts (from the 95% intervals)</h2><ul>${verdictList(true)}</ul>
${r.verdicts.some((v) => !v.judged) ? `<details><summary>Shown, not judged</summary><ul>${verdictList(false)}</ul></details>` : ''}
${r.notes.length || r.baselines?.notes.length ? `<h2>Notes</h2><ul>${[...r.notes, ...(r.baselines?.notes ?? [])].map((n) => `<li>${esc(n)}</li>`).join('')}</ul>` : ''}
${attributes.length ? '<h2>Target accuracy against attacker accuracy</h2>' : ''}${attributes.map((a) => (systemsFor(r, a).length ? plotSvg(r, a) : '')).join('\n')}
${targetTable(r)}${attackTables(r)}${protocolTable(r)}${inversionTable(r)}${baselineTable(r)}${eerTable(r)}${edgeTable(r)}
${
  r.obfuscator
    ? `<h2>Obfuscator training</h2>
<table><tr><th>epoch</th><th>L_a</th><th>L_t</th><th>L_p</th><th>val T acc (obfuscated)</th><th>val T acc (clean)</th><th>val L_a</th><th>s</th></tr>
${r.obfuscator.history.map((e) => `<tr><td>${e.epoch + 1}${e.epoch === r.obfuscator!.selectedEpoch ? ' (selected)' : ''}</td><td>${e.la.toFixed(4)}</td><td>${e.lt.toFixed(4)}</td><td>${e.lp.toFixed(4)}</td><td>${pct(e.valTargetAcc)}</td><td>${pct(e.valCleanAcc)}</td><td>${e.valLa.toFixed(4)}</td><td>${e.seconds.toFixed(0)}</td></tr>`).join('')}</table>`
    : ''
}
${examples}
<h2>Timings (s)</h2><p>${Object.entries(r.seconds)
    .map(([k, v]) => `${esc(k)} ${v.toFixed(0)}`)
    .join(' · ')}</p>
<h2>Resolved configuration</h2><pre>${esc(JSON.stringify(r.config, null, 2))}</pre>
</body></html>`;
  await writeFileAtomic(file, html);
}

function targetTable(r: ExperimentReport): string {
  const t = r.target;
  if (!t) return '';
  const fs = Object.keys(t.formats) as OutputFormat[];
  return `<h2>Target task: ${esc(t.task)} (${t.classes.length} classes, chance ${pct(chanceOf(t.clean))})</h2>
<table><tr><th>T on</th><th>clean test audio</th>${fs.map((f) => `<th>${f} (as shipped)</th>`).join('')}</tr>
<tr><td>accuracy [95% interval]</td><td>${ci(t.clean)}</td>${fs.map((f) => `<td>${ci(t.formats[f])}</td>`).join('')}</tr></table>`;
}

function attackTables(r: ExperimentReport): string {
  const nets = [...new Set((r.inversion ?? []).map((n) => n.name))];
  return (r.attacks ?? [])
    .map((a) => {
      const fs = Object.keys(a.formats) as OutputFormat[];
      const note =
        a.functionOfTask && a.protocol === 'closed-set'
          ? ` <small>(${esc(a.attribute)} is a function of the granted ${esc(r.target?.task ?? 'task')} here: shown, not judged)</small>`
          : '';
      const by = a.clean.speakers === undefined ? '' : '; intervals resample speakers';
      const task = a.taskOutputClean !== undefined || fs.some((f) => a.formats[f]!.taskOutput !== undefined);
      const floor =
        a.taskOutputClean === undefined
          ? ''
          : `<p>T's posteriors on clean audio read ${esc(a.attribute)} at ${ci(a.taskOutputClean)}: the floor of any obfuscator that keeps T's posterior, against an attacker who holds T.</p>`;
      return `<h3>${esc(a.attribute)}, ${esc(a.protocol)} protocol (${a.classes.length} classes, chance ${pct(chanceOf(a.clean))}, ${sizeOf(a.clean)}${by})${note}</h3>
<table><tr><th>format</th><th>clean classifier (clean audio)</th><th>ignorant</th><th>informed (retrained on this format)</th>${task ? "<th>task output (the app: T's posteriors)</th>" : ''}${nets.map((n) => `<th>fresh inversion: ${esc(n)}</th>`).join('')}<th>in-training (optimistic)</th></tr>
${fs
  .map((f) => {
    const x = a.formats[f]!;
    return `<tr><td>${f}</td><td>${ci(a.clean)}</td><td>${ci(x.ignorant)}</td><td>${ci(x.informed)}</td>${task ? `<td>${ci(x.taskOutput)}</td>` : ''}${nets.map((n) => `<td>${ci(x.inversion[n])}</td>`).join('')}<td>${ci(x.inTraining)}</td></tr>`;
  })
  .join('')}</table>${floor}`;
    })
    .join('\n');
}

function protocolTable(r: ExperimentReport): string {
  const p = r.protocols;
  if (!p) return '';
  const rows = Object.values(p.splits).map(
    (s) =>
      `<tr><td>${esc(s!.protocol)}${s!.protocol === p.primary ? ' (primary)' : ''}</td><td>${s!.train.length} / ${s!.val.length} / ${s!.test.length}</td><td>${esc(s!.how)}${s!.heldOutSpeakers ? `: ${esc(s!.heldOutSpeakers.join(', '))}` : ''}</td></tr>`,
  );
  const off = Object.entries(p.unavailable).map(
    ([k, v]) => `<tr><td>${esc(k)}</td><td>—</td><td>unavailable: ${esc(v ?? '')}</td></tr>`,
  );
  return `<h2>Attacker protocols</h2><table><tr><th>protocol</th><th>attacker train / val / test utterances</th><th>how</th></tr>${[...rows, ...off].join('')}</table>`;
}

function inversionTable(r: ExperimentReport): string {
  if (!r.inversion?.length) return '';
  return `<h2>Fresh inversion attackers</h2><p><small>New CycleGAN-VC2 generators trained on (shipped output, clean input) pairs of the attackers' training utterances, against the frozen obfuscator; the clean classifiers then judge their reconstructions of the shipped test outputs.</small></p>
<table><tr><th>network</th><th>format</th><th>C / R</th><th>parameters</th><th>training utterances</th><th>best epoch</th><th>val MSE (best)</th><th>s</th></tr>
${r.inversion.map((n) => `<tr><td>${esc(n.name)}</td><td>${n.format}</td><td>${n.channels} / ${n.residualBlocks}</td><td>${n.parameters.toLocaleString('en')}</td><td>${n.trainUtterances} (${esc(n.protocol)})</td><td>${n.bestEpoch + 1}</td><td>${(n.history[n.bestEpoch]?.valMse ?? NaN).toFixed(4)}</td><td>${n.history.reduce((s, e) => s + e.seconds, 0).toFixed(0)}</td></tr>`).join('')}</table>`;
}

function baselineTable(r: ExperimentReport): string {
  const rows: string[] = [];
  for (const [p, rep] of Object.entries(r.baselines?.mcadams ?? {})) {
    for (const a of rep!.attacks)
      rows.push(
        `<tr><td>McAdams (${esc(p)})</td><td>${esc(a.attribute)}</td><td>${pct(rep!.target.clean.accuracy)} → ${pct(rep!.target.transformed.accuracy)}</td><td>${ci(a.clean)}</td><td>${ci(a.ignorant)}</td><td>${ci(a.informed)}</td></tr>`,
      );
  }
  const adr = r.baselines?.adr;
  for (const a of adr?.attacks ?? [])
    rows.push(
      `<tr><td>ADR (hides ${esc(adr!.hidden)}, x-vectors)</td><td>${esc(a.attribute)}</td><td>${pct(adr!.target.clean.accuracy)} → ${pct(adr!.target.transformed.accuracy)}</td><td>${ci(a.clean)}</td><td>${ci(a.ignorant)}</td><td>${ci(a.informed)}</td></tr>`,
    );
  if (!rows.length) return '';
  return `<h2>Baselines</h2><table><tr><th>system</th><th>attribute</th><th>target clean → on output</th><th>clean classifier</th><th>ignorant</th><th>informed</th></tr>${rows.join('')}</table>
<p><small>McAdams is judged by T and the DS2 attackers on anonymised audio under the same protocols; ADR by classifiers on x-vectors (closed set), told to hide a protected attribute, never the granted task.</small></p>`;
}

function edgeTable(r: ExperimentReport): string {
  const e = r.edge;
  if (!e) return '';
  const row = (who: string, c: { fp32: number; int8: number; changed: number }): string =>
    `<tr><td>${esc(who)}</td><td>${pct(c.fp32)}</td><td>${pct(c.int8)}</td><td>${c.changed}</td></tr>`;
  return `<h2>On the device: ONNX float32 and int8 (${esc(e.int8)})</h2>
<table><tr><th>model (frames)</th><th>float32</th><th>int8</th><th>decisions changed</th></tr>${row(`T (${r.target?.task ?? ''})`, e.target)}
${Object.entries(e.attacks)
  .map(([attr, c]) => row(`informed ${attr} attacker`, c))
  .join('')}</table>`;
}

function eerTable(r: ExperimentReport): string {
  const rows: string[] = [];
  const fmt = (e: Record<string, { eer: number }> | undefined, g: string): string => (e?.[g] ? pct(e[g]!.eer) : '–');
  for (const v of r.verification ?? [])
    for (const g of ['all', 'female', 'male']) {
      rows.push(
        `<tr><td>${esc(v.system)}</td><td>${g}</td><td>${fmt(v.original, g)}</td><td>${fmt(v.ignorant, g)}</td><td>${fmt(v.lazyInformed, g)}</td><td>${fmt(v.informed, g)}</td></tr>`,
      );
    }
  if (!rows.length) return '';
  return `<h2>Speaker verification (x-vector cosine scoring; 50% = chance)</h2>
<table><tr><th>system</th><th>gender</th><th>original</th><th>ignorant</th><th>lazy-informed</th><th>informed</th></tr>${rows.join('')}</table>`;
}

/** Spectrograms and audio of the first test utterances: clean X, X̃ as shipped (phase-free), F_μ(X̃) (phase-free). */
async function exampleBlocks(a: ReportAssets): Promise<string> {
  const session = await OnnxSession.load(a.onnx);
  const blocks: string[] = [];
  const fe = new Ds2Frontend();
  try {
    for (const id of a.data.sets.test.ids.slice(0, a.examples)) {
      const u = a.data.byId.get(id)!;
      const x = (await loadAudio(u.path, { mono: true, sampleRate: 16000 })).samples;
      const clean = fe.analyze(x);
      const shipped = await obfuscateOffline((v) => session.run(v), x, a.window, true, a.synthesis);
      const frames = shipped.frames;
      const norm = (s: Float32Array): Float32Array => {
        const c = s.slice();
        normalizeInPlace(c);
        return c;
      };
      // F_μ on the shipped frames (normalised as an app would), de-normalised with the deployed level for audio
      const rec = noGrad(() =>
        tidy(() => a.deobfuscator.forward(tensor(norm(shipped.logMag), [1, 161, frames])).toFloat32Array()),
      );
      const level = { mean: a.window.outputMean ?? 0, std: a.window.outputStd ?? 1 };
      const recAudio = synthesizeLogMagnitude(
        rec.map((v) => v * level.std + level.mean),
        161,
        frames,
        x.length,
        a.synthesis,
      ).audio;
      const wav = (y: Float32Array): string => Buffer.from(encodeWav(y, 16000, { format: 'pcm16' })).toString('base64');
      const images = [norm(clean.logMag), norm(shipped.logMag), rec].map((s) =>
        matrixToPng(s, 161, frames, { lo: -2, hi: 3 }).toString('base64'),
      );
      const names = ['clean X', 'X̃ as shipped (phase-free audio)', 'co-trained F_μ(X̃) (phase-free audio)'];
      const audio = [wav(x), wav(shipped.audio!), wav(recAudio)];
      blocks.push(
        `<h3>${esc(id)} <small>(speaker ${esc(u.speaker)}, ${esc(u.gender ?? '?')}, ${esc(u.emotion ?? '?')})</small></h3>` +
          names
            .map(
              (n, i) =>
                `<figure><img class="spec" alt="${esc(n)}" width="${Math.min(600, frames * 2)}" height="240" src="data:image/png;base64,${images[i]}">` +
                `<figcaption>${esc(n)}</figcaption><audio controls src="data:audio/wav;base64,${audio[i]}"></audio></figure>`,
            )
            .join(''),
      );
    }
  } finally {
    await session.close();
  }
  return blocks.length
    ? `<h2>Examples (audio as shipped: synthesised from the obfuscated magnitude alone)</h2>${blocks.join('\n')}`
    : '';
}
