// RDAL's evaluation protocol (specs/seed003-rdal.md §4; lndip/RDAL verification*.py, read_pickle.ipynb)
// and the experiment that runs methods × N runs into one report:
//   utility   argmax C(F(x)) on every eval clip: accuracy and macro-F1
//   speech    a fresh attacker trained on frozen train latents (early stop on val BCE): accuracy at 0.5,
//             speech recall, ROC AUC on the eval split; plus the in-training adversary D's accuracy
//   gender    the same recipe on speech clips only (female 0 / male 1)
// Runs of a method differ by seed; tables give mean ± population std (np.std), as the reference.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { loadSoundscapes, type SoundscapeData, type SoundscapeSet } from '../../data/soundscape-set.js';
import { encodeSet, mlpProbabilities, trainAttacker, type LatentSet } from '../../methods/rdal/adversary.js';
import { resolveRdalConfig, type RdalConfig, type RdalMethod } from '../../methods/rdal/config.js';
import { applyMask, trainOrLoadMask } from '../../methods/rdal/mask.js';
import { rdalIdentity, trainRdal, type RdalRun } from '../../methods/rdal/train.js';
import type { AmpDtype } from '../../tensor/index.js';
import { readStageJson, stageIdentity, writeStageJson } from '../../methods/stage.js';
import type { MaskUNet } from '../../models/sed-cnn.js';
import { noGrad, tensor, tidy } from '../../tensor/index.js';
import { writeFileAtomicSync } from '../../util/atomic.js';
import { Rng } from '../../util/rng.js';
import { rocAuc } from '../roc.js';
import { pairedComparison, pairedComparisons } from './paired.js';
import { renderRdalReport } from './report.js';
import { METRIC_KEYS, type RdalReport, type RdalRunMetrics, type RdalSummaryRow } from './schema.js';

/** Mean and population standard deviation of the finite values. */
export function meanStd(xs: readonly (number | null)[]): { mean: number; std: number; n: number } {
  const v = xs.filter((x): x is number => x !== null && Number.isFinite(x));
  if (v.length === 0) return { mean: Number.NaN, std: Number.NaN, n: 0 };
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  return { mean, std: Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / v.length), n: v.length };
}

/**
 * Macro-averaged F1 over `numClasses` classes (classes absent from both labels and predictions count 0,
 * as scikit-learn's f1_score(average='macro') with zero_division=0 over the given labels).
 */
export function macroF1(pred: readonly number[], labels: readonly number[], numClasses: number): number {
  let sum = 0;
  for (let k = 0; k < numClasses; k++) {
    let tp = 0;
    let fp = 0;
    let fn = 0;
    for (let i = 0; i < pred.length; i++) {
      if (pred[i] === k && labels[i] === k) tp++;
      else if (pred[i] === k) fp++;
      else if (labels[i] === k) fn++;
    }
    sum += tp === 0 ? 0 : (2 * tp) / (2 * tp + fp + fn);
  }
  return sum / numClasses;
}

function pick(s: LatentSet, d: number, keep: (i: number) => boolean, label: (i: number) => number): LatentSet {
  const idx = s.y.map((_, i) => i).filter(keep);
  const z = new Float32Array(idx.length * d);
  idx.forEach((i, b) => z.set(s.z.subarray(i * d, (i + 1) * d), b * d));
  return { z, y: idx.map(label) };
}

/**
 * Evaluate a trained run on the eval split with fresh attackers on its frozen latents.
 * @example const m = evaluateRdal(run, data, cfg, 0);
 */
export function evaluateRdal(
  run: RdalRun,
  sets: { train: SoundscapeSet; val: SoundscapeSet; eval: SoundscapeSet },
  c: RdalConfig,
  seed: number,
): Omit<RdalRunMetrics, 'method' | 'run' | 'seed' | 'bestEpoch' | 'epochsRun' | 'seconds'> {
  const d = c.model.latent;
  const z = {
    train: encodeSet(run.encoder, sets.train),
    val: encodeSet(run.encoder, sets.val),
    eval: encodeSet(run.encoder, sets.eval),
  };
  const ev = sets.eval;
  // utility
  const pred = noGrad(() =>
    tidy(() =>
      Array.from(
        run.head
          .eval()
          .forward(tensor(z.eval, [ev.n, d]))
          .argmax(1)
          .float()
          .toFloat32Array(),
      ),
    ),
  );
  const eventAcc = pred.filter((p, i) => p === ev.event[i]).length / ev.n;
  const eventMacroF1 = macroF1(pred, ev.event, c.model.numClasses);
  // in-training adversary
  const adv = mlpProbabilities(run.adversary, z.eval, d);
  const advAcc = run.method === 'baseline' ? null : accuracyAt(adv, ev.speech);
  // fresh speech attacker
  const rng = new Rng(seed).derive('attackers');
  const sp = (s: SoundscapeSet, zz: Float32Array): LatentSet => ({ z: zz, y: s.speech });
  const speech = trainAttacker(sp(sets.train, z.train), sp(sets.val, z.val), d, c.attacker, rng.derive('speech'));
  const p = mlpProbabilities(speech.model, z.eval, d);
  speech.model.dispose();
  const speechAcc = accuracyAt(p, ev.speech);
  const pos = ev.speech.filter((y) => y === 1).length;
  const speechRecall = ev.speech.filter((y, i) => y === 1 && p[i]! >= 0.5).length / Math.max(1, pos);
  const speechAuc = rocAuc(p, ev.speech);
  // gender attacker on the speech clips only
  const g = (s: SoundscapeSet, zz: Float32Array): LatentSet =>
    pick(
      { z: zz, y: s.gender },
      d,
      (i) => s.gender[i]! >= 0,
      (i) => s.gender[i]!,
    );
  const gTrain = g(sets.train, z.train);
  const gVal = g(sets.val, z.val);
  const gEval = g(ev, z.eval);
  const gender = trainAttacker(gTrain, gVal, d, c.attacker, rng.derive('gender'));
  const gp = mlpProbabilities(gender.model, gEval.z, d);
  gender.model.dispose();
  return {
    eventAcc,
    eventMacroF1,
    advAcc,
    speechAcc,
    speechRecall,
    speechAuc,
    speechValBce: speech.bestValBce,
    genderAcc: accuracyAt(gp, gEval.y),
    genderAuc: rocAuc(gp, gEval.y),
    speechProb: Array.from(p, (x) => Math.round(x * 1e5) / 1e5),
    speechLabel: ev.speech.slice(),
  };
}

function accuracyAt(prob: ArrayLike<number>, y: readonly number[]): number {
  let hits = 0;
  for (let i = 0; i < y.length; i++) if ((prob[i]! >= 0.5 ? 1 : 0) === y[i]) hits++;
  return hits / y.length;
}

// ---- the experiment ------------------------------------------------------------------------------

export interface RdalExperimentOptions {
  /** A soundscape-layout folder (labels.csv). */
  data: string;
  methods: RdalMethod[];
  /** Independent runs per method (seeds seed, seed+1, …). */
  runs: number;
  /** Resolved config (the preset merged with overrides). */
  config: RdalConfig;
  /** Output folder: one sub-folder per run, report.json, report.html. */
  out: string;
  /** Skip runs whose metrics.json exists and continue interrupted runs from their checkpoint (both when made by the same config and data). */
  resume?: boolean;
  /** A run folder made with another config or other clips: retrain that run (true, the default) or refuse (false). */
  retrain?: boolean;
  quiet?: boolean;
  /** Extra provenance stored in report.json (e.g. the preset name). */
  meta?: Record<string, unknown>;
  log?: (line: string) => void;
  /** Where F, C and D train: 'cpu', 'cuda', 'cuda:N' (default: cuda if present, else cpu). */
  device?: string;
  /** Mixed precision of that training ('bfloat16', 'float16' on CUDA; default off). */
  amp?: AmpDtype | null;
}

/**
 * Train and evaluate every method `runs` times and write report.json and report.html under `out`.
 * @example await runRdalExperiment({ data: 'data/builtin/soundscapes-0', methods: ['baseline', 'naive', 'rdal'], runs: 3, config, out: 'runs/rdal' });
 */
export async function runRdalExperiment(o: RdalExperimentOptions): Promise<RdalReport> {
  const log =
    o.log ??
    ((s: string) => {
      if (!o.quiet) console.error(s);
    });
  mkdirSync(o.out, { recursive: true });
  const t0 = Date.now();
  const data: SoundscapeData = await loadSoundscapes(o.data, {
    eventParts: o.methods.includes('rdal-m'),
    progress: !o.quiet,
  });
  // the event head follows the data's classes
  const c = resolveRdalConfig({ ...o.config, model: { ...o.config.model, numClasses: data.classes.length } });
  log(
    `log-mels: ${data.train.n}/${data.val.n}/${data.eval.n} clips × ${data.train.nMels}×${data.train.frames} in ${((Date.now() - t0) / 1000).toFixed(1)} s`,
  );
  const results: RdalRunMetrics[] = [];
  for (const method of o.methods) {
    for (let r = 0; r < o.runs; r++) {
      const seed = c.train.seed + r;
      const dir = path.join(o.out, `${method}-run${r}`);
      const metricsFile = path.join(dir, 'metrics.json');
      const rc: RdalConfig = { ...c, train: { ...c.train, seed } };
      const stage = { retrain: o.retrain ?? true, log, label: `${method} run ${r}` };
      // what made a run's metrics: its training identity plus the eval clips and the attackers' config
      const base = rdalIdentity(method, rc, { train: data.train, val: data.val, eval: data.eval });
      const id = stageIdentity(`${method}-run${r}`, { ...(base.config as object), attacker: rc.attacker }, base.inputs);
      const done = o.resume ? readStageJson<RdalRunMetrics>(metricsFile, id, stage) : undefined;
      if (done !== undefined) {
        results.push(done);
        log(`${method} run ${r}: done before, skipped`);
        continue;
      }
      const start = Date.now();
      let sets: { train: SoundscapeSet; val: SoundscapeSet; eval: SoundscapeSet } = data;
      let mask: MaskUNet | null = null;
      if (method === 'rdal-m') {
        const m = trainOrLoadMask({
          dir,
          train: data.train,
          val: data.val,
          mask: rc.mask,
          maskTrain: rc.maskTrain,
          seed,
          resume: o.resume ?? false,
          quiet: o.quiet ?? true,
          ...stage,
        });
        mask = m.mask;
        if (m.trained)
          log(
            `${method} run ${r}: mask U-Net val L1 ${m.trained.bestValL1.toFixed(4)} after ${m.trained.epochs} epochs`,
          );
        sets = { train: applyMask(mask, data.train), val: applyMask(mask, data.val), eval: applyMask(mask, data.eval) };
      }
      const run = trainRdal({
        method,
        config: rc,
        train: sets.train,
        val: sets.val,
        dir,
        resume: o.resume,
        quiet: o.quiet,
        ...stage,
        device: o.device,
        amp: o.amp,
      });
      const m = evaluateRdal(run, sets, rc, seed);
      const seconds = (Date.now() - start) / 1000;
      const rec: RdalRunMetrics = {
        method,
        run: r,
        seed,
        ...m,
        bestEpoch: run.bestEpoch,
        epochsRun: run.epochsRun,
        seconds,
      };
      writeStageJson(metricsFile, id, rec);
      writeFileAtomicSync(path.join(dir, 'history.json'), JSON.stringify(run.history));
      for (const mod of [run.encoder, run.head, run.adversary]) mod.dispose();
      mask?.dispose();
      results.push(rec);
      log(
        `${method} run ${r}: event acc ${pct(rec.eventAcc)}, adversary ${rec.advAcc === null ? '—' : pct(rec.advAcc)}, ` +
          `fresh attacker acc ${pct(rec.speechAcc)} AUC ${rec.speechAuc.toFixed(3)}, gender ${pct(rec.genderAcc)}; ` +
          `${rec.epochsRun} epochs (best ${rec.bestEpoch}), ${seconds.toFixed(0)} s`,
      );
    }
  }
  const report = buildReport(o, c, data, results);
  writeFileAtomicSync(path.join(o.out, 'report.json'), JSON.stringify(report, null, 1));
  writeFileAtomicSync(path.join(o.out, 'report.html'), renderRdalReport(report));
  return report;
}

const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;

function buildReport(
  o: RdalExperimentOptions,
  c: RdalConfig,
  data: SoundscapeData,
  runs: RdalRunMetrics[],
): RdalReport {
  const summary: RdalSummaryRow[] = o.methods.map((method) => {
    const rs = runs.filter((r) => r.method === method);
    const metrics = Object.fromEntries(
      METRIC_KEYS.map((k) => [k, meanStd(rs.map((r) => r[k]))]),
    ) as RdalSummaryRow['metrics'];
    return { method, runs: rs.length, metrics };
  });
  return {
    title: 'RDAL: speech privacy for sound-event classification (Gharib et al., OJSP 2024)',
    created: new Date().toISOString(),
    data: path.resolve(o.data),
    classes: data.classes,
    sizes: { train: data.train.n, val: data.val.n, eval: data.eval.n },
    config: c,
    meta: o.meta ?? {},
    summary,
    runs,
    paired: pairedComparisons(runs, o.methods),
    checks: qualitativeChecks(summary, runs),
  };
}

/** The paper's qualitative result, stated as checks on the means and, over seeds, the paired test (null: a method is missing). */
export function qualitativeChecks(
  summary: RdalSummaryRow[],
  runs: readonly RdalRunMetrics[] = [],
): RdalReport['checks'] {
  const get = (m: RdalMethod): RdalSummaryRow | undefined => summary.find((s) => s.method === m);
  const b = get('baseline');
  const n = get('naive');
  const r = get('rdal');
  const out: RdalReport['checks'] = [];
  const f = (x: number | undefined): string => (x === undefined ? '—' : x.toFixed(3));
  if (b && n && r) {
    const accs = [b, n, r].map((s) => s.metrics.eventAcc.mean);
    const spread = Math.max(...accs) - Math.min(...accs);
    out.push({
      claim: 'event accuracy of baseline, NaiveAdv and RDAL within 3 points',
      holds: spread <= 0.03,
      detail: `spread ${(100 * spread).toFixed(1)} points (${accs.map(f).join(' / ')})`,
    });
  } else
    out.push({
      claim: 'event accuracy of baseline, NaiveAdv and RDAL within 3 points',
      holds: null,
      detail: 'needs all three methods',
    });
  if (n && r) {
    const gap = n.metrics.speechAuc.mean - r.metrics.speechAuc.mean;
    const sd = Math.max(n.metrics.speechAuc.std, r.metrics.speechAuc.std);
    out.push({
      claim: 'fresh-attacker AUC clearly lower for RDAL than for NaiveAdv (by > 0.05 and > 2 std)',
      holds: gap > 0.05 && gap > 2 * sd,
      detail: `NaiveAdv ${f(n.metrics.speechAuc.mean)} vs RDAL ${f(r.metrics.speechAuc.mean)} (difference ${gap.toFixed(3)}, largest std ${sd.toFixed(3)})`,
    });
    const pc = pairedComparison(runs, 'naive', 'rdal', 'speechAuc');
    out.push({
      claim: 'fresh-attacker AUC lower for RDAL than for NaiveAdv in a paired t test over seeds (p < 0.05)',
      holds: pc.p === null ? null : pc.p < 0.05 && pc.meanDiff > 0,
      detail:
        pc.p === null
          ? `needs at least 2 seeds run by both with some spread (${pc.seeds.length} seed(s))`
          : `NaiveAdv − RDAL ${pc.meanDiff.toFixed(3)} ± ${pc.stdDiff.toFixed(3)} over seeds ${pc.seeds.join(', ')}: t(${pc.df}) = ${pc.t!.toFixed(2)}, p = ${pc.p.toFixed(3)}`,
    });
  }
  if (b && n) {
    const gap = Math.abs(b.metrics.speechAuc.mean - n.metrics.speechAuc.mean);
    out.push({
      claim: 'NaiveAdv fresh-attacker AUC close to the baseline (within 0.05)',
      holds: gap <= 0.05,
      detail: `baseline ${f(b.metrics.speechAuc.mean)} vs NaiveAdv ${f(n.metrics.speechAuc.mean)}`,
    });
  }
  if (n) {
    const gap = n.metrics.speechAcc.mean - n.metrics.advAcc.mean;
    out.push({
      claim:
        'NaiveAdv: the in-training adversary is fooled while a fresh attacker is not (fresh − in-training accuracy > 0.1)',
      holds: gap > 0.1,
      detail: `in-training ${f(n.metrics.advAcc.mean)} vs fresh ${f(n.metrics.speechAcc.mean)} (gap ${gap.toFixed(3)})`,
    });
  }
  return out;
}
