// The speakers of the built-in speech corpus. Sixteen base voices (8 female, 8 male) from four Debian
// engines, after the tier-A table of specs/data-sources.md §6 (the two GnuSpeech voices, which need
// an npm package we do not ship, are replaced by two more espeak-ng variants). Higher difficulties
// add seeded "twins": near-identical copies of a base voice (espeak-ng variant files with jittered
// formants and pitch, or hts_engine warps with jittered pitch shift and all-pass constant), so that
// speaker ID is no longer trivial while gender stays known.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { EarmarkError } from '../../errors.js';
import { seeded, type Rng } from './seeded.js';

export type Gender = 'female' | 'male';

export type VoiceSpec =
  /** `espeak-ng -v <language>+<variant>`; twins carry the text of their generated variant file. */
  | { engine: 'espeak-ng'; language: string; variant: string; variantFile?: string }
  /** `flite -voice <voice>` */
  | { engine: 'flite'; voice: string }
  /** festival `(voice_<voice>)` */
  | { engine: 'festival'; voice: string }
  /** the CMU SLT HTS voice through the `hts_engine` CLI: `-fm <fm>` semitones, `-a <alpha>` all-pass */
  | { engine: 'hts_engine'; fm: number; alpha: number };

export interface SpeakerSpec {
  id: string;
  gender: Gender;
  voice: VoiceSpec;
  /** For twins: the base speaker they were jittered from. */
  parent?: string;
}

const es = (language: string, variant: string): VoiceSpec => ({ engine: 'espeak-ng', language, variant });

/** The 16 base speakers (difficulty 0). */
export const BASE_SPEAKERS: readonly SpeakerSpec[] = [
  { id: 'F01', gender: 'female', voice: es('en-us', 'f2') },
  { id: 'F02', gender: 'female', voice: es('en', 'f4') }, // 'en-gb+<variant>' ignores the variant in espeak-ng 1.51
  { id: 'F03', gender: 'female', voice: es('en-us', 'Annie') },
  { id: 'F04', gender: 'female', voice: es('en-029', 'belinda') },
  { id: 'F05', gender: 'female', voice: { engine: 'flite', voice: 'slt' } },
  { id: 'F06', gender: 'female', voice: { engine: 'hts_engine', fm: 2, alpha: 0.4 } },
  { id: 'F07', gender: 'female', voice: es('en-gb-x-rp', 'steph') },
  { id: 'F08', gender: 'female', voice: es('en-us', 'Alicia') },
  { id: 'M01', gender: 'male', voice: es('en-us', 'm1') },
  { id: 'M02', gender: 'male', voice: es('en-gb-scotland', 'm3') },
  { id: 'M03', gender: 'male', voice: { engine: 'flite', voice: 'kal16' } },
  { id: 'M04', gender: 'male', voice: { engine: 'flite', voice: 'rms' } },
  { id: 'M05', gender: 'male', voice: { engine: 'flite', voice: 'awb' } },
  { id: 'M06', gender: 'male', voice: { engine: 'festival', voice: 'ked_diphone' } },
  { id: 'M07', gender: 'male', voice: { engine: 'hts_engine', fm: -9, alpha: 0.56 } },
  { id: 'M08', gender: 'male', voice: es('en-us-nyc', 'm5') },
];

/** Base speakers that get twins at difficulty ≥ 1 (4 per gender, so the added speakers stay balanced). */
const TWIN_PARENTS = ['F01', 'F03', 'F06', 'F08', 'M01', 'M02', 'M07', 'M08'] as const;

/**
 * Relative jitter per difficulty level: level 1 twins follow the research note's ±4 % formant grid
 * (94 % speaker ID with LDA on 12 such speakers); level 2 adds a second, closer twin per parent.
 */
const TWIN_JITTER = [
  undefined,
  { formant: 0.04, pitch: 0.07, range: 0.2, fm: 1.0, alpha: 0.02 },
  { formant: 0.025, pitch: 0.04, range: 0.12, fm: 0.6, alpha: 0.012 },
] as const;

export const MAX_DIFFICULTY = TWIN_JITTER.length - 1;

/**
 * The speakers of a corpus at `difficulty` (0: 16 base voices; each level adds 8 twins, 4 per gender).
 * `readVariant` returns the text of a stock espeak-ng variant file (the twins' starting point).
 * @example const speakers = await speakersFor(1, 42, readEspeakVariant(dataDir)); // 24 speakers
 */
export async function speakersFor(
  difficulty: number,
  seed: number,
  readVariant: (name: string) => Promise<string>,
): Promise<SpeakerSpec[]> {
  if (!Number.isInteger(difficulty) || difficulty < 0 || difficulty > MAX_DIFFICULTY) {
    throw new RangeError(`difficulty must be an integer in 0..${MAX_DIFFICULTY}, got ${difficulty}`);
  }
  const speakers: SpeakerSpec[] = BASE_SPEAKERS.map((s) => ({ ...s }));
  for (let level = 1; level <= difficulty; level++) {
    const jitter = TWIN_JITTER[level]!;
    const counters: Record<Gender, number> = { female: 8 + 4 * (level - 1), male: 8 + 4 * (level - 1) };
    for (const parentId of TWIN_PARENTS) {
      const parent = BASE_SPEAKERS.find((s) => s.id === parentId)!;
      const id = `${parent.gender === 'female' ? 'F' : 'M'}${String(++counters[parent.gender]).padStart(2, '0')}`;
      const rng = seeded(seed, 'twin', level, parentId);
      let voice: VoiceSpec;
      if (parent.voice.engine === 'espeak-ng') {
        const stock = await readVariant(parent.voice.variant);
        voice = {
          ...parent.voice,
          variant: `earmark_${id}`,
          variantFile: jitterVariant(stock, `earmark_${id}`, rng, jitter),
        };
      } else if (parent.voice.engine === 'hts_engine') {
        voice = {
          engine: 'hts_engine',
          fm: round3(parent.voice.fm + rng.uniform(-jitter.fm, jitter.fm)),
          alpha: round3(parent.voice.alpha + rng.uniform(-jitter.alpha, jitter.alpha)),
        };
      } else {
        throw new Error(`twin parent ${parentId} uses ${parent.voice.engine}, which has no jitterable voice`);
      }
      speakers.push({ id, gender: parent.gender, voice, parent: parentId });
    }
  }
  return speakers;
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}

/**
 * A near-identical espeak-ng variant file: every formant frequency scaled by 1 ± `formant`, the base
 * pitch by 1 ± `pitch` and the pitch range by 1 ± `range` (uniform, seeded); other lines kept.
 */
export function jitterVariant(
  stock: string,
  name: string,
  rng: Rng,
  jitter: { formant: number; pitch: number; range: number },
): string {
  const lines = stock.split('\n').filter((l) => !/^\s*name\s/.test(l));
  const seen = new Set<number>();
  let hasPitch = false;
  const out = lines.map((line) => {
    const f = /^(\s*formant\s+)(\d+)(\s+)(\d+)(.*)$/.exec(line);
    if (f) {
      seen.add(Number(f[2]));
      const freq = Math.round(Number(f[4]) * (1 + rng.uniform(-jitter.formant, jitter.formant)));
      return `${f[1]}${f[2]}${f[3]}${freq}${f[5]}`;
    }
    const p = /^\s*pitch\s+(\d+)\s+(\d+)/.exec(line);
    if (p) {
      hasPitch = true;
      return pitchLine(Number(p[1]), Number(p[2]), rng, jitter);
    }
    return line;
  });
  if (!hasPitch) out.push(pitchLine(82, 118, rng, jitter)); // espeak-ng's defaults
  for (let k = 0; k <= 8; k++) {
    if (!seen.has(k))
      out.push(`formant ${k} ${Math.round(100 * (1 + rng.uniform(-jitter.formant, jitter.formant)))} 100 100`);
  }
  return [`name ${name}`, ...out].join('\n') + '\n';
}

function pitchLine(base: number, top: number, rng: Rng, jitter: { pitch: number; range: number }): string {
  const b = Math.round(base * (1 + rng.uniform(-jitter.pitch, jitter.pitch)));
  const t = Math.round(b + (top - base) * (1 + rng.uniform(-jitter.range, jitter.range)));
  return `pitch ${b} ${Math.max(t, b)}`;
}

/** Reads stock variant files from an espeak-ng data folder (`<data>/voices/!v/<name>`). */
export function readEspeakVariant(dataDir: string): (name: string) => Promise<string> {
  return async (name) => {
    const file = path.join(dataDir, 'voices', '!v', name);
    try {
      return await readFile(file, 'utf8');
    } catch (e) {
      throw new EarmarkError(
        'EARMARK_IO',
        `espeak-ng variant '${name}' not found at ${file}; is espeak-ng-data complete? (apt-get install espeak-ng-data)`,
        { cause: e },
      );
    }
  };
}
