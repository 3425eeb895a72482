// `earmark corpus soundscapes`: 1-s sound-event clips at 44.1 kHz, half of each class mixed with
// speech, in the layout RDAL's training reads (specs/seed003-rdal.md §1; lndip/RDAL serialize_data.py):
//
//   <out>/<split>/<event>/no_speech/e03_s007_0012.wav              clean event clip
//   <out>/<split>/<event>/speech/e03_s007_0013_female_F04.wav     event + speech at the labelled SNR
//   <out>/events/<split>/<event>/e03_s007_0013.wav                the event part of that mixture
//   <out>/labels.csv  checksums.sha256  corpus.json
//
// splits train/val/eval. A mixture's stem is its event file's stem plus `_<gender>_<speaker>`, as in the
// RDAL data (the first three `_` fields name the event; `_female_`/`_male_` give the gender), and
// mixture = event file + speech up to 16-bit rounding (RDAL+M pre-trains its mask on that pair).
//
// Events are cut from Debian data packages (event-sources.ts), split by source recording so no
// recording is in two splits (a class with fewer than 3 recordings splits each recording in time
// instead); speech comes from the built-in speech corpus, with speakers disjoint across splits and the
// genders alternating so every split's speech clips are gender-balanced. Every clip, clean or
// mixed, ends with the same peak normalisation (−1 dBFS), so level does not reveal the speech label.
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { EarmarkError } from '../../errors.js';
import { repoRoot } from '../../util/paths.js';
import { Progress } from '../../util/progress.js';
import {
  EVENT_CLASSES,
  fetchDebPackage,
  findEventSources,
  type EventSource,
  type UnpackedPackage,
} from './event-sources.js';
import {
  buildAtomically,
  encodeWav16,
  parseCsv,
  readStoredConfig,
  sha256File,
  toCsv,
  writeChecksums,
} from './files.js';
import { activeWindows, mixAtSnr, peakGain, scaled, window } from './mix.js';
import { CLIP, planClips, SOUNDSCAPE_RATE, splitSpeakers, SPLITS, type SpeechUtterance } from './soundscapes-plan.js';
import { buildSpeechCorpus, defaultSpeechOut } from './speech.js';
import { mapLimit, runTool, TOOL_DEFAULTS, toolVersion, type ToolCommands } from './tools.js';

export { SOUNDSCAPE_RATE, SPLITS, type Split } from './soundscapes-plan.js';

/** Every written clip peaks here (−1 dBFS). */
const PEAK = 10 ** (-1 / 20);

export interface SoundscapesConfig {
  /** Seeds every choice (splits, windows, speakers, SNRs); also the speech corpus's seed when it is built here. */
  seed: number;
  /** Clips per event class over all splits (60 % train, 20 % val, 20 % eval; half of each with speech). */
  clipsPerClass: number;
  /** Speech-to-event SNR in dB (energy over the 1-s clip). */
  snrDb: number;
  /** Each mixture's SNR is drawn uniformly from snrDb ± snrSpreadDb. */
  snrSpreadDb: number;
  /** Only these classes (names from EVENT_CLASSES); null for all 12. */
  classes: string[] | null;
  /** The speech corpus folder; null for data/builtin/speech-0-<seed>, built when missing. */
  speechCorpus: string | null;
  /** Output folder; null for data/builtin/soundscapes-<seed> under the repository. */
  out: string | null;
  /** Where .debs are downloaded and unpacked; null for .earmark-cache/ under the repository. */
  cache: string | null;
  /** Use already-unpacked packages at <sourceRoot>/<package>/ instead of downloading (offline builds, tests). */
  sourceRoot: string | null;
  concurrency: number;
  force: boolean;
  progress: boolean;
  tools: Partial<ToolCommands>;
}

export const SOUNDSCAPES_DEFAULTS: SoundscapesConfig = {
  seed: 0,
  clipsPerClass: 60,
  snrDb: 0,
  snrSpreadDb: 5,
  classes: null,
  speechCorpus: null,
  out: null,
  cache: null,
  sourceRoot: null,
  concurrency: 2,
  force: false,
  progress: false,
  tools: {},
};

/** Fill defaults and validate; unknown keys and bad values are refused with their name. */
export function resolveSoundscapesConfig(partial: Partial<SoundscapesConfig> = {}): SoundscapesConfig {
  for (const k of Object.keys(partial)) {
    if (!(k in SOUNDSCAPES_DEFAULTS))
      throw new EarmarkError(
        'EARMARK_CONFIG',
        `unknown soundscapes option '${k}'; known: ${Object.keys(SOUNDSCAPES_DEFAULTS).join(', ')}`,
      );
  }
  const c: SoundscapesConfig = { ...SOUNDSCAPES_DEFAULTS, ...partial };
  if (!Number.isInteger(c.seed) || c.seed < 0)
    throw new RangeError(`seed must be a non-negative integer, got ${c.seed}`);
  if (!Number.isInteger(c.clipsPerClass) || c.clipsPerClass < 10)
    throw new RangeError(
      `clipsPerClass must be an integer ≥ 10 (2 per split and speech label), got ${c.clipsPerClass}`,
    );
  if (!Number.isFinite(c.snrDb)) throw new RangeError(`snrDb must be a finite number of dB, got ${c.snrDb}`);
  if (!Number.isFinite(c.snrSpreadDb) || c.snrSpreadDb < 0)
    throw new RangeError(`snrSpreadDb must be ≥ 0 dB, got ${c.snrSpreadDb}`);
  if (c.classes !== null) {
    const unknown = c.classes.filter((n) => !EVENT_CLASSES.some((e) => e.name === n));
    if (unknown.length)
      throw new RangeError(
        `classes: unknown event class(es) ${unknown.join(', ')}; known: ${EVENT_CLASSES.map((e) => e.name).join(', ')}`,
      );
  }
  if (!Number.isInteger(c.concurrency) || c.concurrency < 1)
    throw new RangeError(`concurrency must be a positive integer, got ${c.concurrency}`);
  return c;
}

/** Where the corpus goes when no `out` is given. */
export function defaultSoundscapesOut(seed: number): string {
  return path.join(repoRoot(), 'data', 'builtin', `soundscapes-${seed}`);
}

/** What decides the corpus's content (stored in corpus.json, compared on reuse); `speech` is the sha256 of the speech corpus's checksums. */
function contentConfig(c: SoundscapesConfig, speech: string): Record<string, unknown> {
  return {
    seed: c.seed,
    clipsPerClass: c.clipsPerClass,
    snrDb: c.snrDb,
    snrSpreadDb: c.snrSpreadDb,
    classes: c.classes,
    speechCorpusChecksums: speech,
    sources: c.sourceRoot === null ? 'debian' : path.resolve(c.sourceRoot),
  };
}

export interface SoundscapesResult {
  out: string;
  clips: number;
  classes: number;
  seconds: number;
  reused: boolean;
}

/**
 * Build (or reuse) the built-in sound-event corpus.
 * @example const { out } = await buildSoundscapes({ seed: 0, snrDb: 5, progress: true });
 */
export async function buildSoundscapes(partial: Partial<SoundscapesConfig> = {}): Promise<SoundscapesResult> {
  const c = resolveSoundscapesConfig(partial);
  const tools: ToolCommands = { ...TOOL_DEFAULTS, ...c.tools };
  const out = path.resolve(c.out ?? defaultSoundscapesOut(c.seed));
  const t0 = Date.now();

  // The speech corpus (built here when the default one is missing).
  const speechDir = path.resolve(c.speechCorpus ?? defaultSpeechOut(0, c.seed));
  if (!existsSync(path.join(speechDir, 'labels.csv'))) {
    if (c.speechCorpus !== null)
      throw new EarmarkError(
        'EARMARK_DATASET',
        `speechCorpus: no labels.csv in ${speechDir}; build one with \`earmark corpus speech --out ${speechDir}\``,
      );
    await buildSpeechCorpus({
      seed: c.seed,
      difficulty: 0,
      out: speechDir,
      concurrency: c.concurrency,
      progress: c.progress,
      tools: c.tools,
    });
  }
  const speechChecksum = await sha256File(path.join(speechDir, 'checksums.sha256'));
  const stored = contentConfig(c, speechChecksum);
  if (!c.force && isDeepStrictEqual(readStoredConfig(out), stored)) {
    const { counts } = JSON.parse(await readFile(path.join(out, 'corpus.json'), 'utf8')) as {
      counts: { clips: number; classes: number };
    };
    return { out, clips: counts.clips, classes: counts.classes, seconds: 0, reused: true };
  }
  const utterances: SpeechUtterance[] = parseCsv(
    await readFile(path.join(speechDir, 'labels.csv'), 'utf8'),
    path.join(speechDir, 'labels.csv'),
  ).map((r) => ({ path: r['path']!, speaker: r['speaker']!, gender: r['gender'] as SpeechUtterance['gender'] }));
  const speakersBySplit = splitSpeakers(utterances, c.seed);

  // Event recordings: packages fetched and unpacked once into the cache, then decoded to 44.1 kHz mono.
  const classes = EVENT_CLASSES.filter((e) => c.classes === null || c.classes.includes(e.name));
  const packages = new Map<string, UnpackedPackage>();
  for (const pkg of new Set(classes.map((e) => e.package))) {
    packages.set(
      pkg,
      c.sourceRoot !== null
        ? { package: pkg, version: 'local', debSha256: '', root: path.resolve(c.sourceRoot, pkg) }
        : await fetchDebPackage(pkg, path.resolve(c.cache ?? path.join(repoRoot(), '.earmark-cache')), tools),
    );
  }
  const byClass = await findEventSources(classes, new Map([...packages].map(([k, v]) => [k, v.root])));
  const sources: EventSource[] = [...byClass.values()].flat();
  const soxVersion = await toolVersion('sox', tools.sox);
  const audio = await mapLimit(sources, c.concurrency, (s) => decode(tools, s.abs, true));

  // Plan every clip: its split, class, window, speech label, speaker and SNR (all seeded per clip).
  const plan = planClips(
    c,
    classes.map((e) => e.name),
    byClass,
    sources,
    audio,
    speakersBySplit,
    utterances,
  );

  return buildAtomically(out, async (partialOut) => {
    for (const [split] of SPLITS)
      for (const e of classes) {
        for (const sp of ['speech', 'no_speech'])
          await mkdir(path.join(partialOut, split, e.name, sp), { recursive: true });
        await mkdir(path.join(partialOut, 'events', split, e.name), { recursive: true });
      }
    const bar = c.progress ? new Progress({ total: plan.length, label: 'soundscapes' }) : undefined;
    const rows = await mapLimit(plan, c.concurrency, async (p) => {
      const event = window(audio[p.source]!, p.start, CLIP);
      let row: (string | number)[];
      const stem = `e${String(p.classIndex).padStart(2, '0')}_s${String(p.source).padStart(3, '0')}_${String(p.index).padStart(4, '0')}`;
      const src = sources[p.source]!;
      if (p.speech === undefined) {
        const rel = `${p.split}/${p.event}/no_speech/${stem}.wav`;
        await writeFile(path.join(partialOut, rel), encodeWav16(scaled(event, peakGain(event, PEAK)), SOUNDSCAPE_RATE));
        row = [
          rel,
          p.split,
          p.event,
          p.classIndex,
          'no_speech',
          '',
          '',
          '',
          `${src.package}:${src.file}`,
          fmtS(p.start),
          '',
          '',
          '',
        ];
      } else {
        const u = p.speech.utterance;
        const voice = await decode(tools, path.join(speechDir, u.path), false);
        const starts = activeWindows(voice, 0, voice.length, CLIP, 2205, 3);
        const start = starts.length ? starts[p.speech.pick % starts.length]! : -Math.floor((CLIP - voice.length) / 2);
        const speech = window(voice, start, CLIP);
        const { mix } = mixAtSnr(event, speech, p.speech.snrDb);
        // one gain for the mixture and its event file, so mixture = event + speech holds in the files
        const g = Math.min(peakGain(mix, PEAK), peakGain(event, PEAK));
        const rel = `${p.split}/${p.event}/speech/${stem}_${u.gender}_${u.speaker}.wav`;
        const eventRel = `events/${p.split}/${p.event}/${stem}.wav`;
        await writeFile(path.join(partialOut, rel), encodeWav16(scaled(mix, g), SOUNDSCAPE_RATE));
        await writeFile(path.join(partialOut, eventRel), encodeWav16(scaled(event, g), SOUNDSCAPE_RATE));
        row = [
          rel,
          p.split,
          p.event,
          p.classIndex,
          'speech',
          u.gender,
          u.speaker,
          p.speech.snrDb.toFixed(2),
          `${src.package}:${src.file}`,
          fmtS(p.start),
          u.path,
          fmtS(start),
          eventRel,
        ];
      }
      bar?.tick();
      return row;
    });
    bar?.done();

    await writeFile(
      path.join(partialOut, 'labels.csv'),
      toCsv(
        [
          'path',
          'split',
          'event',
          'event_index',
          'speech',
          'gender',
          'speaker',
          'snr_db',
          'source',
          'source_start_s',
          'speech_source',
          'speech_start_s',
          'event_path',
        ],
        rows,
      ),
    );
    await writeChecksums(partialOut);
    const counts: Record<
      string,
      Record<string, { speech: number; no_speech: number; female: number; male: number }>
    > = {};
    for (const p of plan) {
      const k = ((counts[p.split] ??= {})[p.event] ??= { speech: 0, no_speech: 0, female: 0, male: 0 });
      if (p.speech === undefined) k.no_speech++;
      else {
        k.speech++;
        k[p.speech.utterance.gender]++;
      }
    }
    const manifest = {
      name: 'earmark-builtin-soundscapes',
      formatVersion: 1,
      config: stored,
      seed: c.seed,
      sampleRate: SOUNDSCAPE_RATE,
      clipSeconds: 1,
      layout:
        '<split>/<event>/{speech,no_speech}/<stem>.wav; events/<split>/<event>/<stem>.wav = event part of each mixture; 16-bit mono WAV',
      labels: { speech: ['no_speech', 'speech'], gender: ['female', 'male'], event: classes.map((e) => e.name) },
      engines: { sox: soxVersion },
      packages: [...packages.values()].map(({ root: _root, ...p }) => p),
      speechCorpus: { checksumsSha256: speechChecksum, speakers: speakersBySplit },
      sources: sources.map((s, i) => ({
        index: i,
        class: s.class,
        package: s.package,
        file: s.file,
        sha256: s.sha256,
      })),
      counts: { clips: plan.length, classes: classes.length, perSplit: counts },
    };
    await writeFile(path.join(partialOut, 'corpus.json'), JSON.stringify(manifest, null, 2) + '\n');
    return { out, clips: plan.length, classes: classes.length, seconds: (Date.now() - t0) / 1000, reused: false };
  });
}

function fmtS(samples: number): string {
  return (samples / SOUNDSCAPE_RATE).toFixed(4);
}

/** Decode any file sox reads to 44.1 kHz mono float32; event recordings also lose leading/trailing silence. */
async function decode(tools: ToolCommands, file: string, trim: boolean): Promise<Float32Array> {
  const fx = trim ? ['silence', '1', '0.01', '-50d', 'reverse', 'silence', '1', '0.01', '-50d', 'reverse'] : [];
  const { stdout } = await runTool('sox', tools.sox, [
    '-V1',
    file,
    '-t',
    'f32',
    '-r',
    String(SOUNDSCAPE_RATE),
    '-c',
    '1',
    '-',
    ...fx,
  ]);
  const copy = new Uint8Array(stdout.length);
  copy.set(stdout);
  return new Float32Array(copy.buffer, 0, Math.floor(copy.length / 4));
}
