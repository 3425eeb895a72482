// `earmark sweep`: the privacy–utility frontier (issue 14). Obfuscators are trained over a grid on one
// dataset and split; each point is a full experiment (the same stages, attackers and report as
// `earmark experiment`) in its own folder, points/<id>/, whose point.json holds its config fingerprint.
//   1. shared/ trains, alone and with every core, only what every point shares (splits, features, T, the
//      clean classifiers); a finished point made from the same shared config serves instead when there is one
//   2. every point, and each baseline run, starts from hard links to those files, `jobs` at a time
//   3. McAdams (one run per α) and ADR are judged once, in baselines/, without an obfuscator (their stages only)
//   4. report.json and report.html: the frontier per attribute, the Pareto front, the privacy bins, latency and,
//      with several seeds, each group of points that differ only in seed over its seeds (seeds.ts)
//   5. with a utility budget (maxTargetDrop), choice.json and the chosen obfuscator as ONNX with the choice
//      (with several seeds: the group with the best seed means, its first seed's obfuscator)
// A point whose point.json fingerprint matches is never run again; one whose config changed is retrained.
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fingerprint, fingerprintDiff } from '../../config/fingerprint.js';
import { EarmarkError } from '../../errors.js';
import { writeFileAtomicSync } from '../../util/atomic.js';
import { EXPERIMENTS, type ExperimentConfig } from '../optin/config.js';
import { exportChoice } from './choice.js';
import {
  attributeFrontier,
  chooseByBudget,
  frontierPoint,
  type AttributeFrontier,
  type BudgetChoice,
  type FrontierPoint,
} from './frontier.js';
import {
  expandGrid,
  latencyMs,
  pointConfig,
  pointFingerprint,
  pointWindow,
  type SweepGrid,
  type SweepPoint,
} from './grid.js';
import { pool, runInChild, runInProcess, seedFolder, SHARED_FILES, type SweepJob } from './jobs.js';
import { baselineScores, testScores, validationOf, type PointValidation, type TestScores } from './points.js';
import { writeSweepHtml } from './report.js';
import { chooseBySeeds, seedGroups } from './seeds.js';
import { frontierMarkdown } from './table.js';
import type { SweepPointRecord, SweepReport } from './schema.js';

export type { SweepPointRecord, SweepReport } from './schema.js';

export interface RunSweepOptions {
  /** The base config (dataset, split, T, attackers); each point overrides the obfuscator's settings. */
  config: ExperimentConfig;
  grid: SweepGrid;
  outDir: string;
  /** Experiments run at once, each in a child process when > 1 (default 1: all in this process). */
  jobs?: number;
  /** McAdams α values judged as baselines (default [0.5, 0.7, 0.9]; [] for none). */
  mcadamsAlphas?: number[];
  /** Judge ADR (default: the base config's baselines.adr). */
  adr?: boolean;
  /** The utility budget in points of T's validation accuracy: writes choice.json and obfuscator.onnx. */
  maxTargetDrop?: number;
  /** The budget the latency plot reads (default maxTargetDrop, else 3 points). */
  latencyBudget?: number;
  log?: (line: string) => void;
}

/** The config keys every point shares (what the seed folder's files were made from). */
function sharedFingerprint(c: ExperimentConfig): string {
  const {
    obfuscator: _o,
    deobfuscator: _d,
    obfuscatorTrain: _t,
    baselines: _b,
    mcadams: _m,
    reportExamples: _r,
    ...rest
  } = c;
  return fingerprint(rest);
}

interface Planned extends SweepJob {
  kind: 'point' | 'baseline' | 'shared';
  fingerprint: string;
  shared: string;
  point?: SweepPoint;
  reused: boolean;
}

/** Plan one folder: reuse it when its point.json fingerprint matches, else (config changed) start it over. */
function plan(
  name: string,
  kind: Planned['kind'],
  config: ExperimentConfig,
  runDir: string,
  log: (l: string) => void,
  point?: SweepPoint,
): Planned {
  const stages = kind === 'point' ? 'all' : kind === 'baseline' ? 'baselines' : 'shared';
  // shared/ depends on the shared keys alone, so a change of the first point's settings does not redo it
  const fp = kind === 'shared' ? sharedFingerprint(config) : pointFingerprint(config);
  const file = path.join(runDir, 'point.json');
  let reused = false;
  if (existsSync(file)) {
    const old = JSON.parse(readFileSync(file, 'utf8')) as { fingerprint: string; config: ExperimentConfig };
    if (old.fingerprint === fp && existsSync(path.join(runDir, 'report.json'))) {
      reused = true;
      log(`[${name}] finished earlier (fingerprint ${fp}), reused`);
    } else {
      const keys = fingerprintDiff(old.config, config).slice(0, 8).join(', ');
      log(`[${name}] config changed (${keys || 'fingerprint'}): retraining this point`);
      rmSync(runDir, { recursive: true, force: true });
    }
  }
  return {
    name,
    kind,
    config,
    runDir,
    fingerprint: fp,
    shared: sharedFingerprint(config),
    reused,
    stages,
    ...(point ? { point } : {}),
  };
}

/**
 * Train and judge obfuscators over a grid and write the frontier report (report.json, report.html) in outDir.
 * @example await runSweep({ config: resolveExperimentConfig('cpu', { experiment: 'fig4', dataset }), grid: SWEEP_GRID_DEFAULTS, outDir: 'runs/sweep-fig4' });
 */
export async function runSweep(o: RunSweepOptions): Promise<SweepReport> {
  const log = o.log ?? ((l: string) => console.error(l));
  const jobs = o.jobs ?? 1;
  if (!Number.isInteger(jobs) || jobs < 1)
    throw new RangeError(`runSweep: 'jobs' must be an integer >= 1, got ${jobs}`);
  const points = expandGrid(o.grid);
  if (!points.length) throw new EarmarkError('EARMARK_CONFIG', 'the sweep grid has no points');
  mkdirSync(o.outDir, { recursive: true });
  writeFileAtomicSync(path.join(o.outDir, 'sweep.json'), JSON.stringify({ grid: o.grid, config: o.config }, null, 2));
  const planned = points.map((p) =>
    plan(p.id, 'point', pointConfig(o.config, p), path.join(o.outDir, 'points', p.id), log, p),
  );
  const first = planned[0]!;
  const alphas = o.mcadamsAlphas ?? [0.5, 0.7, 0.9];
  const adr = o.adr ?? o.config.baselines.adr;
  const baseJobs = alphas.map((alpha, i) =>
    plan(
      `mcadams-${alpha}`,
      'baseline',
      {
        ...first.config,
        mcadams: { ...first.config.mcadams, alpha },
        baselines: { mcadams: true, adr: adr && i === 0, verification: false },
      },
      path.join(o.outDir, 'baselines', `mcadams-${alpha}`),
      log,
    ),
  );
  if (!alphas.length && adr) {
    baseJobs.push(
      plan(
        'adr',
        'baseline',
        { ...first.config, baselines: { mcadams: false, adr: true, verification: false } },
        path.join(o.outDir, 'baselines', 'adr'),
        log,
      ),
    );
  }

  // a child gets 1/concurrent of the cores: the first point runs alone, so its child gets them all
  const run = (j: Planned, concurrent = jobs): Promise<void> =>
    jobs > 1 ? runInChild(j, log, concurrent) : runInProcess(j, log);
  const finish = (j: Planned): void =>
    writeFileAtomicSync(
      path.join(j.runDir, 'point.json'),
      JSON.stringify(
        {
          id: j.name,
          point: j.point,
          fingerprint: j.fingerprint,
          shared: j.shared,
          config: j.config,
          finishedAt: new Date().toISOString(),
        },
        null,
        2,
      ),
    );
  const errors = new Map<Planned, Error>();
  // 1) the seed: a finished point made from the same shared config, else shared/, run alone with every core
  let seed = planned.find((j) => j.reused && j.shared === first.shared);
  if (seed === undefined) {
    seed = plan('shared', 'shared', first.config, path.join(o.outDir, 'shared'), () => {});
    if (seed.reused) log(`[sweep] shared: finished earlier, reused`);
    else {
      log(`[sweep] shared: training what every point shares (the features, T, the clean classifiers), alone`);
      try {
        await run(seed, 1);
        finish(seed);
      } catch (e) {
        log(`[sweep] the shared stages failed, so no point can be judged: stopping`);
        throw e;
      }
    }
  }
  // 2) every point and baseline, `jobs` at a time
  const rest = [...planned, ...baseJobs].filter((j) => !j.reused);
  const seedDir = seed.runDir;
  const results = await pool(
    rest.map((j) => async () => {
      const n = seedFolder(seedDir, j.runDir, SHARED_FILES);
      log(`[${j.name}] starting (${n} shared files linked from ${path.relative(o.outDir, seedDir)})`);
      await run(j, Math.min(jobs, rest.length)); // fewer experiments than jobs: each gets more cores
      finish(j);
    }),
    jobs,
  );
  rest.forEach((j, i) => {
    const e = results[i];
    if (e) {
      errors.set(j, e);
      log(`[${j.name}] FAILED: ${e.message}`);
    }
  });
  const report = await collect(o, planned, baseJobs, errors);
  log(`[sweep] report: ${path.join(o.outDir, 'report.html')}`);
  return report;
}

/** The experiment report's note on why a baseline did not run (e.g. 'ADR is not run: …'), if it has one. */
function baselineNote(r: Record<string, unknown>, name: string): string | undefined {
  const notes = (r['baselines'] as { notes?: unknown } | undefined)?.notes;
  return Array.isArray(notes) ? notes.find((n): n is string => typeof n === 'string' && n.startsWith(name)) : undefined;
}

function readReport(dir: string): Record<string, unknown> | undefined {
  const f = path.join(dir, 'report.json');
  return existsSync(f) ? (JSON.parse(readFileSync(f, 'utf8')) as Record<string, unknown>) : undefined;
}

/** Read every finished folder's report and build the sweep's report, choice and HTML. */
async function collect(
  o: RunSweepOptions,
  planned: Planned[],
  baseJobs: Planned[],
  errors: Map<Planned, Error>,
): Promise<SweepReport> {
  const status = (j: Planned): 'done' | 'failed' | 'reused' =>
    errors.has(j) ? 'failed' : j.reused ? 'reused' : 'done';
  const err = (j: Planned): { error?: string } => (errors.has(j) ? { error: errors.get(j)!.message } : {});
  const records: SweepPointRecord[] = planned.map((j) => {
    const r = errors.has(j) ? undefined : readReport(j.runDir);
    const t = j.config.obfuscatorTrain;
    const window = pointWindow(j.config);
    return {
      id: j.name,
      point: j.point!,
      status: status(j),
      ...err(j),
      dir: path.relative(o.outDir, j.runDir),
      fingerprint: j.fingerprint,
      settings: {
        lambdaP: t.lambdaP,
        width: j.config.obfuscator.channels,
        epochs: t.epochs,
        window,
        latencyMs: latencyMs(window),
        norm: j.config.obfuscator.norm ?? 'instance',
        ...(j.point?.seed === undefined ? {} : { seed: t.seed }),
      },
      ...(r ? { val: validationOf(r), test: testScores(r) } : {}),
    };
  });
  const baselines: SweepReport['baselines'] = [];
  for (const j of baseJobs) {
    const r = errors.has(j) ? undefined : readReport(j.runDir);
    const alpha = j.config.mcadams.alpha;
    const mc = r && j.config.baselines.mcadams ? baselineScores(r, 'mcadams') : undefined;
    if (j.config.baselines.mcadams)
      baselines.push({
        id: `McAdams α=${alpha}`,
        dir: path.relative(o.outDir, j.runDir),
        status: status(j),
        ...err(j),
        ...(mc ? { test: mc } : {}),
      });
    const adr = r && j.config.baselines.adr ? baselineScores(r, 'adr') : undefined;
    const adrNote = r && !adr ? baselineNote(r, 'ADR') : undefined;
    if (j.config.baselines.adr)
      baselines.push({
        id: 'ADR',
        dir: path.relative(o.outDir, j.runDir),
        status: status(j),
        ...err(j),
        ...(adr ? { test: adr } : {}),
        ...(adrNote ? { note: adrNote } : {}),
      });
  }
  const judged = records.filter((p) => p.test && p.val);
  const attributes = [...new Set(judged.flatMap((p) => p.test!.attackers.map((a) => a.attribute)))];
  const frontiers = attributes.map((attr) => {
    const pts: FrontierPoint[] = [];
    for (const p of judged) {
      const f = frontierPoint(p.id, 'point', p.test!, attr, p.settings.latencyMs);
      if (f) pts.push(f);
    }
    for (const b of baselines) {
      const f = b.test ? frontierPoint(b.id, 'baseline', b.test, attr) : undefined;
      if (f) pts.push(f);
    }
    return { ...attributeFrontier(attr, pts), cleanTarget: judged[0]!.test!.clean.accuracy };
  });
  // with several seeds the budget chooses among the groups of points that differ only in seed, by their seed means
  const groups = (o.grid.seed ?? []).length > 1 ? seedGroups(judged, frontiers) : undefined;
  const choose = (pts: SweepPointRecord[], maxDrop: number): BudgetChoice =>
    groups
      ? chooseBySeeds(
          groups.filter((g) => pts.some((p) => g.points.includes(p.id))),
          maxDrop,
        )
      : chooseByBudget(
          pts.map((p) => ({ id: p.id, val: p.val! })),
          maxDrop,
        );
  const budget = o.latencyBudget ?? o.maxTargetDrop ?? 3;
  const windows = [
    ...new Map(judged.map((p) => [`${p.settings.window.w}:${p.settings.window.m}`, p.settings.window])).values(),
  ];
  const latency = windows.map((w) => {
    const c = choose(
      judged.filter((p) => p.settings.window.w === w.w && p.settings.window.m === w.m),
      budget,
    );
    const strongest: Record<string, number> = {};
    for (const f of frontiers) {
      const g = groups?.find((x) => x.id === c.chosen);
      const y = g
        ? g.attributes[f.attribute]?.strongest.mean
        : f.points.find((x) => x.id === c.chosen)?.strongest.score.accuracy;
      if (y !== undefined) strongest[f.attribute] = y;
    }
    return { window: w, latencyMs: latencyMs(w), budget, chosen: c.chosen, withinBudget: c.withinBudget, strongest };
  });
  let choice: BudgetChoice | undefined;
  if (o.maxTargetDrop !== undefined && judged.length) {
    choice = choose(judged, o.maxTargetDrop);
    const chosen = planned.find((j) => j.name === (choice!.seeds?.exported ?? choice!.chosen))!;
    writeFileAtomicSync(
      path.join(o.outDir, 'choice.json'),
      JSON.stringify({ ...choice, dir: path.relative(o.outDir, chosen.runDir) }, null, 2),
    );
    exportChoice(chosen.runDir, path.join(o.outDir, 'obfuscator.onnx'), choice, chosen.config);
  }
  const report: SweepReport = {
    format: 'earmark-sweep-report',
    version: 1,
    experiment: o.config.experiment,
    task: String(EXPERIMENTS[o.config.experiment].task),
    dataset: o.config.dataset.manifest || o.config.dataset.root,
    grid: o.grid,
    points: records,
    baselines,
    frontiers,
    latency,
    ...(choice ? { choice } : {}),
    ...(groups ? { seedGroups: groups } : {}),
    createdAt: new Date().toISOString(),
  };
  writeFileAtomicSync(path.join(o.outDir, 'report.json'), JSON.stringify(report, null, 1));
  await writeSweepHtml(path.join(o.outDir, 'report.html'), report);
  writeFileAtomicSync(path.join(o.outDir, 'frontier.md'), frontierMarkdown(report));
  return report;
}
