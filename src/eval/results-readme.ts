// The README's and docs' quoted results, generated from results/ (issue 11, deliverable 9): each quote
// sits between `<!-- results:NAME -->` and `<!-- /results:NAME -->` and is exactly what resultsBlock()
// makes of results/NAME/report.json (an opt-in experiment's or RDAL's), so a test can check that the
// quoted numbers are the reference results' and scripts/results.mjs can rewrite them after a new run.
import type { ClassScores } from './metrics.js';
import { floorMarkdown, type FloorReport } from './optin/floor-table.js';
import type { ExperimentReport } from './optin/schema.js';
import type { RdalReport } from './rdal/schema.js';
import type { SweepReport } from './sweep/schema.js';
import { frontierMarkdown } from './sweep/table.js';

const pct = (x: number | undefined): string =>
  x === undefined || !Number.isFinite(x) ? '—' : `${(100 * x).toFixed(1)}%`;
const acc = (s: ClassScores | undefined): string => pct(s?.accuracy);
const pair = (a: ClassScores | undefined, b: ClassScores | undefined): string => `${acc(a)} / ${acc(b)}`;
const best = (xs: Record<string, ClassScores> | undefined): ClassScores | undefined =>
  Object.values(xs ?? {}).reduce<ClassScores | undefined>(
    (m, s) => (m === undefined || s.accuracy > m.accuracy ? s : m),
    undefined,
  );

function optinBlock(name: string, r: ExperimentReport): string[] {
  const t = r.target;
  const lines = [
    `${r.title} on ${r.dataset.name} (\`results/${name}/report.json\`; frames / phase-free PCM re-analysed as an app would):`,
    '',
    '| | clean | ignorant | informed | fresh inversion (best) | in-training (optimistic) |',
    '|---|---|---|---|---|---|',
  ];
  if (t) lines.push(`| T (${t.task}) | ${acc(t.clean)} | ${pair(t.formats.frames, t.formats.pcm)} | | | |`);
  for (const a of r.attacks ?? []) {
    const f = a.formats.frames;
    const p = a.formats.pcm;
    const shown = a.functionOfTask && a.protocol === 'closed-set' ? ', shown not judged' : '';
    lines.push(
      `| ${a.attribute} (${a.protocol}${shown}) | ${acc(a.clean)} | ${pair(f?.ignorant, p?.ignorant)} | ${pair(f?.informed, p?.informed)} | ` +
        `${pair(best(f?.inversion), best(p?.inversion))} | ${pair(f?.inTraining, p?.inTraining)} |`,
    );
  }
  lines.push(...baselineLines(r));
  const judged = r.verdicts.filter((v) => v.judged);
  const n = (s: string): number => judged.filter((v) => v.status === s).length;
  const failed = r.stages.filter((s) => s.status === 'failed').map((s) => s.name);
  lines.push(
    '',
    `Verdicts from the 95% intervals: ${n('holds')} hold, ${n('fails')} fail, ${n('inconclusive')} inconclusive` +
      `${failed.length ? `; failed stages: ${failed.join(', ')}` : ''}.`,
  );
  return lines;
}

/** The baselines judged beside the obfuscator: T on their output, and per attribute ignorant / informed. */
function baselineLines(r: ExperimentReport): string[] {
  const b = r.baselines;
  const rows: string[] = [];
  const attacks = (xs: { attribute: string; ignorant?: ClassScores; informed?: ClassScores }[]): string =>
    xs.map((a) => `${a.attribute} ${pair(a.ignorant, a.informed)}`).join('; ');
  for (const [protocol, m] of Object.entries(b?.mcadams ?? {}))
    if (m) rows.push(`| McAdams (${protocol}) | ${acc(m.target.transformed)} | ${attacks(m.attacks)} |`);
  if (b?.adr)
    rows.push(
      `| ADR on x-vectors, told to hide ${b.adr.hidden} | ${acc(b.adr.target.transformed)} | ${attacks(b.adr.attacks)} |`,
    );
  if (!rows.length) return [];
  return [
    '',
    `| baseline | T (${r.target?.task ?? 'task'}) on its output | attribute: ignorant / informed |`,
    '|---|---|---|',
    ...rows,
  ];
}

function rdalBlock(name: string, r: RdalReport): string[] {
  const lines = [
    `${r.title} (\`results/${name}/report.json\`; mean ± std over runs):`,
    '',
    '| method | runs | event accuracy | fresh speech-attacker AUC | fresh gender-attacker AUC |',
    '|---|---|---|---|---|',
  ];
  const ms = (m: { mean: number; std: number }): string =>
    Number.isFinite(m.mean) ? `${m.mean.toFixed(3)} ± ${m.std.toFixed(3)}` : '—';
  for (const s of r.summary)
    lines.push(
      `| ${s.method} | ${s.runs} | ${ms(s.metrics.eventAcc)} | ${ms(s.metrics.speechAuc)} | ${ms(s.metrics.genderAuc)} |`,
    );
  const pc = (r.paired ?? []).find((c) => c.a === 'naive' && c.b === 'rdal' && c.metric === 'speechAuc');
  if (pc)
    lines.push(
      '',
      `NaiveAdv − RDAL speech AUC paired over ${pc.seeds.length} seeds: ${pc.meanDiff.toFixed(3)} ± ${pc.stdDiff.toFixed(3)}` +
        (pc.p === null ? ' (no test: too few seeds)' : `, t(${pc.df}) = ${pc.t!.toFixed(2)}, p = ${pc.p.toFixed(3)}`) +
        '.',
    );
  return lines;
}

/** A sweep's frontier table (frontier.md without its heading). */
function sweepBlock(name: string, r: SweepReport): string[] {
  const body = frontierMarkdown(r).split('\n').slice(2);
  while (body.length && body[body.length - 1] === '') body.pop();
  return [
    `**${name}** (\`results/${name}/\`, ${r.points.length} point${r.points.length === 1 ? '' : 's'}, task ${r.task}):`,
    '',
    ...body,
  ];
}

/** A task-output floor's table (floor.md without its heading). */
function floorBlock(name: string, r: FloorReport): string[] {
  const body = floorMarkdown(r).split('\n').slice(2);
  while (body.length && body[body.length - 1] === '') body.pop();
  return [
    `**${name}** (\`results/${name}/\`, ${r.splitSeeds.length} split seed${r.splitSeeds.length === 1 ? '' : 's'}, task ${r.task}):`,
    '',
    ...body,
  ];
}

/**
 * The quoted block of one results entry (without its markers).
 * @example resultsBlock('demo', JSON.parse(readFileSync('results/demo/report.json', 'utf8')));
 */
export function resultsBlock(name: string, report: unknown): string {
  const r = report as { format?: string };
  if (r.format === 'earmark-experiment-report') return optinBlock(name, report as ExperimentReport).join('\n');
  if (r.format === 'earmark-sweep-report') return sweepBlock(name, report as SweepReport).join('\n');
  if (r.format === 'earmark-floor-report') return floorBlock(name, report as FloorReport).join('\n');
  if (Array.isArray((report as RdalReport).summary)) return rdalBlock(name, report as RdalReport).join('\n');
  throw new RangeError(
    `resultsBlock: results/${name}/report.json is neither an opt-in experiment's, a sweep's, a floor's nor RDAL's report`,
  );
}

const BLOCK = /<!-- results:([a-z0-9-]+) -->\n([\s\S]*?)<!-- \/results:\1 -->/g;

/** The names of the results blocks in a Markdown text, in order. */
export function resultsBlockNames(text: string): string[] {
  return [...text.matchAll(BLOCK)].map((m) => m[1]!);
}

/**
 * `text` with every results block regenerated from `load(name)` (the parsed report.json); the names whose
 * block changed are returned too (a check: none may change).
 */
export function syncResultsBlocks(text: string, load: (name: string) => unknown): { text: string; changed: string[] } {
  const changed: string[] = [];
  const out = text.replace(BLOCK, (whole, name: string, body: string) => {
    const fresh = `${resultsBlock(name, load(name))}\n`;
    if (fresh !== body) changed.push(name);
    return `<!-- results:${name} -->\n${fresh}<!-- /results:${name} -->`;
  });
  return { text: out, changed };
}

/**
 * `text` with an empty block for each of `names` it does not quote yet, under a "## Reference results"
 * heading placed before `beforeHeading` (created once); syncResultsBlocks then fills them in.
 */
export function addMissingBlocks(text: string, names: readonly string[], beforeHeading = '## Layout'): string {
  const missing = names.filter((n) => !resultsBlockNames(text).includes(n));
  if (missing.length === 0) return text;
  const blocks = missing.map((n) => `<!-- results:${n} -->\n<!-- /results:${n} -->\n`).join('\n');
  const heading = '## Reference results';
  if (text.includes(`\n${heading}\n`)) {
    const at = text.indexOf(`\n${heading}\n`) + heading.length + 2;
    const end = text.indexOf('\n## ', at);
    const cut = end < 0 ? text.length : end + 1;
    return `${text.slice(0, cut).trimEnd()}\n\n${blocks}\n${text.slice(cut)}`;
  }
  const section = `${heading}\n\nRegenerated by \`node scripts/results.mjs\` from \`results/\` (CPU presets, built-in corpora).\n\n${blocks}\n`;
  const at = text.indexOf(`\n${beforeHeading}\n`);
  return at < 0 ? `${text.trimEnd()}\n\n${section}` : `${text.slice(0, at + 1)}${section}${text.slice(at + 1)}`;
}
