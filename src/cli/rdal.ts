// `earmark rdal --method baseline|naive|rdal|rdal-m` (one method, N runs) and `earmark experiment-rdal`
// (every method × N runs, one report): flags → a resolved RdalConfig → runRdalExperiment.
import path from 'node:path';
import { EarmarkError } from '../errors.js';
import { runRdalExperiment } from '../eval/rdal/run.js';
import type { RdalReport } from '../eval/rdal/schema.js';
import { RDAL_METHODS, RDAL_PRESETS, resolveRdalPreset, type RdalMethod, type RdalPreset } from '../methods/rdal/config.js';
import type { Command, FlagSpec } from './args.js';
import { readConfigFile } from './common.js';

type Flags = Record<string, string | number | boolean | undefined>;

const COMMON: Record<string, FlagSpec> = {
  data: { type: 'string', description: 'soundscape folder with labels.csv (built-in: `earmark corpus soundscapes`; or buildFsd50kMix output)', default: 'data/builtin/soundscapes-0' },
  preset: { type: 'string', description: "'cpu' (about 30 min for 3 methods × 3 runs on two cores) or 'paper' (the reference's schedule, up to 5000 epochs)", default: 'cpu' },
  config: { type: 'string', description: 'JSON file of RdalConfig overrides, e.g. configs/rdal-paper.json' },
  runs: { type: 'int', description: 'independent runs per method (seeds seed…seed+runs−1)', default: 3 },
  seed: { type: 'int', description: 'seed of the first run' },
  epochs: { type: 'int', description: 'maximum training epochs (train.maxEpochs)' },
  period: { type: 'int', description: 'RDAL replacement period P in epochs' },
  momentum: { type: 'string', description: "D's SGD momentum after a replacement: 'keep' or 'reset'" },
  fresh: { type: 'boolean', description: 'ignore finished runs and checkpoints in --out and start over', default: false },
  quiet: { type: 'boolean', description: 'no progress bars', default: false },
};

function configFromFlags(flags: Flags): ReturnType<typeof resolveRdalPreset> {
  const preset = flags['preset'];
  if (typeof preset !== 'string' || !(preset in RDAL_PRESETS)) {
    throw new EarmarkError('EARMARK_BAD_ARGUMENT', `--preset must be one of ${Object.keys(RDAL_PRESETS).join(', ')}, got '${String(preset)}'`);
  }
  const file = readConfigFile(flags['config'] as string | undefined);
  const train: Record<string, unknown> = { ...(file['train'] as object | undefined) };
  if (flags['seed'] !== undefined) train['seed'] = flags['seed'];
  if (flags['epochs'] !== undefined) train['maxEpochs'] = flags['epochs'];
  if (flags['period'] !== undefined) { train['period'] = flags['period']; train['periodMask'] = flags['period']; }
  if (flags['momentum'] !== undefined) train['momentumAfterReplace'] = flags['momentum'];
  return resolveRdalPreset(preset as RdalPreset, { ...file, train });
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

async function run(flags: Flags, methods: RdalMethod[], defaultOut: string): Promise<number> {
  const config = configFromFlags(flags);
  const out = (flags['out'] as string | undefined) ?? defaultOut;
  const report = await runRdalExperiment({
    data: flags['data'] as string, methods, runs: flags['runs'] as number, config, out,
    resume: flags['fresh'] !== true, quiet: flags['quiet'] === true, meta: { preset: flags['preset'], configFile: flags['config'] ?? null },
    log: (s) => console.error(s),
  });
  printSummary(report, out);
  return 0;
}

/** `earmark rdal --method …`: train and evaluate one method. */
export const rdalCmd: Command = {
  name: 'rdal',
  summary: 'Train one RDAL method (baseline, naive = gradient reversal, rdal = adversary weights replaced every P epochs, rdal-m = rdal behind a speech mask) on a soundscape folder; evaluates fresh speech and gender attackers and writes report.json and report.html.',
  flags: {
    method: { type: 'string', description: 'baseline | naive | rdal | rdal-m' },
    out: { type: 'string', description: 'run folder (default runs/rdal-<method>)' },
    ...COMMON,
    runs: { type: 'int', description: 'independent runs (seeds seed…seed+runs−1)', default: 1 },
  },
  async run(flags) {
    const m = flags['method'];
    if (typeof m !== 'string' || !(RDAL_METHODS as readonly string[]).includes(m)) {
      throw new EarmarkError('EARMARK_BAD_ARGUMENT', `--method must be one of ${RDAL_METHODS.join(', ')}, got '${String(m ?? '')}'`);
    }
    return run(flags, [m as RdalMethod], path.join('runs', `rdal-${m}`));
  },
};

/** `earmark experiment-rdal`: every method × N runs into one report (the paper's table). */
export const experimentRdalCmd: Command = {
  name: 'experiment-rdal',
  summary: "RDAL's experiment: baseline, NaiveAdv and RDAL (add rdal-m with --methods) × N runs, fresh attackers on frozen latents, mean ± std table, ROC curves and attacker-probability histograms in report.html.",
  flags: {
    methods: { type: 'string', description: 'comma-separated methods', default: 'baseline,naive,rdal' },
    out: { type: 'string', description: 'run folder (default runs/rdal-<preset>)' },
    ...COMMON,
  },
  async run(flags) {
    const methods = String(flags['methods']).split(',').map((s) => s.trim()).filter(Boolean);
    const bad = methods.filter((m) => !(RDAL_METHODS as readonly string[]).includes(m));
    if (bad.length || methods.length === 0) {
      throw new EarmarkError('EARMARK_BAD_ARGUMENT', `--methods: unknown method(s) ${bad.map((b) => `'${b}'`).join(', ') || '(none given)'}; choose from ${RDAL_METHODS.join(', ')}`);
    }
    return run(flags, methods as RdalMethod[], path.join('runs', `rdal-${String(flags['preset'])}`));
  },
};

export const RDAL_COMMANDS: Command[] = [rdalCmd, experimentRdalCmd];
