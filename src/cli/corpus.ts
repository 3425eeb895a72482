// `earmark corpus speech|soundscapes|probe`: build the built-in corpora from Debian packages, or probe a
// built speech corpus with a linear classifier. Each subcommand's flags map onto its library config.
import { buildSoundscapes, type SoundscapesConfig } from '../data/builtin/soundscapes.js';
import { buildSpeechCorpus, EMOTION_NAMES, SPEECH_DEFAULTS, type SpeechCorpusConfig } from '../data/builtin/speech.js';
import { SOUNDSCAPES_DEFAULTS } from '../data/builtin/soundscapes.js';
import { EarmarkError } from '../errors.js';
import { defineCommand, flagTable } from './args.js';
import { configFlags, configOverrides } from './config-flags.js';

/** Flags of both builders (the keys both configs share). */
const BUILD_FLAGS = flagTable({
  seed: { type: 'int', description: 'seed for every random choice (default: 0)', config: 'seed' },
  out: { type: 'string', description: 'output folder (default data/builtin/speech-<difficulty>-<seed> or soundscapes-<seed>)', config: 'out' },
  jobs: { type: 'int', description: 'engine processes at once (default: 2)', config: 'concurrency' },
  force: { type: 'boolean', description: 'rebuild even if the output folder already holds this corpus', config: 'force' },
  quiet: { type: 'boolean', description: 'no progress bar', default: false },
});

const SPEECH_FLAGS = configFlags<SpeechCorpusConfig>()({
  ...BUILD_FLAGS,
  difficulty: { type: 'int', description: `0 = 16 base voices, 1 = +8 seeded twins, 2 = +16 (default ${SPEECH_DEFAULTS.difficulty})`, config: 'difficulty' },
  sentences: { type: 'int', description: `sentences per speaker and emotion, ≤ 32 (default ${SPEECH_DEFAULTS.sentences})`, config: 'sentences' },
  speakers: { type: 'list', description: 'comma-separated speaker ids (default all)', config: 'speakers' },
  emotions: { type: 'list', choices: EMOTION_NAMES, description: 'comma-separated emotions (default all five)', config: 'emotions' },
});

const SOUNDSCAPES_FLAGS = configFlags<SoundscapesConfig>()({
  ...BUILD_FLAGS,
  clipsPerClass: { type: 'int', description: `clips per event class over all splits (default ${SOUNDSCAPES_DEFAULTS.clipsPerClass})`, config: 'clipsPerClass' },
  snr: { type: 'number', description: `speech-to-event SNR in dB (default ${SOUNDSCAPES_DEFAULTS.snrDb})`, config: 'snrDb' },
  snrSpread: { type: 'number', description: `SNR drawn uniformly from snr ± this (default ${SOUNDSCAPES_DEFAULTS.snrSpreadDb})`, config: 'snrSpreadDb' },
  classes: { type: 'list', description: 'comma-separated event classes (default all 12)', config: 'classes' },
  speechCorpus: { type: 'string', description: 'speech corpus folder (default data/builtin/speech-0-<seed>, built if missing)', config: 'speechCorpus' },
  cache: { type: 'string', description: 'folder for downloaded and unpacked .debs (default .earmark-cache)', config: 'cache' },
  sourceRoot: { type: 'string', description: 'use already-unpacked packages at <dir>/<package>/ (offline)', config: 'sourceRoot' },
});

/** The library refuses bad values with a RangeError naming the option; on the command line that is a bad flag. */
async function asBadArgument<T>(f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    if (e instanceof RangeError) throw new EarmarkError('EARMARK_BAD_ARGUMENT', e.message, { cause: e });
    throw e;
  }
}

const speech = defineCommand({
  name: 'speech',
  summary: 'Build the built-in speech corpus: 16+ TTS voices × 5 emotions, 16 kHz, with no download.',
  flags: SPEECH_FLAGS,
  async run(o) {
    const r = await asBadArgument(() => buildSpeechCorpus({ ...configOverrides(SPEECH_FLAGS, o), progress: !o.quiet }));
    console.log(r.reused ? `speech corpus already built at ${r.out} (${r.clips} clips, ${r.speakers} speakers); --force rebuilds it`
      : `speech corpus: ${r.clips} clips, ${r.speakers} speakers in ${r.seconds.toFixed(1)} s → ${r.out}`);
    return 0;
  },
});

const soundscapes = defineCommand({
  name: 'soundscapes',
  summary: 'Build the built-in soundscapes: 1-s events at 44.1 kHz from Debian data packages, half mixed with speech.',
  flags: SOUNDSCAPES_FLAGS,
  async run(o) {
    const r = await asBadArgument(() => buildSoundscapes({ ...configOverrides(SOUNDSCAPES_FLAGS, o), progress: !o.quiet }));
    console.log(r.reused ? `soundscapes already built at ${r.out} (${r.clips} clips, ${r.classes} classes); --force rebuilds it`
      : `soundscapes: ${r.clips} clips in ${r.classes} classes in ${r.seconds.toFixed(1)} s → ${r.out}`);
    return 0;
  },
});

const probe = defineCommand({
  name: 'probe',
  usage: '<dir>',
  summary: 'Report linear-classifier accuracies on a built speech corpus (the folder holding labels.csv).',
  flags: { seed: { type: 'int', description: 'seed for every random choice', default: 0 } },
  async run(o, positionals) {
    const dir = positionals[0];
    if (dir === undefined) throw new EarmarkError('EARMARK_BAD_ARGUMENT', '`earmark corpus probe <dir>` needs the speech corpus folder (the one holding labels.csv)');
    // loaded here so that building corpora does not need the native addon
    const { probeSpeechCorpus } = await import('../data/builtin/probe.js');
    console.log(JSON.stringify(await probeSpeechCorpus(dir, o.seed), null, 2));
    return 0;
  },
});

export const corpus = defineCommand({
  name: 'corpus',
  summary: 'Build a built-in corpus with no download: `speech` (16+ TTS voices × 5 emotions, 16 kHz) or `soundscapes` (1-s events at 44.1 kHz from Debian data packages, half mixed with speech); `probe <dir>` reports linear-classifier accuracies on a speech corpus.',
  usage: '<speech|soundscapes|probe> [dir]',
  flags: {},
  subcommands: [speech, soundscapes, probe],
  async run(_o, positionals) {
    const sub = positionals[0];
    throw new EarmarkError('EARMARK_BAD_ARGUMENT', `\`earmark corpus\` needs a subcommand: speech, soundscapes or probe (got ${sub === undefined ? 'none' : `'${sub}'`})`);
  },
});
