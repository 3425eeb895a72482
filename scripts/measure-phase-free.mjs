// Measures the phase-free synthesis methods of src/edge/synthesis.ts on a trained fig4 run (issue 11,
// deliverable 1): spectral convergence of the audio to the obfuscated magnitude, ms of synthesis per
// second of audio (one thread), the added algorithmic latency, the zeroed-model leak (correlation of the
// re-analysed output's log1p|STFT| with the input's), and T and the attackers on the audio re-analysed
// as an app would (16-bit PCM → DS2 front-end), beside frames and clean audio. Spectral convergence is
// measured before the level control (which scales the audio by design); the level column gives the
// median over utterances of the largest gain reduction and the share of samples the limiter touched.
// Prints a Markdown table and writes the numbers to <run>/phase-free.json.
//
// Usage (after `npx earmark corpus speech` and a fig4 run, e.g.
//   npx earmark experiment fig4 --manifest data/builtin/speech-0-0/labels.csv --obfuscator-epochs 3 --out runs/phase-check):
//   node scripts/measure-phase-free.mjs --run runs/phase-check --manifest data/builtin/speech-0-0/labels.csv [--limit 96]
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';

const dist = new URL('../dist/src/', import.meta.url);
const imp = (p) => import(new URL(p, dist).href);
const { loadAudio } = await imp('audio/io.js');
const { DATASET_DEFAULTS, classNames, labelled, loadExperimentData, setsFor } = await imp('data/experiment-data.js');
const { exportGenerator, inferGeneratorShape } = await imp('edge/export-obfuscator.js');
const { obfuscateWindowed, windowPlan } = await imp('edge/obfuscate.js');
const { encodeModel } = await imp('edge/onnx.js');
const { OnnxSession } = await imp('edge/runtime.js');
const { Ds2Frontend, normalizeInPlace } = await imp('edge/spectrogram.js');
const { reanalyzePcm, resolveSynthesisConfig, spectralConvergence, synthesizeWindows } = await imp('edge/synthesis.js');
const { exportObfuscator } = await imp('deploy/export.js');
const { accuracy, predict } = await imp('methods/classifier.js');
const { loadCheckpoint } = await imp('methods/checkpoint.js');
const { DeepSpeech2, resolveDeepSpeech2Config } = await imp('models/deepspeech2.js');
const { decodeRaw } = await imp('serialize/safetensors-format.js');

const { values: a } = parseArgs({
  options: { run: { type: 'string' }, manifest: { type: 'string' }, limit: { type: 'string' } },
});
if (!a.run || !a.manifest) throw new Error('give --run <fig4 run folder> and --manifest <labels.csv>');
const runDir = a.run;
const config = JSON.parse(readFileSync(path.join(runDir, 'config.json'), 'utf8'));
const W = { windowFrames: 128, lookaheadFrames: 16 };
const METHODS = [
  { label: 'original phase (unsafe, reference)', cfg: { method: 'unsafe-original-phase' } },
  { label: 'RTPGHI', cfg: { method: 'rtpghi' } },
  { label: 'RTISI-LA L=1, 8 it.', cfg: { method: 'rtisi-la', lookahead: 1, iterations: 8 } },
  { label: 'RTISI-LA L=3, 8 it.', cfg: { method: 'rtisi-la', lookahead: 3, iterations: 8 } },
  { label: 'RTISI-LA L=3, 16 it.', cfg: { method: 'rtisi-la', lookahead: 3, iterations: 16 } },
  { label: 'Griffin-Lim per window, 32 it.', cfg: { method: 'gla', iterations: 32, lookahead: 16 } },
];

// the trained obfuscator as deployed, and a copy whose last convolution outputs zeros
const onnx = path.join(runDir, 'obfuscator.onnx');
exportObfuscator(path.join(runDir, 'obfuscator.safetensors'), onnx);
const raw = decodeRaw(readFileSync(path.join(runDir, 'obfuscator.safetensors')), 'obfuscator');
const prefix = [...raw.tensors.keys()].some((k) => k.startsWith('bestObfuscator.')) ? 'bestObfuscator.' : 'obfuscator.';
const weights = new Map();
for (const [k, t] of raw.tensors)
  if (k.startsWith(prefix))
    weights.set(k.slice(prefix.length), { data: new Float32Array(new Uint8Array(t.data).buffer), shape: t.shape });
for (const k of ['lastConvLayer.weight', 'lastConvLayer.bias']) weights.get(k).data.fill(0);
const zeroedFile = path.join(runDir, 'obfuscator.zeroed-last-conv.onnx');
writeFileSync(zeroedFile, encodeModel(exportGenerator(inferGeneratorShape(weights), weights)));
const [session, zeroed] = [await OnnxSession.load(onnx), await OnnxSession.load(zeroedFile)];

// the test utterances of T's task and of each attacked attribute
const data = await loadExperimentData({ ...DATASET_DEFAULTS, manifest: a.manifest }, runDir, false);
const limit = a.limit ? Number(a.limit) : Infinity;
const tasks = [
  { name: 'T', attr: 'speaker', ckpt: 'target' },
  ...['gender', 'emotion'].flatMap((attr) => [
    { name: `clean ${attr} (ignorant)`, attr, ckpt: `clean-${attr}` },
    { name: `informed ${attr}`, attr, ckpt: `informed-${attr}` },
  ]),
];
const testIds = [...new Set(tasks.flatMap((t) => setsFor(data, t.attr).test.ids))].slice(0, limit);
const models = tasks.map((t) => {
  const m = new DeepSpeech2(resolveDeepSpeech2Config({ ...config.model, numClasses: classNames(data, t.attr).length }));
  loadCheckpoint(path.join(runDir, `${t.ckpt}.safetensors`), { modules: { best: m } });
  return m.eval();
});

const corr = (x, y) => {
  let mx = 0,
    my = 0;
  for (let i = 0; i < x.length; i++) {
    mx += x[i];
    my += y[i];
  }
  mx /= x.length;
  my /= y.length;
  let xy = 0,
    xx = 0,
    yy = 0;
  for (let i = 0; i < x.length; i++) {
    const u = x[i] - mx,
      v = y[i] - my;
    xy += u * v;
    xx += u * u;
    yy += v * v;
  }
  return xy / Math.sqrt(xx * yy);
};
// correlation after removing each window's kept-frame mean from both: what a per-window constant (the
// zeroed model's only output) cannot carry
const withinCorr = (x, y, frames) => {
  const [u, v] = [x.slice(), y.slice()];
  for (const s of windowPlan(frames, W))
    for (const m of [u, v]) {
      let sum = 0;
      for (let f = 0; f < 161; f++) for (let t = s.keepFrom; t < s.keepTo; t++) sum += m[f * frames + t];
      const mean = sum / (161 * (s.keepTo - s.keepFrom));
      for (let f = 0; f < 161; f++) for (let t = s.keepFrom; t < s.keepTo; t++) m[f * frames + t] -= mean;
    }
  return corr(u, v);
};
const normalised = (s) => {
  const c = s.slice();
  normalizeInPlace(c);
  return c;
};
const fe = new Ds2Frontend();
const feats = { clean: new Map(), frames: new Map(), ...Object.fromEntries(METHODS.map((m) => [m.label, new Map()])) };
const stats = Object.fromEntries(
  METHODS.map((m) => [
    m.label,
    { sc: 0, scRaw: 0, ms: 0, seconds: 0, limited: 0, samples: 0, zeroCorr: 0, zeroWithin: 0, n: 0, gains: [] },
  ]),
);
let zeroFramesCorr = 0;
let zeroFramesWithin = 0;
const t0 = Date.now();
for (const [i, id] of testIds.entries()) {
  const x = (await loadAudio(data.byId.get(id).path, { sampleRate: 16000, mono: true })).samples;
  const { logMag, phase, frames } = fe.analyze(x);
  feats.clean.set(id, normalised(logMag));
  const spans = (r) => r.plan.map((s, k) => ({ keepFrom: s.keepFrom, keepTo: s.keepTo, context: r.contexts[k] }));
  const r = await obfuscateWindowed((v) => session.run(v), logMag, 161, frames, W, 16);
  const rz = await obfuscateWindowed((v) => zeroed.run(v), logMag, 161, frames, W, 16);
  feats.frames.set(id, normalised(r.logMag));
  zeroFramesCorr += corr(logMag, rz.logMag);
  zeroFramesWithin += withinCorr(logMag, rz.logMag, frames);
  for (const m of METHODS) {
    const unsafe = m.cfg.method === 'unsafe-original-phase' ? phase : undefined;
    const ts = performance.now();
    const out = synthesizeWindows(r.logMag, 161, frames, spans(r), x.length, m.cfg, unsafe);
    const st = stats[m.label];
    st.ms += performance.now() - ts;
    st.seconds += x.length / 16000;
    st.sc += spectralConvergence(r.logMag, out.audio);
    st.scRaw += spectralConvergence(
      r.logMag,
      synthesizeWindows(r.logMag, 161, frames, spans(r), x.length, m.cfg, unsafe, { limit: false }).audio,
    );
    st.limited += out.limitedSamples;
    st.gains.push(out.minGainDb);
    st.samples += x.length;
    feats[m.label].set(id, reanalyzePcm(out.audio).spectrogram);
    const z = synthesizeWindows(rz.logMag, 161, frames, spans(rz), x.length, m.cfg, unsafe);
    const zl = reanalyzePcm(z.audio).logMag;
    st.zeroCorr += corr(logMag, zl);
    st.zeroWithin += withinCorr(logMag, zl, frames);
    st.n++;
  }
  if (i % 16 === 15) console.error(`${i + 1}/${testIds.length} utterances, ${((Date.now() - t0) / 1000).toFixed(0)} s`);
}

const score = (which) =>
  tasks.map((t, k) => {
    const sets = setsFor(data, t.attr);
    const l = labelled(data, sets.test, t.attr);
    const keep = l.set.ids.map((id, j) => [id, j]).filter(([id]) => feats[which].has(id));
    const set = {
      ids: keep.map(([id]) => id),
      specs: keep.map(([id]) => feats[which].get(id)),
      frames: keep.map(([id]) => feats[which].get(id).length / 161),
      nFreq: 161,
    };
    return accuracy(
      predict(models[k], set),
      keep.map(([, j]) => l.labels[j]),
    );
  });
const pct = (v) => `${(100 * v).toFixed(1)}%`;
const rows = [];
const head = [
  'output',
  'spectral conv.',
  'ms per s of audio',
  'added latency',
  ...tasks.map((t) => t.name),
  'zeroed-model corr. (plain / within windows)',
  'level: median gain, samples limited',
];
// within-window correlation is undefined (0/0) for the zeroed model's frames: constant in every window
const fmtCorr = (p, w) => `${p.toFixed(3)} / ${Number.isNaN(w) ? 'constant' : w.toFixed(3)}`;
const median = (v) => {
  const u = [...v].sort((x, y) => x - y);
  return u[Math.floor(u.length / 2)];
};
rows.push([
  'clean audio',
  '',
  '',
  '',
  ...score('clean').map((v, k) => (tasks[k].name.startsWith('informed') ? '—' : pct(v))),
  '',
  '',
]);
rows.push([
  'frames',
  '',
  '',
  '',
  ...score('frames').map(pct),
  fmtCorr(zeroFramesCorr / testIds.length, zeroFramesWithin / testIds.length),
  '',
]);
const json = { run: runDir, utterances: testIds.length, window: W, methods: {} };
for (const m of METHODS) {
  const st = stats[m.label];
  const cfg = resolveSynthesisConfig(m.cfg);
  const extra = Math.max(0, Math.min(cfg.lookahead, m.cfg.method === 'rtpghi' ? 1 : cfg.lookahead) - W.lookaheadFrames);
  const acc = score(m.label);
  json.methods[m.label] = {
    config: cfg,
    spectralConvergence: st.sc / st.n,
    spectralConvergenceUnlimited: st.scRaw / st.n,
    msPerSecond: st.ms / st.seconds,
    addedLatencyMs: 10 * extra,
    accuracy: Object.fromEntries(tasks.map((t, k) => [t.name, acc[k]])),
    zeroedCorrelation: st.zeroCorr / st.n,
    zeroedWithinWindowCorrelation: st.zeroWithin / st.n,
    limitedFraction: st.limited / st.samples,
    medianGainDb: median(st.gains),
  };
  rows.push([
    m.label,
    (st.scRaw / st.n).toFixed(3),
    (st.ms / st.seconds).toFixed(1),
    `${10 * extra} ms`,
    ...acc.map(pct),
    fmtCorr(st.zeroCorr / st.n, st.zeroWithin / st.n),
    `${median(st.gains).toFixed(1)} dB, ${((100 * st.limited) / st.samples).toFixed(3)}%`,
  ]);
}
json.frames = {
  zeroedCorrelation: zeroFramesCorr / testIds.length,
  zeroedWithinWindowCorrelation: zeroFramesWithin / testIds.length,
};
json.load = (await import('node:os')).loadavg();
writeFileSync(path.join(runDir, 'phase-free.json'), JSON.stringify(json, null, 2));
console.log(
  `\n${testIds.length} test utterances of ${a.manifest}, run ${runDir}, window W=${W.windowFrames} M=${W.lookaheadFrames}\n`,
);
console.log(`| ${head.join(' | ')} |\n|${head.map(() => '---').join('|')}|`);
for (const r of rows) console.log(`| ${r.join(' | ')} |`);
for (const m of models) m.dispose();
await session.close();
await zeroed.close();
