// The split algorithms behind data/splits.ts (which resolves, saves and re-exports them): counts per split
// within one item of the fractions, utterance-level splits stratified by label values (whole source takes
// dealt together when grouped), and speaker-disjoint splits that keep every gender in every split.
import type { Rng } from '../util/rng.js';
import { compareStrings, labelOf, type LabelKey, type Utterance } from './types.js';

export const SPLIT_NAMES = ['train', 'val', 'test'] as const;
export type SplitName = (typeof SPLIT_NAMES)[number];

export interface Fractions {
  train: number;
  val: number;
  test: number;
}

/** Utterance ids per split, each list sorted. */
export interface SplitSet {
  train: string[];
  val: string[];
  test: string[];
}

/**
 * Divides `n` items into counts per split: each count is floor or ceil of n·fraction (so every
 * stratum keeps its proportions to within one item), and the +1s go where the running total is most
 * behind its target (so the overall sizes stay close to the fractions too).
 */
function allocate(
  n: number,
  fractions: Fractions,
  totals: Record<SplitName, number>,
  seen: number,
): Record<SplitName, number> {
  const counts = { train: 0, val: 0, test: 0 };
  let left = n;
  for (const s of SPLIT_NAMES) {
    counts[s] = Math.floor(n * fractions[s] + 1e-9);
    left -= counts[s];
  }
  const deficit = (s: SplitName) => (seen + n) * fractions[s] - (totals[s] + counts[s]);
  while (left > 0) {
    const open = SPLIT_NAMES.filter((s) => fractions[s] > 0 && counts[s] < Math.ceil(n * fractions[s] - 1e-9));
    const pool = open.length ? open : SPLIT_NAMES.filter((s) => fractions[s] > 0);
    const best = pool.reduce((a, b) => (deficit(b) > deficit(a) + 1e-12 ? b : a));
    counts[best]++;
    left--;
  }
  return counts;
}

/** Groups items by key (groups in sorted key order, items in input order). */
export function groupBy<T>(items: readonly T[], key: (t: T) => string): [string, T[]][] {
  const groups = new Map<string, T[]>();
  for (const it of items) {
    const k = key(it);
    let g = groups.get(k);
    if (g === undefined) groups.set(k, (g = []));
    g.push(it);
  }
  return [...groups].sort((a, b) => compareStrings(a[0], b[0]));
}

/** Shuffles each group with the seed and deals it out by `allocate`. */
export function dealGroups<T>(groups: [string, T[]][], fractions: Fractions, rng: Rng): Record<SplitName, T[]> {
  const out: Record<SplitName, T[]> = { train: [], val: [], test: [] };
  const totals = { train: 0, val: 0, test: 0 };
  let seen = 0;
  for (const [, members] of groups) {
    const shuffled = rng.shuffle([...members]);
    const c = allocate(shuffled.length, fractions, totals, seen);
    let at = 0;
    for (const s of SPLIT_NAMES) {
      out[s].push(...shuffled.slice(at, at + c[s]));
      at += c[s];
      totals[s] += c[s];
    }
    seen += shuffled.length;
  }
  return out;
}

export const sortedIds = (us: readonly Utterance[]): string[] => us.map((u) => u.id).sort(compareStrings);

/** The source-take key of an utterance (an utterance missing one of the labels is its own group). */
export function takeKey(u: Utterance, keys: readonly LabelKey[]): string {
  const vals = keys.map((k) => labelOf(u, k));
  return vals.some((v) => v === undefined || v === '') ? `\u0001${u.id}` : vals.join('\u0000');
}

/**
 * Utterance-level split stratified by the values of `keys` (each stratum within one item of the fractions).
 * With `groupKeys`, whole groups (utterances of one source take) are dealt instead of utterances: the
 * strata are then the values of the `keys` that are constant within every group (e.g. speaker, not the
 * emotions rendered from one take), and every group lands in exactly one split.
 *
 * @example
 * stratifiedSplit(corpus.utterances, ['speaker', 'emotion'], { train: 0.8, val: 0, test: 0.2 }, new Rng(0))
 * stratifiedSplit(corpus.utterances, ['speaker', 'emotion'], DEFAULT_FRACTIONS, new Rng(0), ['speaker', 'sentence'])
 */
export function stratifiedSplit(
  utterances: readonly Utterance[],
  keys: LabelKey[],
  fractions: Fractions,
  rng: Rng,
  groupKeys: readonly LabelKey[] = [],
): SplitSet {
  const stratum = (k: readonly LabelKey[], u: Utterance): string =>
    k.map((key) => labelOf(u, key) ?? '').join('\u0000');
  if (groupKeys.length === 0) {
    const parts = dealGroups(
      groupBy(utterances, (u) => stratum(keys, u)),
      fractions,
      rng,
    );
    return { train: sortedIds(parts.train), val: sortedIds(parts.val), test: sortedIds(parts.test) };
  }
  const takes = groupBy(utterances, (u) => takeKey(u, groupKeys));
  const constant = keys.filter((k) => takes.every(([, us]) => us.every((u) => labelOf(u, k) === labelOf(us[0]!, k))));
  const parts = dealGroups(
    groupBy(takes, ([, us]) => stratum(constant, us[0]!)),
    fractions,
    rng,
  );
  const ids = (gs: [string, Utterance[]][]): string[] => sortedIds(gs.flatMap(([, us]) => us));
  return { train: ids(parts.train), val: ids(parts.val), test: ids(parts.test) };
}

/**
 * Speaker-disjoint split: speakers dealt per gender; a split with a non-zero fraction never ends empty
 * (when there are enough speakers).
 *
 * @example
 * speakerDisjointSplit(corpus.utterances, { train: 0.7, val: 0.1, test: 0.2 }, new Rng(0)).test // ids
 */
export function speakerDisjointSplit(utterances: readonly Utterance[], fractions: Fractions, rng: Rng): SplitSet {
  const bySpeaker = groupBy(utterances, (u) => u.speaker);
  const speakers = bySpeaker.map(([spk, us]) => ({ spk, gender: us[0]!.gender ?? 'unknown' }));
  const parts = dealGroups(
    groupBy(speakers, (s) => s.gender),
    fractions,
    rng,
  );
  // every class keeps a speaker in every non-zero split where it has enough speakers (a val split carved
  // from training speakers still validates both genders), then tiny sets: one speaker into each empty split
  const open = SPLIT_NAMES.filter((s) => fractions[s] > 0);
  for (const [gender] of groupBy(speakers, (s) => s.gender)) {
    const of = (s: SplitName): { spk: string; gender: string }[] => parts[s].filter((x) => x.gender === gender);
    if (open.reduce((n, s) => n + of(s).length, 0) < open.length) continue;
    for (const s of open) {
      if (of(s).length > 0) continue;
      const donor = open.reduce((a, b) => (of(b).length > of(a).length ? b : a));
      const move = of(donor).at(-1)!;
      parts[donor].splice(parts[donor].indexOf(move), 1);
      parts[s].push(move);
    }
  }
  for (const s of SPLIT_NAMES) {
    if (fractions[s] > 0 && parts[s].length === 0) {
      const donor = SPLIT_NAMES.reduce((a, b) => (parts[b].length > parts[a].length ? b : a));
      if (parts[donor].length > 1) parts[s].push(parts[donor].pop()!);
    }
  }
  const members = new Map(bySpeaker);
  const ids = (ss: { spk: string }[]) => sortedIds(ss.flatMap((x) => members.get(x.spk)!));
  return { train: ids(parts.train), val: ids(parts.val), test: ids(parts.test) };
}
