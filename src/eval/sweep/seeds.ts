// The sweep's seed axis (SweepGrid.seed): points that differ only in the obfuscator's training seed form a
// group, summarised by the mean over its seeds and the min–max spread of each number the frontier reads (T's
// validation drop, T's test accuracy, every attacker's accuracy): the training noise that the 95% intervals,
// which cover test sampling only, leave out. With several seeds the utility budget chooses among groups by
// their seed-mean validation numbers, so that one lucky seed cannot win the choice alone.
import { chooseByBudget, utilityFormat, type AttributeFrontier, type BudgetChoice } from './frontier.js';
import type { PointValidation } from './points.js';
import type { SeedGroup, Spread, SweepPointRecord } from './schema.js';

export type { SeedGroup, Spread } from './schema.js';

/**
 * Mean, min and max of `xs` (NaN for none).
 * @example spread([0.2, 0.4, 0.9]) // { mean: 0.5, min: 0.2, max: 0.9 }
 */
export function spread(xs: readonly number[]): Spread {
  if (!xs.length) return { mean: NaN, min: NaN, max: NaN };
  return { mean: xs.reduce((a, b) => a + b, 0) / xs.length, min: Math.min(...xs), max: Math.max(...xs) };
}

/** The group id of a point id: without its '-s<seed>' suffix ('s2' alone: 'base'). */
export const groupId = (id: string): string => id.replace(/(^|-)s\d+$/, '') || 'base';

/** Collect `xs` under `key`, keeping first-seen order. */
function collect(m: Map<string, number[]>, key: string, x: number): void {
  m.set(key, [...(m.get(key) ?? []), x]);
}

/**
 * The seed groups of a sweep's judged points (those with validation and test numbers), in the order of their
 * first member. `frontiers` gives each point's attackers on the primary protocol.
 * @example seedGroups(report.points, report.frontiers).map((g) => [g.id, g.valDrop.mean])
 */
export function seedGroups(points: readonly SweepPointRecord[], frontiers: readonly AttributeFrontier[]): SeedGroup[] {
  const byGroup = new Map<string, SweepPointRecord[]>();
  for (const p of points) {
    if (!p.val || !p.test) continue;
    const id = groupId(p.id);
    byGroup.set(id, [...(byGroup.get(id) ?? []), p]);
  }
  return [...byGroup].map(([id, ps]) => {
    const informed = new Map<string, number[]>();
    for (const p of ps) for (const [a, x] of Object.entries(p.val!.informed)) collect(informed, a, x);
    const mean = (f: (v: PointValidation) => number): number => spread(ps.map((p) => f(p.val!))).mean;
    const attributes: SeedGroup['attributes'] = {};
    for (const f of frontiers) {
      const fps = ps.flatMap((p) => f.points.filter((x) => x.id === p.id));
      if (!fps.length) continue;
      const each = new Map<string, number[]>();
      const best: number[] = [];
      for (const fp of fps) {
        for (const a of fp.attackers) collect(each, `${a.attacker}/${a.format}/${a.protocol}`, a.score.accuracy);
        const inf = fp.attackers.filter((a) => a.attacker === 'informed').map((a) => a.score.accuracy);
        if (inf.length) best.push(Math.max(...inf));
      }
      attributes[f.attribute] = {
        strongest: spread(fps.map((fp) => fp.strongest.score.accuracy)),
        ...(best.length ? { informed: spread(best) } : {}),
        attackers: Object.fromEntries([...each].map(([k, xs]) => [k, spread(xs)])),
      };
    }
    return {
      id,
      seeds: ps.map((p) => p.point.seed ?? 0),
      points: ps.map((p) => p.id),
      val: {
        cleanAcc: mean((v) => v.cleanAcc),
        targetAcc: mean((v) => v.targetAcc),
        drop: mean((v) => v.drop),
        informed: Object.fromEntries([...informed].map(([a, xs]) => [a, spread(xs).mean])),
      },
      valDrop: spread(ps.map((p) => p.val!.drop)),
      target: spread(ps.map((p) => p.test!.target[utilityFormat(p.test!)]!.accuracy)),
      attributes,
    };
  });
}

/**
 * The utility budget over seed groups: the most private group (its seed-mean informed validation accuracy) whose
 * seed-mean T validation drop is at most `maxDrop` points, as chooseByBudget does for points; validation numbers
 * only. `chosen` is the group; `seeds.exported` is the member whose obfuscator ships: its first seed's.
 * @example chooseBySeeds(seedGroups(points, frontiers), 3).seeds?.exported // e.g. 'lp1-s0'
 */
export function chooseBySeeds(groups: readonly SeedGroup[], maxDrop: number): BudgetChoice {
  const c = chooseByBudget(
    groups.map((g) => ({ id: g.id, val: g.val })),
    maxDrop,
    'mean informed-attacker validation accuracy',
    ['seed group', 'seed groups'],
  );
  const g = groups.find((x) => x.id === c.chosen)!;
  const seeds = [...new Set(groups.flatMap((x) => x.seeds))].sort((a, b) => a - b);
  return {
    ...c,
    reason:
      `${c.reason}; every number is a group's mean over obfuscator seeds ${seeds.join(', ')}; ` +
      `${g.points[0]} (seed ${g.seeds[0]}, the group's first) is exported`,
    seeds: { seeds: g.seeds, points: g.points, exported: g.points[0]! },
  };
}
