// The sweep's frontier as a Markdown table (frontier.md, for results/ and closing notes): per point its
// settings, T's validation drop, T's test accuracy on the output, and per attribute the strongest and the
// informed attacker with 95% intervals, the Pareto front, the privacy bins and the budget's choice; with several
// seeds, a second table of each group of points that differ only in seed: the mean and min–max over its seeds.
import type { ClassScores } from '../metrics.js';
import type { SeedGroup, Spread, SweepReport } from './schema.js';

const pct = (x: number): string => (Number.isFinite(x) ? (100 * x).toFixed(1) : '–');
const ci = (s: ClassScores | undefined): string =>
  s ? `${pct(s.accuracy)} [${pct(s.accuracyCI.lo)}, ${pct(s.accuracyCI.hi)}]` : '–';

const range = (s: Spread | undefined): string => (s ? `${pct(s.mean)} (${pct(s.min)} to ${pct(s.max)})` : '–');

/** The seed groups' table: per group the mean over its seeds with the min–max range, and a line saying how many seeds. */
function seedTable(groups: readonly SeedGroup[], task: string, attrs: readonly string[]): string[] {
  const seeds = [...new Set(groups.flatMap((g) => g.seeds))].sort((a, b) => a - b);
  const head = ['group', 'seeds', 'val T drop', `T ${task} (test)`];
  for (const a of attrs) head.push(`${a}: strongest`, `${a}: informed`);
  const rows = groups.map((g) => {
    const cells = [g.id, g.seeds.join(', '), range(g.valDrop), range(g.target)];
    for (const a of attrs) cells.push(range(g.attributes[a]?.strongest), range(g.attributes[a]?.informed));
    return `| ${cells.join(' | ')} |`;
  });
  return [
    `Over ${seeds.length} obfuscator seeds (${seeds.join(', ')}; obfuscatorTrain.seed): each group is the points above ` +
      'that differ only in seed, as the mean over its seeds with the min and max in parentheses. This range is training ' +
      "noise, which the 95% intervals (test sampling only) leave out; the budget chooses by the groups' means.",
    '',
    `| ${head.join(' | ')} |`,
    `|${head.map(() => '---').join('|')}|`,
    ...rows,
    '',
  ];
}

/** The frontier table of a sweep report, in Markdown. */
export function frontierMarkdown(r: SweepReport): string {
  const attrs = r.frontiers.map((f) => f.attribute);
  // the norm column only where a point's generator is not the paper's (tables of older sweeps unchanged)
  const norms = r.points.some((p) => (p.settings.norm ?? 'instance') !== 'instance');
  const head = ['system', 'λ_p', 'C', 'epochs', 'W:M', ...(norms ? ['norm'] : []), 'latency ms', 'val T drop'];
  head.push(`T ${r.task} (test)`);
  for (const a of attrs) head.push(`${a}: strongest`, `${a}: informed`);
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  // a baseline that ran but had nothing to judge (its note says why) gets a line below the table, not an empty row
  const unjudged = r.baselines.filter((b) => !b.test && b.note);
  const ids = [...r.points.map((p) => p.id), ...r.baselines.filter((b) => !unjudged.includes(b)).map((b) => b.id)];
  for (const id of ids) {
    const p = r.points.find((x) => x.id === id);
    const s = p?.settings;
    const cells = s
      ? [
          id,
          String(s.lambdaP),
          String(s.width),
          String(s.epochs),
          `${s.window.w}:${s.window.m}`,
          ...(norms ? [s.norm ?? 'instance'] : []),
          s.latencyMs.toFixed(0),
        ]
      : [id, '', '', '', '', ...(norms ? [''] : []), ''];
    cells.push(p?.val ? (100 * p.val.drop).toFixed(1) : '');
    let target: ClassScores | undefined;
    const attackCells: string[] = [];
    for (const f of r.frontiers) {
      const fp = f.points.find((x) => x.id === id);
      target ??= fp?.target;
      const inf = fp?.attackers
        .filter((a) => a.attacker === 'informed')
        .sort((a, b) => b.score.accuracy - a.score.accuracy)[0];
      attackCells.push(
        fp ? `${ci(fp.strongest.score)} (${fp.strongest.attacker}/${fp.strongest.format})` : '–',
        ci(inf?.score),
      );
    }
    lines.push(`| ${[...cells, ci(target), ...attackCells].join(' | ')} |`);
  }
  const out = [
    `# Sweep ${r.experiment} (${r.dataset})`,
    '',
    'Accuracies in %, 95% intervals in brackets.',
    '',
    ...lines,
    '',
    ...(r.seedGroups ? seedTable(r.seedGroups, r.task, attrs) : []),
  ];
  for (const f of r.frontiers) {
    out.push(
      `- ${f.attribute} (chance ${pct(f.chance)}, clean classifier ${pct(f.cleanAttribute)}): Pareto front ` +
        `${f.pareto.join(' → ') || '–'}; ` +
        f.bins
          .map((b) => `informed ≤ chance+${b.points}: ${b.best ? `${b.best.id} (T ${pct(b.best.target)})` : 'none'}`)
          .join('; '),
    );
  }
  for (const b of unjudged) out.push(`- ${b.id}: ${b.note}`);
  if (r.choice) out.push(`- budget ${r.choice.maxTargetDrop} points: ${r.choice.chosen}: ${r.choice.reason}`);
  return out.join('\n') + '\n';
}
