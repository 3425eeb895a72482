// The soundscape corpus's plan, decided before any audio is written: speakers per split (disjoint when
// there are enough), each class's recordings per split, and every clip's split, window, speech
// utterance and SNR, all from per-(class, split, clip) seeds.
import { EarmarkError } from '../../errors.js';
import type { EventSource } from './event-sources.js';
import { activeWindows, energy, window } from './mix.js';
import { seeded, shuffled } from './seeded.js';

export const SOUNDSCAPE_RATE = 44100;
export const CLIP = SOUNDSCAPE_RATE; // 1 s
export const SPLITS = [
  ['train', 0.6],
  ['val', 0.2],
  ['eval', 0.2],
] as const;
export type Split = (typeof SPLITS)[number][0];

/** What the plan reads of SoundscapesConfig. */
export interface PlanConfig {
  seed: number;
  clipsPerClass: number;
  snrDb: number;
  snrSpreadDb: number;
}

/** One stretch of a recording that belongs to one split. */
export interface Segment {
  source: number;
  from: number;
  to: number;
}

/** A speech-corpus utterance as labels.csv lists it. */
export interface SpeechUtterance {
  path: string;
  speaker: string;
  gender: 'female' | 'male';
}

/**
 * Speakers per split and gender, disjoint across splits when each gender has ≥ 3 speakers (half to
 * train, a quarter each to val and eval); with fewer, every split uses all of them.
 */
export function splitSpeakers(
  utterances: SpeechUtterance[],
  seed: number,
): Record<Split, Record<'female' | 'male', string[]>> {
  const out = {
    train: { female: [], male: [] },
    val: { female: [], male: [] },
    eval: { female: [], male: [] },
  } as Record<Split, Record<'female' | 'male', string[]>>;
  for (const g of ['female', 'male'] as const) {
    const ids = [...new Set(utterances.filter((u) => u.gender === g).map((u) => u.speaker))].sort();
    if (ids.length === 0)
      throw new EarmarkError('EARMARK_DATASET', `the speech corpus has no ${g} speaker; soundscapes need both genders`);
    if (ids.length < 3) {
      for (const [s] of SPLITS) out[s][g] = ids;
      continue;
    }
    const shuffled = seeded(seed, 'speakers', g).shuffle(ids);
    const nVal = Math.max(1, Math.round(ids.length / 4));
    const nEval = Math.max(1, Math.round(ids.length / 4));
    out.val[g] = shuffled.slice(0, nVal).sort();
    out.eval[g] = shuffled.slice(nVal, nVal + nEval).sort();
    out.train[g] = shuffled.slice(nVal + nEval).sort();
  }
  return out;
}

export interface PlannedClip {
  split: Split;
  event: string;
  classIndex: number;
  index: number;
  source: number;
  start: number;
  speech?: { utterance: SpeechUtterance; pick: number; snrDb: number };
}

/** Every clip's split, window and speech, decided up front from per-(class, split, clip) seeds. */
export function planClips(
  c: PlanConfig,
  classNames: string[],
  byClass: Map<string, EventSource[]>,
  sources: EventSource[],
  audio: Float32Array[],
  speakers: Record<Split, Record<'female' | 'male', string[]>>,
  utterances: SpeechUtterance[],
): PlannedClip[] {
  const plan: PlannedClip[] = [];
  // Genders alternate over each split's speech clips across classes, so every split is balanced
  // (exactly, when its speech count is even) and every (split, class) within one clip.
  const speechK: Record<Split, number> = { train: 0, val: 0, eval: 0 };
  const genderFlip = Object.fromEntries(SPLITS.map(([s]) => [s, seeded(c.seed, 'gender', s).int(2)])) as Record<
    Split,
    number
  >;
  classNames.forEach((name, classIndex) => {
    const segments = splitSegments(
      c.seed,
      name,
      byClass.get(name)!.map((s) => sources.indexOf(s)),
      audio,
    );
    let index = 0;
    for (const [split, frac] of SPLITS) {
      const count = 2 * Math.max(1, Math.round((c.clipsPerClass * frac) / 2));
      const segs = shuffled(seeded(c.seed, 'segments', name, split), segments[split]);
      const speechSlots = new Set(
        seeded(c.seed, 'speech-slots', name, split)
          .shuffle([...Array(count).keys()])
          .slice(0, count / 2),
      );
      for (let i = 0; i < count; i++) {
        const r = seeded(c.seed, 'clip', name, split, i);
        const seg = segs[i % segs.length]!;
        const x = audio[seg.source]!.subarray(seg.from, seg.to);
        let start: number;
        if (x.length <= CLIP)
          start = seg.from - r.int(CLIP - x.length + 1); // a short sound lands at a random offset
        else {
          const cands = activeWindows(x, 0, x.length, CLIP, 4410, 12);
          start = seg.from + cands[r.int(cands.length)]!;
        }
        if (!(energy(window(audio[seg.source]!, start, CLIP)) > 0)) {
          throw new EarmarkError(
            'EARMARK_DATASET',
            `event recording ${sources[seg.source]!.file} is silent at ${(start / CLIP).toFixed(2)} s; drop it from the class table`,
          );
        }
        const clip: PlannedClip = { split, event: name, classIndex, index: index++, source: seg.source, start };
        if (speechSlots.has(i)) {
          const gender = (speechK[split]++ + genderFlip[split]) % 2 === 0 ? 'female' : 'male';
          const pool = speakers[split][gender];
          const speaker = pool[r.int(pool.length)]!;
          const mine = utterances.filter((u) => u.speaker === speaker);
          clip.speech = {
            utterance: mine[r.int(mine.length)]!,
            pick: r.int(1 << 30),
            snrDb: Math.round((c.snrDb + r.uniform(-c.snrSpreadDb, c.snrSpreadDb)) * 100) / 100,
          };
        }
        plan.push(clip);
      }
    }
  });
  return plan;
}

/**
 * Assign a class's recordings to splits: whole recordings when there are ≥ 3 (20 % val, 20 % eval,
 * at least one each), otherwise consecutive 60/20/20 % stretches of every recording.
 */
function splitSegments(
  seed: number,
  name: string,
  sourceIds: number[],
  audio: Float32Array[],
): Record<Split, Segment[]> {
  const out: Record<Split, Segment[]> = { train: [], val: [], eval: [] };
  if (sourceIds.length >= 3) {
    const ids = seeded(seed, 'split', name).shuffle(sourceIds.slice());
    const nVal = Math.max(1, Math.round(ids.length * 0.2));
    const nEval = Math.max(1, Math.round(ids.length * 0.2));
    ids.forEach((s, k) => {
      const split: Split = k < nVal ? 'val' : k < nVal + nEval ? 'eval' : 'train';
      out[split].push({ source: s, from: 0, to: audio[s]!.length });
    });
  } else {
    for (const s of sourceIds) {
      let from = 0;
      let acc = 0;
      for (const [split, frac] of SPLITS) {
        acc += frac;
        const to = split === 'eval' ? audio[s]!.length : Math.round(acc * audio[s]!.length);
        out[split].push({ source: s, from, to });
        from = to;
      }
    }
  }
  for (const [split] of SPLITS) {
    out[split] = out[split].filter((g) => g.to > g.from);
    if (out[split].length === 0)
      throw new EarmarkError('EARMARK_DATASET', `event class '${name}' has no audio for the ${split} split`);
  }
  return out;
}
