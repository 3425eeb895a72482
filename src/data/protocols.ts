// The attackers' protocols (issue 11): which utterances an attribute attacker trains, validates and is
// tested on. Both keep the obfuscator's own split (its training utterances are the only ones the
// attackers may train on; they are tested on the held-out test split):
//  - 'closed-set': the speakers of the granted task's split (every speaker in train, val and test), as
//    the paper. On a closed set, an attribute that is a function of the speaker (gender) is known to any
//    app granted speaker ID: the informed attacker then measures the grant, not a leak.
//  - 'speaker-disjoint': the attackers never hear a test speaker. On a corpus split by speakers
//    (LibriSpeech, VoxCeleb2) that is the split itself; on one split by utterances (RAVDESS, EmoV-DB, the
//    built-in corpus) a seeded set of speakers is held out, dealt per class of the speaker-level
//    attributes (gender) so every class keeps speakers on both sides. Where the corpus has too few
//    speakers of a class, the protocol is unavailable and says why.
import { EarmarkError } from '../errors.js';
import { Rng } from '../util/rng.js';
import type { ExperimentData } from './experiment-data.js';
import { takeKey } from './splits.js';
import { compareStrings, labelOf, labelValues, type LabelKey, type Utterance } from './types.js';

export const ATTACK_PROTOCOLS = ['speaker-disjoint', 'closed-set'] as const;
export type AttackProtocol = (typeof ATTACK_PROTOCOLS)[number];

/** One protocol's utterance ids (sorted), the speakers it held out, and how it was made, in words. */
export interface ProtocolSplit {
  protocol: AttackProtocol;
  train: string[];
  val: string[];
  test: string[];
  /** Speakers that only the test part holds (speaker-disjoint protocol on an utterance-level split). */
  heldOutSpeakers?: string[];
  how: string;
}

/** The protocols an experiment can run, and the ones it cannot with the reason. */
export interface ProtocolPlan {
  splits: Partial<Record<AttackProtocol, ProtocolSplit>>;
  unavailable: Partial<Record<AttackProtocol, string>>;
}

const ids = (us: readonly Utterance[]): string[] => us.map((u) => u.id).sort(compareStrings);

/** True when every speaker of `us` has one value of `key` (gender; not emotion). */
export function isSpeakerLevel(us: readonly Utterance[], key: LabelKey): boolean {
  const seen = new Map<string, string | undefined>();
  for (const u of us) {
    const v = labelOf(u, key);
    if (seen.has(u.speaker) && seen.get(u.speaker) !== v) return false;
    seen.set(u.speaker, v);
  }
  return true;
}

/**
 * True when `attr` is a function of `task` on these utterances: every task class has one `attr` value
 * (gender under speaker ID). An app granted the task then knows the attribute on a closed set.
 */
export function isFunctionOf(us: readonly Utterance[], attr: LabelKey, task: LabelKey): boolean {
  const seen = new Map<string, string | undefined>();
  for (const u of us) {
    const t = labelOf(u, task);
    if (t === undefined) continue;
    const v = labelOf(u, attr);
    if (seen.has(t) && seen.get(t) !== v) return false;
    seen.set(t, v);
  }
  return seen.size > 0;
}

/**
 * Speakers held out from attacker training: a `fraction` of the speakers of each class of the
 * speaker-level `attrs` (at least one, never all), seeded. Returns the reason instead when a class has
 * fewer than 2 speakers, or when an utterance-level attribute would lose a class on either side.
 * @example holdOutSpeakers(corpus.utterances, ['gender', 'emotion'], 0.25, new Rng(0)) // { speakers: ['F03', 'M06', …] }
 */
export function holdOutSpeakers(
  us: readonly Utterance[],
  attrs: readonly LabelKey[],
  fraction: number,
  rng: Rng,
): { speakers: string[] } | { reason: string } {
  if (!(fraction > 0 && fraction < 1))
    throw new RangeError(`holdOutSpeakers: 'fraction' must be in (0, 1), got ${fraction}`);
  const level = attrs.filter((a) => isSpeakerLevel(us, a));
  const strata = new Map<string, string[]>();
  for (const spk of [...new Set(us.map((u) => u.speaker))].sort(compareStrings)) {
    const u = us.find((x) => x.speaker === spk)!;
    const key = level.map((a) => `${a}=${labelOf(u, a) ?? '?'}`).join(', ') || 'all speakers';
    strata.set(key, [...(strata.get(key) ?? []), spk]);
  }
  const held: string[] = [];
  for (const [key, speakers] of [...strata].sort((a, b) => compareStrings(a[0], b[0]))) {
    if (speakers.length < 2)
      return {
        reason: `only ${speakers.length} speaker with ${key}: a speaker-disjoint attacker needs one to train on and one to test`,
      };
    const k = Math.min(speakers.length - 1, Math.max(1, Math.round(speakers.length * fraction)));
    held.push(...rng.shuffle([...speakers]).slice(0, k));
  }
  const h = new Set(held);
  for (const a of attrs.filter((x) => !level.includes(x))) {
    const inside = labelValues(
      us.filter((u) => h.has(u.speaker)),
      a,
    );
    const outside = labelValues(
      us.filter((u) => !h.has(u.speaker)),
      a,
    );
    const all = labelValues(us, a);
    const missing = all.filter((v) => !inside.includes(v) || !outside.includes(v));
    if (missing.length)
      return { reason: `holding out ${held.length} speakers leaves no ${a} = ${missing.join(', ')} on one side` };
  }
  return { speakers: held.sort(compareStrings) };
}

export interface ProtocolOptions {
  /** The attributes attacked (speaker-level ones stratify the held-out speakers). */
  attacks: readonly LabelKey[];
  /** Share of each class's speakers held out on utterance-level splits (default 0.25). */
  heldOutFraction: number;
  seed: number;
}

/**
 * The closed-set and speaker-disjoint protocols of an experiment's data (see the file header).
 * @example const plan = attackProtocols(data, { attacks: ['gender', 'emotion'], heldOutFraction: 0.25, seed: 0 });
 */
export function attackProtocols(data: ExperimentData, o: ProtocolOptions): ProtocolPlan {
  const plan: ProtocolPlan = { splits: {}, unavailable: {} };
  const have = (s: { ids: string[] }): Utterance[] => s.ids.map((id) => data.byId.get(id)!);
  const closed = data.speakerSets ?? data.sets;
  const closedSplit: ProtocolSplit = {
    protocol: 'closed-set',
    train: [...closed.train.ids].sort(compareStrings),
    val: [...closed.val.ids].sort(compareStrings),
    test: [...closed.test.ids].sort(compareStrings),
    how: data.speakerSets
      ? "the test speakers' utterance-level split (every attacker hears every test speaker)"
      : 'the main split (every speaker in train, val and test)',
  };
  keepValClasses(data, closedSplit, o.attacks, new Rng(o.seed).derive('protocol-val'));
  plan.splits['closed-set'] = closedSplit;
  const attrs = o.attacks.filter((a) => a !== 'speaker');
  if (attrs.length === 0) {
    plan.unavailable['speaker-disjoint'] = 'the only protected attribute is the speaker, which needs the closed set';
    return plan;
  }
  if (data.splits.config.method !== 'stratified') {
    const s = data.sets;
    plan.splits['speaker-disjoint'] = {
      protocol: 'speaker-disjoint',
      train: ids(have(s.train)),
      val: ids(have(s.val)),
      test: ids(have(s.test)),
      how: `the ${data.splits.config.method} split itself (train, val and test speakers are disjoint)`,
    };
    return plan;
  }
  const all = [...have(data.sets.train), ...have(data.sets.val), ...have(data.sets.test)];
  const h = holdOutSpeakers(all, attrs, o.heldOutFraction, new Rng(o.seed).derive('held-out-speakers'));
  if ('reason' in h) {
    plan.unavailable['speaker-disjoint'] = h.reason;
    return plan;
  }
  const held = new Set(h.speakers);
  const part = (us: Utterance[], inHeld: boolean): string[] => ids(us.filter((u) => held.has(u.speaker) === inHeld));
  const split: ProtocolSplit = {
    protocol: 'speaker-disjoint',
    train: part(have(data.sets.train), false),
    val: part(have(data.sets.val), false),
    test: part(have(data.sets.test), true),
    heldOutSpeakers: h.speakers,
    how:
      `${h.speakers.length} of ${new Set(all.map((u) => u.speaker)).size} speakers held out (${Math.round(100 * o.heldOutFraction)}% per class of ` +
      `${attrs.filter((a) => isSpeakerLevel(all, a)).join(', ') || 'speakers'}): attackers train and validate on the others' training and validation utterances ` +
      "and are tested on the held-out speakers' test utterances",
  };
  keepValClasses(data, split, attrs, new Rng(o.seed).derive('protocol-val'));
  for (const part of ['train', 'val', 'test'] as const) {
    if (split[part].length === 0) {
      plan.unavailable['speaker-disjoint'] = `holding out ${h.speakers.length} speakers leaves the ${part} part empty`;
      return plan;
    }
  }
  plan.splits['speaker-disjoint'] = split;
  return plan;
}

/**
 * A validation part must hold every class of each attacked attribute (a corpus without a dev set still
 * validates gender on both genders): while one is missing, whole source takes that have it move from the
 * protocol's training part to its validation part (seeded; never a class's last training take).
 */
function keepValClasses(data: ExperimentData, s: ProtocolSplit, attrs: readonly LabelKey[], rng: Rng): void {
  const groupBy = data.splits.config.groupBy ?? [];
  const of = (ids: readonly string[]): Utterance[] => ids.map((id) => data.byId.get(id)!);
  const moved: string[] = [];
  for (;;) {
    const val = of(s.val);
    const train = of(s.train);
    const need = attrs.flatMap((a) =>
      labelValues(train, a)
        .filter((v) => !val.some((u) => labelOf(u, a) === v))
        .map((v) => [a, v] as const),
    );
    if (need.length === 0 && val.length > 0) break;
    const takes = new Map<string, Utterance[]>();
    for (const u of train) takes.set(takeKey(u, groupBy), [...(takes.get(takeKey(u, groupBy)) ?? []), u]);
    const spare = (us: Utterance[]): boolean =>
      attrs.every((a) => us.every((u) => train.some((x) => !us.includes(x) && labelOf(x, a) === labelOf(u, a))));
    const want = need[0];
    const candidates = [...takes]
      .filter(([, us]) => (want === undefined || us.some((u) => labelOf(u, want[0]) === want[1])) && spare(us))
      .sort((a, b) => compareStrings(a[0], b[0]));
    if (candidates.length === 0) break; // nothing can move without emptying a class's training data
    const [, pick] = candidates[rng.int(candidates.length)]!;
    const ids = new Set(pick.map((u) => u.id));
    s.train = s.train.filter((id) => !ids.has(id));
    s.val = [...s.val, ...ids].sort(compareStrings);
    moved.push(...ids);
    if (want !== undefined) moved.push(`${want[0]}=${want[1]}`);
  }
  if (moved.length) {
    const classes = [...new Set(moved.filter((x) => x.includes('=')))];
    s.how += `; validation carved from ${moved.length - classes.length} training utterances to keep every class${classes.length ? ` (${classes.join(', ')})` : ''}`;
  }
}

/** The classes of `attr` missing from `part` of a protocol (a validation part must keep every class). */
export function missingClasses(data: ExperimentData, part: readonly string[], attr: LabelKey): string[] {
  const have = new Set(part.map((id) => labelOf(data.byId.get(id)!, attr)));
  return labelValues(data.corpus.utterances, attr).filter((v) => !have.has(v));
}

/** Throws unless the protocol's train and test ids are disjoint (and its test speakers unseen, for speaker-disjoint). */
export function checkProtocol(data: ExperimentData, s: ProtocolSplit): void {
  const train = new Set([...s.train, ...s.val]);
  const both = s.test.filter((id) => train.has(id));
  if (both.length)
    throw new EarmarkError(
      'EARMARK_DATASET',
      `protocol ${s.protocol}: ${both.length} test utterance(s) are also attacker training data, e.g. ${both[0]}`,
    );
  if (s.protocol !== 'speaker-disjoint') return;
  const spk = new Set([...train].map((id) => data.byId.get(id)!.speaker));
  const shared = [...new Set(s.test.map((id) => data.byId.get(id)!.speaker))].filter((x) => spk.has(x));
  if (shared.length)
    throw new EarmarkError(
      'EARMARK_DATASET',
      `protocol speaker-disjoint: speaker(s) ${shared.join(', ')} are in attacker training and test data`,
    );
}

/**
 * The speaker of each `test` utterance when no test speaker is a speaker of `train` (the speaker-disjoint
 * protocol; a corpus split by speakers), else undefined. Scores of such a test generalise over speakers,
 * so their intervals resample speakers (eval/metrics.ts clusterBootstrapCI); where the model heard every
 * test speaker (the closed set), new utterances of those speakers are the unit and utterances are resampled.
 * @example scoreClassification(pred, test.labels, k, seed, unseenTestSpeakers(data, [...split.train, ...split.val], test.set.ids))
 */
export function unseenTestSpeakers(
  data: ExperimentData,
  train: readonly string[],
  test: readonly string[],
): string[] | undefined {
  const speakerOf = (id: string): string => {
    const u = data.byId.get(id);
    if (u === undefined) throw new RangeError(`unseenTestSpeakers: utterance '${id}' is not in this corpus`);
    return u.speaker;
  };
  const heard = new Set(train.map(speakerOf));
  const speakers = test.map(speakerOf);
  return speakers.length > 0 && speakers.every((s) => !heard.has(s)) ? speakers : undefined;
}
