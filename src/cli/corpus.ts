// `earmark corpus <speech|soundscapes|probe>`: build the built-in corpora from Debian packages, or
// probe a built speech corpus with a linear classifier. Flags map onto the library configs.
import { EarmarkError } from '../errors.js';
import type { Command } from './args.js';
import { buildSoundscapes, SOUNDSCAPES_DEFAULTS, type SoundscapesConfig } from '../data/builtin/soundscapes.js';
import { buildSpeechCorpus, SPEECH_DEFAULTS, type Emotion, type SpeechCorpusConfig } from '../data/builtin/speech.js';

type Flags = Record<string, string | number | boolean | undefined>;

const SPEECH_ONLY = ['difficulty', 'sentences', 'speakers', 'emotions'];
const SOUNDSCAPES_ONLY = ['clips-per-class', 'snr', 'snr-spread', 'classes', 'speech-corpus', 'cache', 'source-root'];

function list(v: string | number | boolean | undefined): string[] | undefined {
  return typeof v === 'string' ? v.split(',').map((s) => s.trim()).filter(Boolean) : undefined;
}

function refuse(flags: Flags, names: string[], sub: string): void {
  const given = names.filter((n) => flags[n] !== undefined);
  if (given.length) {
    const other = sub === 'speech' ? 'soundscapes' : 'speech';
    throw new EarmarkError('EARMARK_BAD_ARGUMENT', `${given.map((n) => `--${n}`).join(', ')}: only for \`earmark corpus ${other}\`, not \`${sub}\`; see \`earmark corpus --help\``);
  }
}

/** Drop undefined values so library defaults apply. */
function defined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

export const corpus: Command = {
  name: 'corpus',
  summary: 'Build a built-in corpus with no download: `speech` (16+ TTS voices × 5 emotions, 16 kHz) or `soundscapes` (1-s events at 44.1 kHz from Debian data packages, half mixed with speech); `probe <dir>` reports linear-classifier accuracies on a speech corpus.',
  usage: '<speech|soundscapes|probe> [dir]',
  flags: {
    seed: { type: 'int', description: 'seed for every random choice', default: 0 },
    out: { type: 'string', description: 'output folder (default data/builtin/speech-<difficulty>-<seed> or soundscapes-<seed>)' },
    jobs: { type: 'int', description: 'engine processes at once', default: 2 },
    force: { type: 'boolean', description: 'rebuild even if the output folder already holds this corpus', default: false },
    quiet: { type: 'boolean', description: 'no progress bar', default: false },
    difficulty: { type: 'int', description: `speech: 0 = 16 base voices, 1 = +8 seeded twins, 2 = +16 (default ${SPEECH_DEFAULTS.difficulty})` },
    sentences: { type: 'int', description: `speech: sentences per speaker and emotion, ≤ 32 (default ${SPEECH_DEFAULTS.sentences})` },
    speakers: { type: 'string', description: 'speech: comma-separated speaker ids (default all)' },
    emotions: { type: 'string', description: 'speech: comma-separated emotions (default neutral,happy,sad,angry,fearful)' },
    'clips-per-class': { type: 'int', description: `soundscapes: clips per event class over all splits (default ${SOUNDSCAPES_DEFAULTS.clipsPerClass})` },
    snr: { type: 'number', description: `soundscapes: speech-to-event SNR in dB (default ${SOUNDSCAPES_DEFAULTS.snrDb})` },
    'snr-spread': { type: 'number', description: `soundscapes: SNR drawn uniformly from snr ± this (default ${SOUNDSCAPES_DEFAULTS.snrSpreadDb})` },
    classes: { type: 'string', description: 'soundscapes: comma-separated event classes (default all 12)' },
    'speech-corpus': { type: 'string', description: 'soundscapes: speech corpus folder (default data/builtin/speech-0-<seed>, built if missing)' },
    cache: { type: 'string', description: 'soundscapes: folder for downloaded and unpacked .debs (default .earmark-cache)' },
    'source-root': { type: 'string', description: 'soundscapes: use already-unpacked packages at <dir>/<package>/ (offline)' },
  },
  async run(flags, positionals) {
    try {
      return await runCorpus(flags, positionals);
    } catch (e) {
      // the library refuses bad values with RangeError naming the option; on the command line that is a bad flag
      if (e instanceof RangeError) throw new EarmarkError('EARMARK_BAD_ARGUMENT', e.message, { cause: e });
      throw e;
    }
  },
};

async function runCorpus(flags: Flags, positionals: string[]): Promise<number> {
  const [sub, dir] = positionals;
  const progress = flags['quiet'] !== true;
  const common = { seed: flags['seed'] as number, out: (flags['out'] as string | undefined) ?? null, concurrency: flags['jobs'] as number, force: flags['force'] === true, progress };
  if (sub === 'speech') {
    refuse(flags, SOUNDSCAPES_ONLY, sub);
    const config: Partial<SpeechCorpusConfig> = defined({
      ...common,
      difficulty: flags['difficulty'] as number | undefined,
      sentences: flags['sentences'] as number | undefined,
      speakers: list(flags['speakers']),
      emotions: list(flags['emotions']) as Emotion[] | undefined,
    });
    const r = await buildSpeechCorpus(config);
    console.log(r.reused ? `speech corpus already built at ${r.out} (${r.clips} clips, ${r.speakers} speakers); --force rebuilds it`
      : `speech corpus: ${r.clips} clips, ${r.speakers} speakers in ${r.seconds.toFixed(1)} s → ${r.out}`);
    return 0;
  }
  if (sub === 'soundscapes') {
    refuse(flags, SPEECH_ONLY, sub);
    const config: Partial<SoundscapesConfig> = defined({
      ...common,
      clipsPerClass: flags['clips-per-class'] as number | undefined,
      snrDb: flags['snr'] as number | undefined,
      snrSpreadDb: flags['snr-spread'] as number | undefined,
      classes: list(flags['classes']),
      speechCorpus: flags['speech-corpus'] as string | undefined,
      cache: flags['cache'] as string | undefined,
      sourceRoot: flags['source-root'] as string | undefined,
    });
    const r = await buildSoundscapes(config);
    console.log(r.reused ? `soundscapes already built at ${r.out} (${r.clips} clips, ${r.classes} classes); --force rebuilds it`
      : `soundscapes: ${r.clips} clips in ${r.classes} classes in ${r.seconds.toFixed(1)} s → ${r.out}`);
    return 0;
  }
  if (sub === 'probe') {
    if (dir === undefined) throw new EarmarkError('EARMARK_BAD_ARGUMENT', '`earmark corpus probe <dir>` needs the speech corpus folder (the one holding labels.csv)');
    // loaded here so that building corpora does not need the native addon
    const { probeSpeechCorpus } = await import('../data/builtin/probe.js');
    const r = await probeSpeechCorpus(dir, flags['seed'] as number);
    console.log(JSON.stringify(r, null, 2));
    return 0;
  }
  throw new EarmarkError('EARMARK_BAD_ARGUMENT', `\`earmark corpus\` needs a subcommand: speech, soundscapes or probe (got ${sub === undefined ? 'none' : `'${sub}'`})`);
}
