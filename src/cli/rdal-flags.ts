// What `earmark rdal` and `earmark experiment rdal` share: their flags (mapped onto RdalConfig), the
// checks before any work (the soundscape folder, the config: preset ← --config file ← flags) and the
// run with its printed summary.
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { RdalReport } from '../eval/rdal/schema.js';
import type { RdalConfig, RdalMethod, RdalPreset } from '../methods/rdal/config.js';
import { usageError, type CheckContext, type FlagValues } from './args.js';
import { resolveWithFile } from './common.js';
import { configFlags, configOverrides } from './config-flags.js';

/** RDAL's methods and presets (methods/rdal/config.ts's RDAL_METHODS and RDAL_PRESETS; a test keeps them equal). */
export const RDAL_METHOD_NAMES = ['baseline', 'naive', 'rdal', 'rdal-m'] as const satisfies readonly RdalMethod[];
export const RDAL_PRESET_NAMES = ['cpu', 'paper'] as const satisfies readonly RdalPreset[];
import { DEVICE_FLAGS, placementFromFlags } from './device-flags.js';

export const RDAL_FLAGS = configFlags<RdalConfig>()({
  data: {
    type: 'string',
    exists: 'dir',
    default: 'data/builtin/soundscapes-0',
    fix: 'build it with `earmark corpus soundscapes`',
    description: 'soundscape folder with labels.csv (built-in: `earmark corpus soundscapes`; or buildFsd50kMix output)',
  },
  preset: {
    type: 'string',
    choices: RDAL_PRESET_NAMES,
    default: 'cpu',
    description:
      "'cpu' (about 30 min for 3 methods × 3 runs on two cores) or 'paper' (the reference's schedule, up to 5000 epochs)",
  },
  config: {
    type: 'string',
    exists: 'file',
    description: 'JSON file of RdalConfig overrides, e.g. configs/rdal-paper.json',
  },
  runs: { type: 'int', min: 1, description: 'independent runs per method (seeds seed…seed+runs−1)', default: 3 },
  seed: { type: 'int', min: 0, description: 'seed of the first run', config: 'train.seed' },
  epochs: { type: 'int', min: 1, description: 'maximum training epochs (train.maxEpochs)', config: 'train.maxEpochs' },
  period: {
    type: 'int',
    min: 1,
    description: 'RDAL replacement period P in epochs',
    config: ['train.period', 'train.periodMask'],
  },
  momentum: {
    type: 'string',
    choices: ['keep', 'reset'],
    description: "D's SGD momentum after a replacement",
    config: 'train.momentumAfterReplace',
  },
  fresh: {
    type: 'boolean',
    description: 'ignore finished runs and checkpoints in --out and start over',
    default: false,
  },
  retrain: {
    type: 'boolean',
    description:
      'retrain a stage whose checkpoint was made with other settings or data, naming the keys that differ; --no-retrain refuses instead',
    default: true,
  },
  quiet: { type: 'boolean', description: 'no progress bars', default: false },
  ...DEVICE_FLAGS,
});

type RdalOptions = FlagValues<typeof RDAL_FLAGS> & { out?: string | undefined };

export interface RdalChecked {
  config: RdalConfig;
  out: string;
}

/** The resolved config and the run folder, checked before any work. */
export async function checkRdal(o: RdalOptions, defaultOut: string, ctx: CheckContext): Promise<RdalChecked> {
  if (!existsSync(path.join(o.data, 'labels.csv'))) {
    throw usageError(
      `--data ${o.data} holds no labels.csv: it is not a soundscape folder; build one with \`earmark corpus soundscapes\``,
    );
  }
  const { resolveRdalPreset } = await import('../methods/rdal/config.js');
  const config = resolveWithFile(o.config, (over) => resolveRdalPreset(o.preset, over), configOverrides(RDAL_FLAGS, o));
  const out = o.out ?? defaultOut;
  ctx.output(out);
  return { config, out };
}

/** Train and evaluate `methods` × --runs into one report; prints the summary table. */
export async function runRdalCommand(
  o: RdalOptions,
  methods: RdalMethod[],
  { config, out }: RdalChecked,
): Promise<number> {
  const { runRdalExperiment } = await import('../eval/rdal/run.js');
  const { device, amp } = await placementFromFlags(o, 'rdal', false);
  const report = await runRdalExperiment({
    device,
    amp,
    data: o.data,
    methods,
    runs: o.runs,
    config,
    out,
    resume: !o.fresh,
    retrain: o.retrain,
    quiet: o.quiet,
    meta: { preset: o.preset, configFile: o.config ?? null },
    log: (s) => console.error(s),
  });
  printSummary(report, out);
  return 0;
}

function printSummary(report: RdalReport, out: string): void {
  const f = (m: { mean: number; std: number; n: number }): string =>
    m.n === 0 ? '—' : `${m.mean.toFixed(3)}±${m.std.toFixed(3)}`;
  const lines = [
    'method     event acc     macro-F1      adversary     attacker acc  recall        AUC           gender acc',
  ];
  for (const s of report.summary) {
    const m = s.metrics;
    lines.push(
      [
        s.method.padEnd(10),
        f(m.eventAcc),
        f(m.eventMacroF1),
        f(m.advAcc),
        f(m.speechAcc),
        f(m.speechRecall),
        f(m.speechAuc),
        f(m.genderAcc),
      ]
        .map((x) => x.padEnd(13))
        .join(' '),
    );
  }
  for (const c of report.checks)
    lines.push(`${c.holds === null ? 'n/a ' : c.holds ? 'HOLDS' : 'FAILS'}  ${c.claim}: ${c.detail}`);
  console.log(`${lines.join('\n')}\n\nreport: ${path.resolve(out, 'report.html')}`);
}
