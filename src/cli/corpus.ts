// `earmark corpus speech|soundscapes|probe`: build the built-in corpora from Debian packages, or probe a
// built speech corpus with a linear classifier. Each subcommand's flags map onto its library config.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { EVENT_CLASSES } from '../data/builtin/event-sources.js';
import { SENTENCES } from '../data/builtin/sentences.js';
import {
  buildSoundscapes,
  resolveSoundscapesConfig,
  SOUNDSCAPES_DEFAULTS,
  type SoundscapesConfig,
} from '../data/builtin/soundscapes.js';
import {
  buildSpeechCorpus,
  EMOTION_NAMES,
  resolveSpeechConfig,
  SPEECH_DEFAULTS,
  type SpeechCorpusConfig,
} from '../data/builtin/speech.js';
import { MAX_DIFFICULTY } from '../data/builtin/voices.js';
import { defineCommand, flagTable, usageError } from './args.js';
import { configFlags, configOverrides } from './config-flags.js';

/** Flags of both builders (the keys both configs share). */
const BUILD_FLAGS = flagTable({
  seed: { type: 'int', min: 0, description: 'seed for every random choice (default: 0)', config: 'seed' },
  out: {
    type: 'string',
    output: true,
    config: 'out',
    description: 'output folder (default data/builtin/speech-<difficulty>-<seed> or soundscapes-<seed>)',
  },
  jobs: { type: 'int', min: 1, max: 64, description: 'engine processes at once (default: 2)', config: 'concurrency' },
  force: {
    type: 'boolean',
    description: 'rebuild even if the output folder already holds this corpus',
    config: 'force',
  },
  quiet: { type: 'boolean', description: 'no progress bar', default: false },
});

const SPEECH_FLAGS = configFlags<SpeechCorpusConfig>()({
  ...BUILD_FLAGS,
  difficulty: {
    type: 'int',
    min: 0,
    max: MAX_DIFFICULTY,
    config: 'difficulty',
    description: `0 = 16 base voices, 1 = +8 seeded twins, 2 = +16 (default ${SPEECH_DEFAULTS.difficulty})`,
  },
  sentences: {
    type: 'int',
    min: 1,
    max: SENTENCES.length,
    config: 'sentences',
    description: `sentences per speaker and emotion (default ${SPEECH_DEFAULTS.sentences})`,
  },
  speakers: { type: 'list', description: 'comma-separated speaker ids (default all)', config: 'speakers' },
  emotions: {
    type: 'list',
    choices: EMOTION_NAMES,
    description: 'comma-separated emotions (default all five)',
    config: 'emotions',
  },
});

const SOUNDSCAPES_FLAGS = configFlags<SoundscapesConfig>()({
  ...BUILD_FLAGS,
  clipsPerClass: {
    type: 'int',
    min: 10,
    config: 'clipsPerClass',
    description: `clips per event class over all splits (default ${SOUNDSCAPES_DEFAULTS.clipsPerClass})`,
  },
  snr: {
    type: 'number',
    min: -40,
    max: 40,
    description: `speech-to-event SNR in dB (default ${SOUNDSCAPES_DEFAULTS.snrDb})`,
    config: 'snrDb',
  },
  snrSpread: {
    type: 'number',
    min: 0,
    max: 40,
    config: 'snrSpreadDb',
    description: `SNR drawn uniformly from snr ± this (default ${SOUNDSCAPES_DEFAULTS.snrSpreadDb})`,
  },
  classes: {
    type: 'list',
    choices: EVENT_CLASSES.map((e) => e.name),
    description: 'comma-separated event classes (default all 12)',
    config: 'classes',
  },
  speechCorpus: {
    type: 'string',
    exists: 'dir',
    config: 'speechCorpus',
    description: 'speech corpus folder (default data/builtin/speech-0-<seed>, built if missing)',
  },
  cache: {
    type: 'string',
    output: true,
    description: 'folder for downloaded and unpacked .debs (default .earmark-cache)',
    config: 'cache',
  },
  sourceRoot: {
    type: 'string',
    exists: 'dir',
    description: 'use already-unpacked packages at <dir>/<package>/ (offline)',
    config: 'sourceRoot',
  },
});

/** A library's refusal of a config value (a RangeError naming the option) is a usage error. */
function resolved<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof RangeError || e instanceof TypeError) throw usageError(e.message, e);
    throw e;
  }
}

const speech = defineCommand({
  name: 'speech',
  summary: 'Build the built-in speech corpus: 16+ TTS voices × 5 emotions, 16 kHz, with no download.',
  flags: SPEECH_FLAGS,
  check(o) {
    return resolved(() => resolveSpeechConfig({ ...configOverrides(SPEECH_FLAGS, o), progress: !o.quiet }));
  },
  async run(_o, { checked }) {
    const r = await buildSpeechCorpus(checked);
    console.log(
      r.reused
        ? `speech corpus already built at ${r.out} (${r.clips} clips, ${r.speakers} speakers); --force rebuilds it`
        : `speech corpus: ${r.clips} clips, ${r.speakers} speakers in ${r.seconds.toFixed(1)} s → ${r.out}`,
    );
    return 0;
  },
});

const soundscapes = defineCommand({
  name: 'soundscapes',
  summary: 'Build the built-in soundscapes: 1-s events at 44.1 kHz from Debian data packages, half mixed with speech.',
  flags: SOUNDSCAPES_FLAGS,
  check(o) {
    const c = resolved(() =>
      resolveSoundscapesConfig({ ...configOverrides(SOUNDSCAPES_FLAGS, o), progress: !o.quiet }),
    );
    if (c.speechCorpus !== null && !existsSync(path.join(c.speechCorpus, 'labels.csv'))) {
      throw usageError(
        `--speech-corpus ${c.speechCorpus} holds no labels.csv; build one with \`earmark corpus speech --out ${c.speechCorpus}\``,
      );
    }
    return c;
  },
  async run(_o, { checked }) {
    const r = await buildSoundscapes(checked);
    console.log(
      r.reused
        ? `soundscapes already built at ${r.out} (${r.clips} clips, ${r.classes} classes); --force rebuilds it`
        : `soundscapes: ${r.clips} clips in ${r.classes} classes in ${r.seconds.toFixed(1)} s → ${r.out}`,
    );
    return 0;
  },
});

const probe = defineCommand({
  name: 'probe',
  args: [
    {
      name: 'dir',
      required: true,
      exists: 'dir',
      description: 'the speech corpus folder (the one holding labels.csv and corpus.json)',
    },
  ],
  summary: 'Report linear-classifier accuracies on a built speech corpus (the folder holding labels.csv).',
  flags: { seed: { type: 'int', min: 0, description: 'seed for every random choice', default: 0 } },
  check(_o, { args: [dir] }) {
    for (const f of ['labels.csv', 'corpus.json']) {
      if (!existsSync(path.join(dir!, f)))
        throw usageError(
          `<dir> ${dir} holds no ${f}: it is not a built speech corpus; build one with \`earmark corpus speech\``,
        );
    }
    return dir!;
  },
  async run(o, { checked: dir }) {
    // loaded here so that building corpora does not need the native addon
    const { probeSpeechCorpus } = await import('../data/builtin/probe.js');
    console.log(JSON.stringify(await probeSpeechCorpus(dir, o.seed), null, 2));
    return 0;
  },
});

export const corpus = defineCommand({
  name: 'corpus',
  summary:
    'Build a built-in corpus with no download: `speech` (16+ TTS voices × 5 emotions, 16 kHz) or `soundscapes` (1-s events at 44.1 kHz from Debian data packages, half mixed with speech); `probe <dir>` reports linear-classifier accuracies on a speech corpus.',
  usage: '<speech|soundscapes|probe> [dir]',
  args: [
    {
      name: 'subcommand',
      required: true,
      choices: ['speech', 'soundscapes', 'probe'],
      description: 'what to build or probe',
    },
  ],
  flags: {},
  subcommands: [speech, soundscapes, probe],
  async run() {
    throw new Error('unreachable: `earmark corpus` always names a subcommand (findCommand dispatches it)');
  },
});
