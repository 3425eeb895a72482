// What `earmark rdal` and `earmark experiment rdal` share: their flags (mapped onto RdalConfig), the
// resolved config (preset ← --config file ← flags) and the run with its printed summary.
import path from 'node:path';
import { runRdalExperiment } from '../eval/rdal/run.js';
import type { RdalReport } from '../eval/rdal/schema.js';
import { RDAL_PRESETS, resolveRdalPreset, type RdalConfig, type RdalMethod, type RdalPreset } from '../methods/rdal/config.js';
import type { FlagValues } from './args.js';
import { readConfigFile } from './common.js';
import { configFlags, configOverrides, mergeOverrides } from './config-flags.js';

export const RDAL_FLAGS = configFlags<RdalConfig>()({
  data: { type: 'string', description: 'soundscape folder with labels.csv (built-in: `earmark corpus soundscapes`; or buildFsd50kMix output)', default: 'data/builtin/soundscapes-0' },
  preset: { type: 'string', choices: Object.keys(RDAL_PRESETS) as RdalPreset[], description: "'cpu' (about 30 min for 3 methods × 3 runs on two cores) or 'paper' (the reference's schedule, up to 5000 epochs)", default: 'cpu' },
  config: { type: 'string', description: 'JSON file of RdalConfig overrides, e.g. configs/rdal-paper.json' },
  runs: { type: 'int', description: 'independent runs per method (seeds seed…seed+runs−1)', default: 3 },
  seed: { type: 'int', description: 'seed of the first run', config: 'train.seed' },
  epochs: { type: 'int', description: 'maximum training epochs (train.maxEpochs)', config: 'train.maxEpochs' },
  period: { type: 'int', description: 'RDAL replacement period P in epochs', config: ['train.period', 'train.periodMask'] },
  momentum: { type: 'string', choices: ['keep', 'reset'], description: "D's SGD momentum after a replacement", config: 'train.momentumAfterReplace' },
  fresh: { type: 'boolean', description: 'ignore finished runs and checkpoints in --out and start over', default: false },
  quiet: { type: 'boolean', description: 'no progress bars', default: false },
});

type RdalOptions = FlagValues<typeof RDAL_FLAGS> & { out?: string | undefined };

/** Train and evaluate `methods` × --runs into one report; prints the summary table. */
export async function runRdalCommand(o: RdalOptions, methods: RdalMethod[], defaultOut: string): Promise<number> {
  const config = resolveRdalPreset(o.preset, mergeOverrides(readConfigFile(o.config), configOverrides(RDAL_FLAGS, o)));
  const out = o.out ?? defaultOut;
  const report = await runRdalExperiment({
    data: o.data, methods, runs: o.runs, config, out,
    resume: !o.fresh, quiet: o.quiet, meta: { preset: o.preset, configFile: o.config ?? null },
    log: (s) => console.error(s),
  });
  printSummary(report, out);
  return 0;
}

function printSummary(report: RdalReport, out: string): void {
  const f = (m: { mean: number; std: number; n: number }): string => (m.n === 0 ? '—' : `${m.mean.toFixed(3)}±${m.std.toFixed(3)}`);
  const lines = ['method     event acc     macro-F1      adversary     attacker acc  recall        AUC           gender acc'];
  for (const s of report.summary) {
    const m = s.metrics;
    lines.push([s.method.padEnd(10), f(m.eventAcc), f(m.eventMacroF1), f(m.advAcc), f(m.speechAcc), f(m.speechRecall), f(m.speechAuc), f(m.genderAcc)].map((x) => x.padEnd(13)).join(' '));
  }
  for (const c of report.checks) lines.push(`${c.holds === null ? 'n/a ' : c.holds ? 'HOLDS' : 'FAILS'}  ${c.claim}: ${c.detail}`);
  console.log(`${lines.join('\n')}\n\nreport: ${path.resolve(out, 'report.html')}`);
}
