// `earmark corpus speech`: a labelled speech corpus built from Debian's TTS engines, with no download.
//
//   1. synthesise every (speaker, sentence) once in the speaker's own engine (espeak-ng, flite,
//      festival, or hts_engine on labels that festival dumps), at the engine's native rate;
//   2. render the five emotions by prosody from that one neutral take: Praat "Change gender" (pitch
//      median, pitch range, duration; seeded per clip) then one sox chain (highpass, lowpass, treble,
//      tremolo, peak level, 16 kHz). Every class, neutral included, goes through exactly the same two
//      steps with different numbers, so resynthesis artefacts do not give the class away;
//   3. write the generic CSV manifest: `labels.csv` (path,speaker,gender,emotion,sentence),
//      `checksums.sha256` (sha256sum format) and `corpus.json` (config, seed, speakers, engine versions).
//
// Recipe and measurements: specs/data-sources.md §2 and §6. Deterministic for a seed: every random
// choice (sentence subset, twin voices, per-clip prosody jitter, Praat's PSOLA noise) is seeded.
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { EarmarkError } from '../../errors.js';
import { repoRoot } from '../../util/paths.js';
import { Progress } from '../../util/progress.js';
import { buildAtomically, readStoredConfig, toCsv, writeChecksums } from './files.js';
import { seeded, shuffled } from './seeded.js';
import { SENTENCES } from './sentences.js';
import {
  CLIP_JITTER,
  clipJitter,
  dumpHtsLabels,
  espeakDataDir,
  festivalBatch,
  PRAAT_SCRIPT,
  privateEspeakData,
} from './speech-engines.js';
import { mapLimit, runTool, TOOL_DEFAULTS, toolVersion, type ToolCommands } from './tools.js';
import { MAX_DIFFICULTY, readEspeakVariant, speakersFor, type SpeakerSpec } from './voices.js';

export type Emotion = 'neutral' | 'happy' | 'sad' | 'angry' | 'fearful';

/**
 * Prosody per emotion (specs/data-sources.md §6): Praat factors on the pitch median, pitch range and
 * duration, then the sox chain's lowpass (Hz), treble (dB), tremolo (Hz, depth %) and peak level (dBFS).
 */
export const EMOTIONS: Readonly<
  Record<
    Emotion,
    {
      pitch: number;
      range: number;
      duration: number;
      lowpass: number;
      treble: number;
      tremolo: [number, number];
      level: number;
    }
  >
> = {
  neutral: { pitch: 1.0, range: 1.0, duration: 1.0, lowpass: 7000, treble: 0, tremolo: [5, 2], level: -8 },
  happy: { pitch: 1.25, range: 1.6, duration: 0.92, lowpass: 7000, treble: 2, tremolo: [5, 2], level: -5 },
  sad: { pitch: 0.88, range: 0.5, duration: 1.25, lowpass: 3500, treble: 0, tremolo: [5, 2], level: -13 },
  angry: { pitch: 1.12, range: 1.5, duration: 0.88, lowpass: 7000, treble: 6, tremolo: [5, 2], level: -3 },
  fearful: { pitch: 1.35, range: 0.9, duration: 0.8, lowpass: 7000, treble: 0, tremolo: [6, 40], level: -9 },
};
export const EMOTION_NAMES = Object.keys(EMOTIONS) as Emotion[];

export const SAMPLE_RATE = 16000;

export interface SpeechCorpusConfig {
  /** Seeds every random choice; the same seed and config give byte-identical WAVs. */
  seed: number;
  /** 0: 16 base voices; 1: + 8 seeded near-identical twins (24 speakers); 2: + 8 closer twins (32). */
  difficulty: number;
  /** Sentences per speaker and emotion (a seeded subset of the 32 in sentences.ts). */
  sentences: number;
  /** Emotions to render (default all five). */
  emotions: Emotion[];
  /** Only these speaker ids (e.g. ['F01', 'M01'] for a quick build); null for all. */
  speakers: string[] | null;
  /** Output folder; null for data/builtin/speech-<difficulty>-<seed> under the repository. */
  out: string | null;
  /** Engine processes run at once. */
  concurrency: number;
  /** Rebuild even when `out` already holds this corpus. */
  force: boolean;
  /** Progress bar on stderr. */
  progress: boolean;
  /** Override tool command names (tests use this to simulate a missing engine). */
  tools: Partial<ToolCommands>;
  /** The CMU SLT HTS voice file (Debian festvox-us-slt-hts). */
  htsVoice: string;
}

export const SPEECH_DEFAULTS: SpeechCorpusConfig = {
  seed: 0,
  difficulty: 0,
  sentences: 12,
  emotions: EMOTION_NAMES,
  speakers: null,
  out: null,
  concurrency: 2,
  force: false,
  progress: false,
  tools: {},
  htsVoice: '/usr/share/festival/voices/us/cmu_us_slt_arctic_hts/hts/cmu_us_slt_arctic_hts.htsvoice',
};

/** Fill defaults and validate; unknown keys and bad values are refused with their name. */
export function resolveSpeechConfig(partial: Partial<SpeechCorpusConfig> = {}): SpeechCorpusConfig {
  for (const k of Object.keys(partial)) {
    if (!(k in SPEECH_DEFAULTS))
      throw new EarmarkError(
        'EARMARK_CONFIG',
        `unknown speech corpus option '${k}'; known: ${Object.keys(SPEECH_DEFAULTS).join(', ')}`,
      );
  }
  const c: SpeechCorpusConfig = { ...SPEECH_DEFAULTS, ...partial };
  if (!Number.isInteger(c.seed) || c.seed < 0)
    throw new RangeError(`seed must be a non-negative integer, got ${c.seed}`);
  if (!Number.isInteger(c.difficulty) || c.difficulty < 0 || c.difficulty > MAX_DIFFICULTY) {
    throw new RangeError(`difficulty must be an integer in 0..${MAX_DIFFICULTY}, got ${c.difficulty}`);
  }
  if (!Number.isInteger(c.sentences) || c.sentences < 1 || c.sentences > SENTENCES.length) {
    throw new RangeError(`sentences must be an integer in 1..${SENTENCES.length}, got ${c.sentences}`);
  }
  for (const e of c.emotions)
    if (!(e in EMOTIONS)) throw new RangeError(`emotions: unknown emotion '${e}'; known: ${EMOTION_NAMES.join(', ')}`);
  if (!Number.isInteger(c.concurrency) || c.concurrency < 1)
    throw new RangeError(`concurrency must be a positive integer, got ${c.concurrency}`);
  return c;
}

/** Where a corpus goes when no `out` is given. */
export function defaultSpeechOut(difficulty: number, seed: number): string {
  return path.join(repoRoot(), 'data', 'builtin', `speech-${difficulty}-${seed}`);
}

/** The part of the config that decides the corpus's content (stored in corpus.json, compared on reuse). */
function contentConfig(c: SpeechCorpusConfig): Record<string, unknown> {
  return { seed: c.seed, difficulty: c.difficulty, sentences: c.sentences, emotions: c.emotions, speakers: c.speakers };
}

export interface SpeechCorpusResult {
  out: string;
  clips: number;
  speakers: number;
  /** Wall-clock seconds of this build (0 when an existing corpus was reused). */
  seconds: number;
  reused: boolean;
}

interface Clip {
  speaker: SpeakerSpec;
  emotion: Emotion;
  sentence: string;
  rel: string;
}

/**
 * Build (or reuse) the built-in speech corpus.
 * @example
 * const { out } = await buildSpeechCorpus({ seed: 1, difficulty: 1, progress: true });
 * // out/labels.csv: wav/F01/F01_happy_s07.wav,F01,female,happy,s07 …
 */
export async function buildSpeechCorpus(partial: Partial<SpeechCorpusConfig> = {}): Promise<SpeechCorpusResult> {
  const c = resolveSpeechConfig(partial);
  const tools: ToolCommands = { ...TOOL_DEFAULTS, ...c.tools };
  const out = path.resolve(c.out ?? defaultSpeechOut(c.difficulty, c.seed));
  const t0 = Date.now();

  if (!c.force && isDeepStrictEqual(readStoredConfig(out), contentConfig(c))) {
    const { counts } = JSON.parse(await readFile(path.join(out, 'corpus.json'), 'utf8')) as {
      counts: { clips: number; speakers: number };
    };
    return { out, clips: counts.clips, speakers: counts.speakers, seconds: 0, reused: true };
  }

  // The speakers (twins start from the stock espeak-ng variant files) and the sentence subset.
  let espeakData: string | undefined;
  const dataDir = async (): Promise<string> => (espeakData ??= await espeakDataDir(tools.espeakNg));
  let speakers = await speakersFor(c.difficulty, c.seed, async (name) => readEspeakVariant(await dataDir())(name));
  if (c.speakers !== null) {
    const unknown = c.speakers.filter((id) => !speakers.some((s) => s.id === id));
    if (unknown.length)
      throw new RangeError(
        `speakers: unknown id(s) ${unknown.join(', ')} at difficulty ${c.difficulty}; known: ${speakers.map((s) => s.id).join(', ')}`,
      );
    speakers = speakers.filter((s) => c.speakers!.includes(s.id));
  }
  const sentences = shuffled(seeded(c.seed, 'sentences'), SENTENCES)
    .slice(0, c.sentences)
    .sort((a, b) => a.id.localeCompare(b.id));
  const engines = new Set(speakers.map((s) => s.voice.engine));
  if (engines.has('hts_engine') && !existsSync(c.htsVoice)) {
    throw new EarmarkError(
      'EARMARK_IO',
      `hts_engine: the SLT voice file ${c.htsVoice} is missing; install it with \`apt-get install -y --no-install-recommends festvox-us-slt-hts\``,
    );
  }

  // Engine versions go into corpus.json; probing them first also fails fast on a missing engine.
  const versions: Record<string, string> = {};
  const probe: (keyof ToolCommands)[] = ['praat', 'sox'];
  if (engines.has('espeak-ng')) probe.push('espeakNg');
  if (engines.has('flite')) probe.push('flite');
  if (engines.has('festival') || engines.has('hts_engine')) probe.push('festival');
  if (engines.has('hts_engine')) probe.push('htsEngine');
  for (const t of probe) versions[TOOL_DEFAULTS[t]] = await toolVersion(t, tools[t]);

  return buildAtomically(out, async (partialOut) => {
    const work = path.join(partialOut, '.work');
    for (const s of speakers) {
      await mkdir(path.join(work, 'base', s.id), { recursive: true });
      await mkdir(path.join(work, 'emo', s.id), { recursive: true });
      await mkdir(path.join(partialOut, 'wav', s.id), { recursive: true });
    }

    // A private espeak-ng data folder: links to the stock data plus the twins' variant files.
    const espeakPath = path.join(work, 'espeak');
    if (engines.has('espeak-ng')) await privateEspeakData(await dataDir(), espeakPath, speakers);

    const clipsTotal = speakers.length * sentences.length * c.emotions.length;
    const bar = c.progress
      ? new Progress({ total: speakers.length * sentences.length + 2 * clipsTotal, label: 'speech corpus' })
      : undefined;

    // 1. Neutral base takes at the engine's native rate.
    const base = (s: SpeakerSpec, id: string): string => path.join(work, 'base', s.id, `${id}.wav`);
    if (engines.has('hts_engine')) await dumpHtsLabels(tools, work, sentences);
    const tasks: (() => Promise<void>)[] = [];
    for (const s of speakers) {
      const v = s.voice;
      if (v.engine === 'festival') {
        tasks.push(async () => {
          await festivalBatch(
            tools,
            work,
            v.voice,
            sentences.map((t) => ({ text: t.text, wav: base(s, t.id) })),
          );
          bar?.tick(sentences.length);
        });
        continue;
      }
      for (const t of sentences) {
        tasks.push(async () => {
          if (v.engine === 'espeak-ng') {
            await runTool('espeakNg', tools.espeakNg, [
              `--path=${espeakPath}`,
              '-v',
              `${v.language}+${v.variant}`,
              '-w',
              base(s, t.id),
              t.text,
            ]);
          } else if (v.engine === 'flite') {
            await runTool('flite', tools.flite, ['-voice', v.voice, '-t', t.text, '-o', base(s, t.id)]);
          } else {
            await runTool('htsEngine', tools.htsEngine, [
              '-m',
              c.htsVoice,
              '-fm',
              String(v.fm),
              '-a',
              String(v.alpha),
              '-ow',
              base(s, t.id),
              path.join(work, 'hts', `${t.id}.lab`),
            ]);
          }
          bar?.tick();
        });
      }
    }
    await mapLimit(tasks, c.concurrency, (f) => f());

    // 2a. Praat: pitch median / range / duration per clip, one Praat process per speaker.
    const clips: Clip[] = [];
    for (const s of speakers)
      for (const e of c.emotions)
        for (const t of sentences) {
          clips.push({ speaker: s, emotion: e, sentence: t.id, rel: `wav/${s.id}/${s.id}_${e}_${t.id}.wav` });
        }
    const jitter = new Map(clips.map((k) => [k, clipJitter(c.seed, k)]));
    const praatScript = path.join(work, 'emotion.praat');
    await writeFile(praatScript, PRAAT_SCRIPT);
    const emo = (k: Clip): string => path.join(work, 'emo', k.speaker.id, path.basename(k.rel));
    await mapLimit(speakers, c.concurrency, async (s) => {
      const mine = clips.filter((k) => k.speaker === s);
      const rows = mine.map((k) => {
        const j = jitter.get(k)!;
        const p = EMOTIONS[k.emotion];
        return [
          base(s, k.sentence),
          emo(k),
          j.praatSeed,
          fmt(p.pitch * j.pitch),
          fmt(p.range * j.range),
          fmt(p.duration * j.duration),
        ].join('\t');
      });
      const jobs = path.join(work, `praat-${s.id}.tsv`);
      await writeFile(jobs, ['infile\toutfile\tseed\tpitch\trange\tduration', ...rows].join('\n') + '\n');
      await runTool('praat', tools.praat, ['--run', praatScript, jobs]);
      bar?.tick(mine.length);
    });

    // 2b. sox: the same effect chain for every class, to 16 kHz mono 16-bit without dither.
    await mapLimit(clips, c.concurrency, async (k) => {
      const p = EMOTIONS[k.emotion];
      const level = p.level + jitter.get(k)!.levelDb;
      await runTool('sox', tools.sox, [
        '-V1',
        '-D',
        '-R',
        emo(k),
        '-r',
        String(SAMPLE_RATE),
        '-c',
        '1',
        '-b',
        '16',
        path.join(partialOut, k.rel),
        'highpass',
        '70',
        'lowpass',
        String(p.lowpass),
        'treble',
        String(p.treble),
        'tremolo',
        String(p.tremolo[0]),
        String(p.tremolo[1]),
        'gain',
        '-n',
        fmt(level),
      ]);
      bar?.tick();
    });
    bar?.done();

    // 3. Manifest files; then move the finished corpus into place.
    await rm(work, { recursive: true, force: true });
    await writeFile(
      path.join(partialOut, 'labels.csv'),
      toCsv(
        ['path', 'speaker', 'gender', 'emotion', 'sentence'],
        clips.map((k) => [k.rel, k.speaker.id, k.speaker.gender, k.emotion, k.sentence]),
      ),
    );
    await writeChecksums(partialOut);
    const manifest = {
      name: 'earmark-builtin-speech',
      formatVersion: 1,
      config: contentConfig(c),
      seed: c.seed,
      sampleRate: SAMPLE_RATE,
      layout: 'generic CSV manifest: labels.csv (path relative to this folder), 16 kHz mono 16-bit WAV',
      engines: versions,
      speakers,
      emotions: Object.fromEntries(c.emotions.map((e) => [e, EMOTIONS[e]])),
      clipJitter: CLIP_JITTER,
      sentences: Object.fromEntries(sentences.map((t) => [t.id, t.text])),
      counts: {
        clips: clips.length,
        speakers: speakers.length,
        emotions: c.emotions.length,
        sentences: sentences.length,
      },
    };
    await writeFile(path.join(partialOut, 'corpus.json'), JSON.stringify(manifest, null, 2) + '\n');
    return { out, clips: clips.length, speakers: speakers.length, seconds: (Date.now() - t0) / 1000, reused: false };
  });
}

function fmt(x: number): string {
  return x.toFixed(4);
}
