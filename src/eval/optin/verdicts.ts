// Verdicts from the 95% intervals (issue 11), and the words the numbers need:
//  - "near chance" holds only if the attacker's whole interval lies within chance ± 5 points; it fails
//    when the interval lies above chance (the attacker recovers the attribute) or entirely more than 5
//    points below it; otherwise it is inconclusive (the interval is too wide to tell);
//  - "below clean" holds only if the attacker's and the clean classifier's intervals do not overlap;
//  - "better than a baseline" holds only if the two attackers' intervals do not overlap;
//  - T keeps its accuracy on a format if its interval's lower end is within 6 points of its clean accuracy.
// Where the test speakers are unseen (speaker-disjoint), the intervals resample speakers (metrics.ts), so
// the verdicts there rest on the number of test voices, not of utterances; older reports, whose scores
// carry no `speakers`, are judged by their utterance intervals as before.
// Chance is the larger of 1/K and the test labels' majority-class rate. Every informed attacker (each
// format, each protocol) and every inversion attacker gets a verdict against chance. A closed-set result of
// an attribute the granted task determines (gender under closed-set speaker ID) is shown but not judged.
import type { ClassScores, Interval } from '../metrics.js';
import type { OutputFormat } from './config.js';
import type { AttackResult, ExperimentReport, Verdict } from './schema.js';

/** Half-width of the "near chance" band, in accuracy. */
export const CHANCE_BAND = 0.05;
/** The most T may lose on a shipped format (the lower end of its interval against its clean accuracy). */
export const TARGET_DROP = 0.06;

const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;
const iv = (s: ClassScores): string => `${pct(s.accuracy)} [${pct(s.accuracyCI.lo)}, ${pct(s.accuracyCI.hi)}]`;

/** How many test utterances (and, where the intervals resample them, speakers) a score rests on. */
export const sizeOf = (s: ClassScores): string =>
  s.speakers === undefined ? `n = ${s.n}` : `n = ${s.n} utterances of ${s.speakers} speakers`;

/** Chance accuracy of a score's test labels: max(1/K, majority-class rate). */
export const chanceOf = (s: ClassScores): number => Math.max(s.chanceUniform, s.chanceMajority);

/** Whether an attacker is near chance, from its interval. */
export function nearChance(s: ClassScores): { status: Verdict['status']; detail: string } {
  const c = chanceOf(s);
  const { lo, hi }: Interval = s.accuracyCI;
  const band = `chance ${pct(c)} ± ${Math.round(100 * CHANCE_BAND)} = [${pct(c - CHANCE_BAND)}, ${pct(c + CHANCE_BAND)}]`;
  if (lo >= c - CHANCE_BAND - 1e-12 && hi <= c + CHANCE_BAND + 1e-12)
    return { status: 'holds', detail: `${iv(s)} lies within ${band}` };
  if (lo > c)
    return { status: 'fails', detail: `${iv(s)} lies above chance ${pct(c)}: the attacker recovers the attribute` };
  if (hi < c - CHANCE_BAND)
    return {
      status: 'fails',
      detail: `${iv(s)} lies more than ${Math.round(100 * CHANCE_BAND)} points below chance ${pct(c)} (systematically wrong predictions still carry the attribute)`,
    };
  return {
    status: 'inconclusive',
    detail: `${iv(s)} is not within ${band} (${sizeOf(s)}: too few test ${s.speakers === undefined ? 'utterances' : 'voices'} to show it)`,
  };
}

/** Whether an attacker stays below the clean classifier, from the two intervals. */
export function belowClean(s: ClassScores, clean: ClassScores): { status: Verdict['status']; detail: string } {
  const d = `${iv(s)} vs clean ${iv(clean)}`;
  if (s.accuracyCI.hi < clean.accuracyCI.lo) return { status: 'holds', detail: `${d}: the intervals do not overlap` };
  if (s.accuracy >= clean.accuracy)
    return { status: 'fails', detail: `${d}: the attacker does as well as the clean classifier` };
  return { status: 'inconclusive', detail: `${d}: the intervals overlap` };
}

const verdict = (
  claim: string,
  r: { status: Verdict['status']; detail: string },
  extra: Partial<Verdict> = {},
): Verdict => ({ claim, holds: r.status === 'holds', status: r.status, detail: r.detail, judged: true, ...extra });

/** Is this result judged (not the closed-set result of an attribute the granted task determines)? */
export const isJudged = (a: AttackResult): boolean => !(a.functionOfTask && a.protocol === 'closed-set');

/** Every attacker of one result on one format, by name, with its scores. */
export function attackersOf(a: AttackResult, f: OutputFormat): [string, ClassScores][] {
  const fa = a.formats[f];
  if (fa === undefined) return [];
  return [
    ['ignorant', fa.ignorant],
    ...(fa.informed ? [['informed', fa.informed] as [string, ClassScores]] : []),
    ...(fa.taskOutput ? [['task-output', fa.taskOutput] as [string, ClassScores]] : []),
    ...Object.entries(fa.inversion).map(([n, s]) => [`inversion (${n})`, s] as [string, ClassScores]),
  ];
}

/** The verdicts of a (possibly partial) report. */
export function verdicts(r: ExperimentReport): Verdict[] {
  const out: Verdict[] = [];
  const t = r.target;
  const primary = r.protocols?.primary;
  for (const a of r.attacks ?? []) {
    if (a.protocol !== primary) continue;
    // the headline: every attacker of every format near chance on the primary protocol
    const checks = r.config.attack.formats.flatMap((f) =>
      attackersOf(a, f).map(([n, s]) => ({ name: `${n}, ${f}`, ...nearChance(s) })),
    );
    if (checks.length === 0) continue;
    const failed = checks.filter((x) => x.status === 'fails');
    const open = checks.filter((x) => x.status === 'inconclusive');
    const status: Verdict['status'] = failed.length ? 'fails' : open.length ? 'inconclusive' : 'holds';
    const detail =
      status === 'holds'
        ? `all ${checks.length} attackers lie within chance ± 5 points`
        : (failed.length ? failed : open).map((x) => `${x.name}: ${x.detail}`).join('; ');
    out.push(
      verdict(
        `${a.attribute} is private in what ships (${a.protocol}: every attacker on every format near chance)`,
        { status, detail },
        { attribute: a.attribute, protocol: a.protocol, judged: isJudged(a) },
      ),
    );
  }
  for (const f of r.config.attack.formats) {
    const s = t?.formats[f];
    if (t === undefined || s === undefined) continue;
    const ok = s.accuracyCI.lo >= t.clean.accuracy - TARGET_DROP;
    out.push(
      verdict(
        `T keeps its accuracy on ${f} (the interval's lower end within ${Math.round(100 * TARGET_DROP)} points of clean)`,
        {
          status: ok ? 'holds' : s.accuracyCI.hi < t.clean.accuracy - TARGET_DROP ? 'fails' : 'inconclusive',
          detail: `${iv(s)} vs clean ${iv(t.clean)}`,
        },
        { format: f },
      ),
    );
  }
  for (const a of r.attacks ?? []) {
    const where = { attribute: a.attribute, protocol: a.protocol, judged: isJudged(a) };
    for (const f of r.config.attack.formats) {
      for (const [name, s] of attackersOf(a, f)) {
        out.push(
          verdict(`the ${name} ${a.attribute} attacker on ${f} (${a.protocol}) is near chance`, nearChance(s), {
            ...where,
            format: f,
          }),
        );
        if (name !== 'ignorant')
          out.push(
            verdict(
              `the ${name} ${a.attribute} attacker on ${f} (${a.protocol}) stays below the clean classifier`,
              belowClean(s, a.clean),
              { ...where, format: f },
            ),
          );
      }
      const mc = r.baselines?.mcadams?.[a.protocol]?.attacks.find((x) => x.attribute === a.attribute);
      const inf = a.formats[f]?.informed;
      if (mc && inf) {
        const better = inf.accuracyCI.hi < mc.informed.accuracyCI.lo;
        out.push(
          verdict(
            `the obfuscator's ${f} protects ${a.attribute} better than McAdams against informed attackers (${a.protocol})`,
            {
              status: better ? 'holds' : inf.accuracy >= mc.informed.accuracy ? 'fails' : 'inconclusive',
              detail: `obfuscator ${iv(inf)}, McAdams ${iv(mc.informed)}`,
            },
            { ...where, format: f },
          ),
        );
      }
      const adr = r.baselines?.adr?.attacks.find((x) => x.attribute === a.attribute);
      if (adr && inf && a.protocol === 'closed-set') {
        const better = inf.accuracyCI.hi < adr.informed.accuracyCI.lo;
        out.push(
          verdict(
            `the obfuscator's ${f} protects ${a.attribute} better than ADR (told to hide ${r.baselines!.adr!.hidden}) against informed attackers`,
            {
              status: better ? 'holds' : inf.accuracy >= adr.informed.accuracy ? 'fails' : 'inconclusive',
              detail: `obfuscator ${iv(inf)}, ADR on x-vectors ${iv(adr.informed)}`,
            },
            { ...where, format: f },
          ),
        );
      }
    }
  }
  return out;
}

/** The words the numbers need: attributes the granted task determines, and how each is judged. */
export function protocolNotes(r: ExperimentReport): string[] {
  const notes: string[] = [];
  const task = r.target?.task ?? 'task';
  const seen = new Set<string>();
  for (const a of r.attacks ?? []) {
    if (!(a.functionOfTask && a.protocol === 'closed-set') || seen.has(a.attribute)) continue;
    seen.add(a.attribute);
    const sd = (r.attacks ?? []).some((x) => x.attribute === a.attribute && x.protocol === 'speaker-disjoint');
    notes.push(
      `On the closed set, ${a.attribute} is a function of the granted ${task} (every ${task} class has one ${a.attribute}): an app granted ${task} ` +
        `knows ${a.attribute} whatever the obfuscator does, so the closed-set ${a.attribute} attackers measure the grant, not a leak; they are shown, not judged. ` +
        (sd
          ? `${a.attribute} is judged on the speaker-disjoint protocol (attackers never hear a test speaker).`
          : `The speaker-disjoint protocol is not available here (${r.protocols?.unavailable['speaker-disjoint'] ?? 'not configured'}), so ${a.attribute} cannot be judged on this corpus.`),
    );
  }
  notes.push(
    `Chance is max(1/K, the test labels' majority-class rate); "near chance" needs the whole 95% interval within chance ± ${Math.round(100 * CHANCE_BAND)} points, ` +
      '"below clean" needs non-overlapping intervals. The in-training (co-trained deobfuscator) row is optimistic: the obfuscator was trained to fool that network; ' +
      'the fresh inversion attackers were not.',
  );
  return notes;
}
