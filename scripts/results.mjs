// Regenerates results/ (issue 11, deliverable 9): the reference report.json and main plot (PNG) of the demo
// and of each CPU-preset experiment on the built-in corpora, then the results blocks of README.md and
// docs/methods.md (src/eval/results-readme.ts; test/results-readme.test.ts checks they match).
//
// Usage (after `npx tsc -p tsconfig.json`):
//   node scripts/results.mjs                    run (or resume) every entry, copy, plot, rewrite the blocks
//   node scripts/results.mjs demo fig4          only these entries
//   node scripts/results.mjs --no-run [names]   copy and plot from the run folders as they are (a partial
//                                               report.json is fine: it is rewritten after every stage)
//   node scripts/results.mjs --readme-only      only rewrite the README/docs blocks from results/
// Runs go to runs/results/<name> and resume from their checkpoints; a long entry can be interrupted and
// the script started again. The entries take about 40 min (demo), 45–60 min (each figure, with the baselines), 30 min (RDAL)
// and 53.4 min (the sweep, inside its 60-min aim; docs/sweep.md)
// on two idle cores: run them when the machine is free, and commit results/ with the README change.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = (p) => import(path.join(root, 'dist', 'src', p));
const speech = 'data/builtin/speech-0-0/labels.csv'; // `earmark demo` builds it (difficulty 0, seed 0)
const csv = ['--layout', 'csv', '--manifest', speech, '--preset', 'cpu'];

/** `earmark sweep fig4` on the built-in speech corpus with `flags`, `jobs` points at once and a 3-point budget. */
const sweepFig4 = (jobs, ...flags) => [
  'sweep',
  'fig4',
  '--manifest',
  speech,
  ...flags,
  '--jobs',
  String(jobs),
  '--max-target-drop',
  '3',
];
/** `earmark sweep fig3b` on the built-in speech corpus: the default grid, `jobs` points at once, a 3-point budget. */
const sweepFig3b = (jobs, ...flags) => ['sweep', 'fig3b', ...sweepFig4(jobs, ...flags).slice(2)];
/** Neither McAdams nor ADR: the latency points are compared with sweep-fig4's baselines. */
const noBaselines = ['--mcadams', 'none', '--config', 'configs/sweep-latency.json'];

/** Every entry: the command that makes its run folder (resumable) and the folder. */
const ENTRIES = {
  demo: { args: ['demo', '--preset', 'cpu'] },
  fig3a: { args: ['experiment', 'fig3a', ...csv] },
  fig3b: { args: ['experiment', 'fig3b', ...csv] },
  fig4: { args: ['experiment', 'fig4', ...csv] },
  rdal: { args: ['experiment', 'rdal', '--preset', 'cpu', '--quiet'], before: ['corpus', 'soundscapes'] },
  // the CPU-preset sweep (issue 14): λ_p ∈ {0.1, 0.3, 1, 3, 10}, McAdams α ∈ {0.5, 0.7, 0.9}, ADR, a 3-point budget
  'sweep-fig4': { args: sweepFig4(2) },
  // the default sweep with the tasks swapped (T: gender; protected: the speaker, closed-set): does a point of the
  // default grid keep T within 3 points and hold the informed speaker attacker well below clean?
  'sweep-fig3b': { args: sweepFig3b(2) },
  // what T's posteriors alone read of gender and emotion on clean audio (the floor of any obfuscator that keeps T's
  // posterior), over four splits, each holding out other voices (issue 14, item 5)
  'floor-fig4': { args: ['floor', 'fig4', ...csv, '--split-seeds', '0,1,2,3'] },
  // a λ_p schedule (issue 14, item 5) against the constant λ_p = 10 point of sweep-fig4: 0 for one epoch, then a ramp over two
  'sweep-fig4-lp-schedule': {
    args: sweepFig4(1, '--lambda-p', '10', '--mcadams', 'none', '--config', 'configs/sweep-lp-schedule.json'),
  },
  // F_γ after the deobfuscator's last residual block instead of after its 2D→1D conv, against sweep-fig4's λ_p = 1 point
  'sweep-fig4-latent-residual3': {
    args: sweepFig4(1, '--lambda-p', '1', '--mcadams', 'none', '--config', 'configs/sweep-latent-residual3.json'),
  },
  // item 5: L_p as the bounded distance between F_μ(X̃) and X (privacyLoss 'reconstruction'), λ_p 1 and 10, then 30 and 100
  'sweep-fig4-recon-privacy': {
    args: sweepFig4(2, '--lambda-p', '1,10', '--mcadams', 'none', '--config', 'configs/sweep-recon-privacy.json'),
  },
  'sweep-fig4-recon-privacy-hi': {
    args: sweepFig4(2, '--lambda-p', '30,100', '--mcadams', 'none', '--config', 'configs/sweep-recon-privacy.json'),
  },
  // item 5: the same with L_t on T's decision only (targetLoss 'hard')
  'sweep-fig4-hard-recon': {
    args: sweepFig4(2, '--lambda-p', '1,10', '--mcadams', 'none', '--config', 'configs/sweep-hard-recon.json'),
  },
  // the paper's formulation (the reference row) at λ_p 1 and 10, re-measured with the task-output attacker: T's own
  // posteriors on the shipped output, and on clean audio the floor of any obfuscator that keeps T's posterior
  'sweep-fig4-task-output': { args: sweepFig4(2, '--lambda-p', '1,10', '--mcadams', 'none') },
  // the 140-ms window trained for 8 epochs instead of 4
  'sweep-fig4-latency-e8': {
    args: sweepFig4(1, '--lambda-p', '1', '--window', '8:2', '--epochs', '8', ...noBaselines),
  },
  // latency as an axis: windows of 140 ms (8:2) and 400 ms (32:4) at λ_p = 1, trained for the deployed window
  'sweep-fig4-latency': { args: sweepFig4(2, '--lambda-p', '1', '--window', '8:2,32:4', ...noBaselines) },
  // the 140-ms window with the 'time-local' generator (no InstanceNorm statistics across the window's time axis)
  'sweep-fig4-latency-time-local': {
    args: sweepFig4(
      1,
      '--lambda-p',
      '1',
      '--window',
      '8:2',
      '--mcadams',
      'none',
      '--config',
      'configs/sweep-latency-time-local.json',
    ),
  },
  // the same, trained for 8 epochs instead of 4
  'sweep-fig4-latency-time-local-e8': {
    args: sweepFig4(
      1,
      '--lambda-p',
      '1',
      '--window',
      '8:2',
      '--epochs',
      '8',
      '--mcadams',
      'none',
      '--config',
      'configs/sweep-latency-time-local.json',
    ),
  },
  // the 400-ms window with the 'time-local' generator
  'sweep-fig4-latency-time-local-w32': {
    args: sweepFig4(
      1,
      '--lambda-p',
      '1',
      '--window',
      '32:4',
      '--mcadams',
      'none',
      '--config',
      'configs/sweep-latency-time-local.json',
    ),
  },
};

const argv = process.argv.slice(2);
const noRun = argv.includes('--no-run');
const readmeOnly = argv.includes('--readme-only');
const names = argv.filter((a) => !a.startsWith('--'));
for (const n of names)
  if (!(n in ENTRIES)) throw new Error(`results.mjs: unknown entry '${n}' (one of ${Object.keys(ENTRIES).join(', ')})`);
const todo = names.length ? names : Object.keys(ENTRIES);

function earmark(args) {
  console.error(`$ earmark ${args.join(' ')}`);
  const r = spawnSync(process.execPath, [path.join(root, 'bin', 'earmark.js'), ...args], {
    cwd: root,
    stdio: 'inherit',
  });
  return r.status ?? 1;
}

/** The main plot of one report as an HTML page of SVGs (one per attacked attribute, or RDAL's ROC curves). */
async function plotPage(report) {
  if (report.format === 'earmark-experiment-report') {
    const { plotSvg } = await dist('eval/optin/report-plot.js');
    const attrs = [...new Set((report.attacks ?? []).map((a) => a.attribute))];
    return {
      html: attrs.map((a) => plotSvg(report, a)).join('<br>'),
      width: 780,
      height: 410 * Math.max(1, attrs.length) + 10,
    };
  }
  if (report.format === 'earmark-sweep-report') {
    const { frontierSvg } = await dist('eval/sweep/report.js');
    return {
      html: report.frontiers.map((f) => frontierSvg(f, report.task)).join('<br>'),
      width: 740,
      height: 430 * Math.max(1, report.frontiers.length) + 10,
    };
  }
  const { rocSvg } = await dist('eval/rdal/report.js');
  return { html: rocSvg(report), width: 340, height: 340 };
}

async function writePng(file, page) {
  const { launchChromium } = await dist('web/chromium.js');
  const browser = await launchChromium();
  try {
    const p = await browser.newPage({ viewport: { width: page.width, height: page.height } });
    await p.setContent(`<!doctype html><body style="margin:0;background:#fff">${page.html}</body>`);
    await p.screenshot({ path: file, fullPage: true });
  } finally {
    await browser.close();
  }
}

if (!readmeOnly) {
  for (const name of todo) {
    const e = ENTRIES[name];
    const runDir = path.join('runs', 'results', name);
    if (!noRun) {
      if (e.before && earmark(e.before) !== 0) throw new Error(`results.mjs: earmark ${e.before.join(' ')} failed`);
      const code = earmark([...e.args, '--out', runDir]);
      if (code !== 0)
        console.error(`results.mjs: ${name} exited ${code}; its report.json keeps the stages that finished`);
    }
    const src = path.join(root, runDir, 'report.json');
    if (!existsSync(src)) {
      console.error(`results.mjs: ${src} is missing; skipped`);
      continue;
    }
    const out = path.join(root, 'results', name);
    mkdirSync(out, { recursive: true });
    copyFileSync(src, path.join(out, 'report.json'));
    for (const extra of ['frontier.md', 'choice.json', 'floor.md'])
      if (existsSync(path.join(root, runDir, extra)))
        copyFileSync(path.join(root, runDir, extra), path.join(out, extra));
    const report = JSON.parse(readFileSync(src, 'utf8'));
    if (report.format === 'earmark-floor-report') {
      console.error(`results/${name}: report.json, floor.md`); // a table, no plot
      continue;
    }
    const page = await plotPage(report);
    await writePng(path.join(out, 'plot.png'), page);
    console.error(`results/${name}: report.json, plot.png`);
  }
}

// the quoted numbers, from results/ alone
const { addMissingBlocks, syncResultsBlocks } = await dist('eval/results-readme.js');
const have = existsSync(path.join(root, 'results'))
  ? readdirSync(path.join(root, 'results')).filter((n) => existsSync(path.join(root, 'results', n, 'report.json')))
  : [];
for (const doc of ['README.md', path.join('docs', 'methods.md')]) {
  const file = path.join(root, doc);
  const before = readFileSync(file, 'utf8');
  // every reference result is quoted in the README (a "Reference results" section for new ones)
  const { text, changed } = syncResultsBlocks(doc === 'README.md' ? addMissingBlocks(before, have) : before, (name) =>
    JSON.parse(readFileSync(path.join(root, 'results', name, 'report.json'), 'utf8')),
  );
  writeFileSync(file, text);
  console.error(`${doc}: ${changed.length ? `rewrote ${changed.join(', ')}` : 'up to date'}`);
}
