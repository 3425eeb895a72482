// `earmark sweep fig3a|fig3b|fig4`: the privacy–utility frontier (issue 14), obfuscators trained over a
// grid (λ_p, width, epochs, window, norm, obfuscator seed) on one dataset and split, judged by the experiment's attackers, with
// McAdams and ADR on the same axes, and an optional utility budget that picks one point on validation.
// The libtorch-using modules load inside check()/run(), so that --help and usage errors answer without libtorch.
import path from 'node:path';
import { EarmarkError } from '../errors.js';
import type { ExperimentConfig, ExperimentName } from '../eval/optin/config.js';
import {
  parseNormList,
  parseNumberList,
  parseSeedList,
  parseWindowList,
  readGridFile,
  SWEEP_CPU_LAYER,
  SWEEP_GRID_DEFAULTS,
  type SweepGrid,
} from '../eval/sweep/grid.js';
import type { TrainObfuscatorBudgetOptions } from '../eval/sweep/budget.js';
import type { SweepReport } from '../eval/sweep/run.js';
import { defineCommand } from './args.js';
import { DATASET_FLAGS, experimentConfig, experimentRunDir, PRESET_FLAGS } from './common.js';
import { configFlags } from './config-flags.js';

const FLAGS = configFlags<ExperimentConfig>()({
  ...DATASET_FLAGS,
  out: { type: 'string', output: true, description: 'sweep folder (default runs/sweep-<experiment>-<dataset>)' },
  ...PRESET_FLAGS,
  seed: {
    type: 'int',
    min: 0,
    description: 'seed of initialisation and crops (--seeds adds to it for the obfuscator)',
    config: 'seed',
  },
  grid: {
    type: 'string',
    exists: 'file',
    description:
      'JSON grid: { "lambdaP": [..], "width": [..], "epochs": [..], "window": [[W, M], ..], "norm": [..], "seed": [..] }',
  },
  lambdaP: { type: 'string', description: 'λ_p values, e.g. 0.1,0.3,1,3,10 (the default)' },
  width: { type: 'string', description: "obfuscator widths C, e.g. 32,64 (default: the preset's)" },
  epochs: { type: 'string', description: "obfuscator epochs, e.g. 4,8 (default: the preset's)" },
  window: {
    type: 'string',
    description:
      'deployed windows W:M (W kept frames, M context each side), e.g. 96:16,32:4,8:2 (96:16: the deployed windows of 128 frames)',
  },
  norm: {
    type: 'string',
    description:
      "generator norms: instance (the paper's) and/or time-local (never mixes time steps, for short windows), e.g. instance,time-local",
  },
  seeds: {
    type: 'string',
    description:
      'obfuscator training seeds, e.g. 0,1,2: each point once per seed (obfuscatorTrain.seed, added to --seed for the obfuscator and its own attackers; the splits, features, T and clean classifiers keep --seed); with 2 or more, the mean and min–max over seeds, and --max-target-drop chooses by seed means',
  },
  mcadams: {
    type: 'string',
    description: 'McAdams α values judged beside the points (default 0.5,0.7,0.9; none: skip)',
  },
  maxTargetDrop: {
    type: 'number',
    min: 0,
    description: "utility budget: pick, on validation, the most private point within D points of T's accuracy",
  },
  jobs: { type: 'int', min: 1, description: 'points run at once, each in a child process', default: 1 },
});

/**
 * The base config of a sweep: defaults ← preset ← (at the CPU preset) the sweep's own layer SWEEP_CPU_LAYER
 * ← the --config file ← the flags.
 */
export async function sweepConfig(
  o: Parameters<typeof experimentConfig>[1],
  name: ExperimentName,
): Promise<ExperimentConfig> {
  const under = o.preset === 'cpu' ? (structuredClone(SWEEP_CPU_LAYER) as Record<string, unknown>) : {};
  return experimentConfig(FLAGS, o, { experiment: name }, under);
}

/** The grid: the --grid file, then the list flags on top, over the default (λ_p ∈ {0.1, 0.3, 1, 3, 10}). */
function gridFrom(o: {
  grid?: string | undefined;
  lambdaP?: string | undefined;
  width?: string | undefined;
  epochs?: string | undefined;
  window?: string | undefined;
  norm?: string | undefined;
  seeds?: string | undefined;
}): SweepGrid {
  const g = o.grid === undefined ? { ...SWEEP_GRID_DEFAULTS } : readGridFile(o.grid);
  if (o.lambdaP !== undefined) g.lambdaP = parseNumberList(o.lambdaP, 'lambda-p');
  if (o.width !== undefined) g.width = parseNumberList(o.width, 'width');
  if (o.epochs !== undefined) g.epochs = parseNumberList(o.epochs, 'epochs');
  if (o.window !== undefined) g.window = parseWindowList(o.window);
  if (o.norm !== undefined) g.norm = parseNormList(o.norm);
  if (o.seeds !== undefined) g.seed = parseSeedList(o.seeds);
  const bad = (k: string, ok: (x: number) => boolean, want: string, xs: number[]): void => {
    if (!xs.every(ok)) throw new EarmarkError('EARMARK_BAD_ARGUMENT', `--${k} must list ${want}, got ${xs.join(',')}`);
  };
  bad('lambda-p', (x) => x >= 0, 'numbers >= 0', g.lambdaP);
  bad('width', (x) => Number.isInteger(x) && x >= 4 && x % 4 === 0, 'integers >= 4, multiples of 4', g.width);
  bad('epochs', (x) => Number.isInteger(x) && x >= 1, 'integers >= 1', g.epochs);
  return g;
}

export const sweep = defineCommand({
  name: 'sweep',
  summary:
    'Trace the privacy–utility frontier of fig3a, fig3b or fig4: obfuscators over a grid (λ_p, width, epochs, window W:M, generator norm, obfuscator seed), each judged by every attacker, with McAdams and ADR on the same axes; resumes point by point; --max-target-drop picks one on validation.',
  usage: '<fig3a|fig3b|fig4> [flags]',
  args: [{ name: 'experiment', required: true, choices: ['fig3a', 'fig3b', 'fig4'], description: 'which experiment' }],
  flags: FLAGS,
  async check(o, ctx) {
    const name = ctx.args[0] as ExperimentName;
    const grid = gridFrom(o);
    const mcadamsAlphas =
      o.mcadams === 'none' ? [] : o.mcadams === undefined ? undefined : parseNumberList(o.mcadams, 'mcadams');
    const config = await sweepConfig(o, name);
    const outDir = await experimentRunDir(config, 'sweep', o.out, 'sweep-');
    ctx.output(outDir);
    return { config, grid, outDir, mcadamsAlphas };
  },
  async run(o, { checked: { config, grid, outDir, mcadamsAlphas } }) {
    const { runSweep } = await import('../eval/sweep/run.js');
    const r = await runSweep({
      config,
      grid,
      outDir,
      jobs: o.jobs,
      ...(mcadamsAlphas ? { mcadamsAlphas } : {}),
      ...(o.maxTargetDrop === undefined ? {} : { maxTargetDrop: o.maxTargetDrop }),
    });
    return printSweep(r, outDir);
  },
});

function printSweep(r: SweepReport, outDir: string): number {
  const lines = r.frontiers.map(
    (f) =>
      `${f.attribute}: Pareto front ${f.pareto.join(' → ')}; ` +
      f.bins
        .map(
          (b) => `≤ chance+${b.points}: ${b.best ? `${b.best.id} (T ${(100 * b.best.target).toFixed(1)}%)` : 'none'}`,
        )
        .join(', '),
  );
  if (r.choice)
    lines.push(`chosen for a ${r.choice.maxTargetDrop}-point budget: ${r.choice.chosen} (${r.choice.reason})`);
  console.log(`\n${lines.join('\n')}\n\nreport: ${path.resolve(outDir, 'report.html')}`);
  return r.points.some((p) => p.status === 'failed') ? 1 : 0;
}

/** `experiment … --max-target-drop D`: the default sweep in the run folder, and the point the budget picks. */
export async function experimentByBudget(
  config: ExperimentConfig,
  runDir: string,
  maxTargetDrop: number,
): Promise<number> {
  const { runSweep } = await import('../eval/sweep/run.js');
  return printSweep(await runSweep({ config, grid: SWEEP_GRID_DEFAULTS, outDir: runDir, maxTargetDrop }), runDir);
}

/** `train-obfuscator … --max-target-drop D`: one obfuscator per λ_p, the most private within the budget on validation. */
export async function trainObfuscatorByBudget(o: TrainObfuscatorBudgetOptions): Promise<number> {
  const { runTrainObfuscatorBudget } = await import('../eval/sweep/budget.js');
  const c = await runTrainObfuscatorBudget(o);
  console.log(
    `chosen: ${c.dir} (${c.reason})\nchoice: ${path.resolve(o.out, 'choice.json')}\nonnx: ${path.resolve(o.out, 'obfuscator.onnx')}`,
  );
  return 0;
}
