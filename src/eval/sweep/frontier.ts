// The privacy–utility frontier of a sweep: per attacked attribute, each system's utility (T's accuracy on
// its output) against the strongest attacker's accuracy, the Pareto front of the sweep's points,
// VoicePrivacy-style bins (the best utility within each privacy level) and the utility budget's choice,
// which reads validation numbers only.
import type { ClassScores } from '../metrics.js';
import type { AttackerScore, PointValidation, TestScores } from './points.js';

/** One system on one attribute's axes. */
export interface FrontierPoint {
  /** The sweep point's id, or the baseline's name ('McAdams α=0.5', 'ADR'). */
  id: string;
  kind: 'point' | 'baseline';
  /** T on the system's output (x). */
  target: ClassScores;
  targetFormat: string;
  /** The attacker with the highest test accuracy on this attribute (y), and every attacker. */
  strongest: AttackerScore;
  attackers: AttackerScore[];
  latencyMs?: number;
}

/** The frontier of one attribute: every system, the ids on the Pareto front, and the privacy bins. */
export interface AttributeFrontier {
  attribute: string;
  chance: number;
  cleanAttribute: number;
  cleanTarget: number;
  points: FrontierPoint[];
  /** Sweep points no other sweep point beats on both axes (higher T accuracy, lower strongest attacker), by T accuracy. */
  pareto: string[];
  bins: PrivacyBin[];
}

/** The best utility among the systems whose informed attackers stay at or below chance + `points`. */
export interface PrivacyBin {
  points: number;
  /** Informed-attacker accuracy bound (chance + points). */
  bound: number;
  best?: { id: string; target: number; informed: number };
}

/** The privacy levels of the bins, in points above chance. */
export const PRIVACY_BINS = [5, 10, 20];

/** The format T is read on for the frontier's x axis: PCM (what `obfuscate` ships) where judged, else frames. */
export function utilityFormat(s: TestScores): string {
  return 'pcm' in s.target ? 'pcm' : Object.keys(s.target)[0]!;
}

/** The attackers of one attribute on the report's primary protocol (the first one listed). */
function attackersOf(s: TestScores, attribute: string): AttackerScore[] {
  const all = s.attackers.filter((a) => a.attribute === attribute);
  const primary = all.find((a) => a.protocol === 'speaker-disjoint')?.protocol ?? all[0]?.protocol;
  return all.filter((a) => a.protocol === primary);
}

/** A system's place on one attribute's axes (undefined when it does not attack that attribute). */
export function frontierPoint(
  id: string,
  kind: FrontierPoint['kind'],
  s: TestScores,
  attribute: string,
  latency?: number,
): FrontierPoint | undefined {
  const attackers = attackersOf(s, attribute);
  if (!attackers.length) return undefined;
  const strongest = attackers.reduce((a, b) => (b.score.accuracy > a.score.accuracy ? b : a));
  const fmt = utilityFormat(s);
  return {
    id,
    kind,
    target: s.target[fmt]!,
    targetFormat: fmt,
    strongest,
    attackers,
    ...(latency === undefined ? {} : { latencyMs: latency }),
  };
}

/** The ids of `pts` on the Pareto front (maximise x = T accuracy, minimise y = strongest attacker), by x. */
export function paretoFront(pts: readonly { id: string; x: number; y: number }[]): string[] {
  const front = pts.filter((p) => !pts.some((q) => q !== p && q.x >= p.x && q.y <= p.y && (q.x > p.x || q.y < p.y)));
  return front.sort((a, b) => a.x - b.x).map((p) => p.id);
}

/** The strongest informed attacker of a frontier point (the bins' privacy measure), else its strongest. */
function informedOf(p: FrontierPoint): number {
  const inf = p.attackers.filter((a) => a.attacker === 'informed');
  return inf.length ? Math.max(...inf.map((a) => a.score.accuracy)) : p.strongest.score.accuracy;
}

/** Build one attribute's frontier from the systems' points (sweep points and baselines). */
export function attributeFrontier(attribute: string, points: FrontierPoint[]): AttributeFrontier {
  const first = points[0]!;
  const chance = first.strongest.chance;
  const sweep = points.filter((p) => p.kind === 'point');
  const pareto = paretoFront(sweep.map((p) => ({ id: p.id, x: p.target.accuracy, y: p.strongest.score.accuracy })));
  const bins = PRIVACY_BINS.map((pts): PrivacyBin => {
    const bound = chance + pts / 100;
    const ok = points.filter((p) => informedOf(p) <= bound);
    const best = ok.reduce<FrontierPoint | undefined>(
      (a, b) => (a === undefined || b.target.accuracy > a.target.accuracy ? b : a),
      undefined,
    );
    return {
      points: pts,
      bound,
      ...(best ? { best: { id: best.id, target: best.target.accuracy, informed: informedOf(best) } } : {}),
    };
  });
  return { attribute, chance, cleanAttribute: first.strongest.clean.accuracy, cleanTarget: NaN, points, pareto, bins };
}

/** The utility budget's decision, recorded in choice.json and the exported ONNX's metadata. */
export interface BudgetChoice {
  /** The largest allowed drop of T's validation accuracy, in points. */
  maxTargetDrop: number;
  chosen: string;
  withinBudget: boolean;
  reason: string;
  /** Every candidate's validation numbers (what the choice read; never test data). */
  candidates: { id: string; drop: number; privacy: number; informed: Record<string, number> }[];
  /** With several seeds (seeds.ts chooseBySeeds): `chosen` is a seed group, these its members and the one exported. */
  seeds?: { seeds: number[]; points: string[]; exported: string };
}

/** Mean informed validation accuracy over the attacked attributes (lower = more private; NaN when none). */
function valPrivacy(v: PointValidation): number {
  const xs = Object.values(v.informed);
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN;
}

/**
 * The most private candidate whose T validation drop is at most `maxDrop` points: the lowest mean
 * informed-attacker validation accuracy, or the candidate's own `privacy` (lower = more private) where
 * given (ties: the smaller drop). When none fits, the smallest drop. Reads validation numbers only
 * (PointValidation), so test labels cannot change the choice.
 * @param measure what `privacy` is, in the reason's words
 * @param unit what a candidate is, in the reason's words (singular, plural)
 * @example chooseByBudget([{ id: 'lp1', val }, { id: 'lp3', val: v3 }], 3).chosen
 */
export function chooseByBudget(
  cands: readonly { id: string; val: PointValidation; privacy?: number }[],
  maxDrop: number,
  measure = 'mean informed-attacker validation accuracy',
  unit: readonly [string, string] = ['point', 'points'],
): BudgetChoice {
  if (!cands.length) throw new RangeError('chooseByBudget: no candidates (train at least one point)');
  if (!(maxDrop >= 0))
    throw new RangeError(`chooseByBudget: 'maxDrop' must be a number of points >= 0, got ${maxDrop}`);
  const rows = cands.map((c) => ({
    id: c.id,
    drop: c.val.drop,
    privacy: c.privacy ?? valPrivacy(c.val),
    informed: c.val.informed,
  }));
  const pts = (x: number): string => `${(100 * x).toFixed(1)}`;
  const fits = rows.filter((r) => 100 * r.drop <= maxDrop + 1e-9);
  const byPrivacy = (a: (typeof rows)[number], b: (typeof rows)[number]): number =>
    (Number.isNaN(a.privacy) ? 1 : 0) - (Number.isNaN(b.privacy) ? 1 : 0) || a.privacy - b.privacy || a.drop - b.drop;
  if (fits.length) {
    const best = [...fits].sort(byPrivacy)[0]!;
    return {
      maxTargetDrop: maxDrop,
      chosen: best.id,
      withinBudget: true,
      candidates: rows,
      reason:
        `${fits.length} of ${rows.length} ${unit[1]} keep T's validation drop within ${maxDrop} points; ${best.id} is the most private ` +
        `of them (${measure} ${measure.includes('accuracy') ? `${pts(best.privacy)}%` : best.privacy.toFixed(4)}, T drop ${pts(best.drop)} points)`,
    };
  }
  const best = [...rows].sort((a, b) => a.drop - b.drop)[0]!;
  return {
    maxTargetDrop: maxDrop,
    chosen: best.id,
    withinBudget: false,
    candidates: rows,
    reason: `no ${unit[0]} keeps T's validation drop within ${maxDrop} points; ${best.id} has the smallest drop (${pts(best.drop)} points)`,
  };
}
