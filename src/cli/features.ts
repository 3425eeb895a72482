// `earmark features`: load a corpus in its own layout, build (or re-use) its feature cache, make (or
// re-use) its seeded splits of the readable files, and print a summary: counts per label, durations,
// split sizes, skipped files. Files that cannot be opened or decoded are known before the splits are
// drawn, so with --skip-bad they are listed and in neither the counts nor splits.json.
import path from 'node:path';
import type { FeatureSpec } from '../data/cache-file.js';
import { LAYOUTS, loadCorpus, withoutSkipped } from '../data/load.js';
import { SPLIT_METHODS, loadOrCreateSplits } from '../data/splits.js';
import { corpusDurations, summarizeCorpus } from '../data/summary.js';
import type { Corpus } from '../data/types.js';
import { defineCommand, flagTable, usageError, type FlagValues } from './args.js';

const FLAGS = flagTable({
  layout: { type: 'string', choices: ['auto', ...LAYOUTS], description: 'corpus layout', default: 'auto' },
  root: { type: 'string', exists: 'dir', description: 'corpus top folder' },
  manifest: {
    type: 'string',
    exists: 'file',
    description: 'CSV manifest (path + label columns), or VoxCeleb2 vox2_meta.csv',
  },
  subsets: { type: 'list', description: 'comma-separated LibriSpeech subsets / VoxCeleb2 sets to keep' },
  out: {
    type: 'string',
    output: true,
    description: 'folder for splits.json and the cache (default .earmark-cache/<corpus>)',
  },
  splitMethod: { type: 'string', choices: SPLIT_METHODS, description: 'how to split (default per corpus)' },
  splitSeed: { type: 'int', min: 0, description: 'seed of the splits', default: 0 },
  feature: {
    type: 'string',
    description: 'ds2 (DeepSpeech2 spectrogram), none (summary only), or a name for --feature-module',
    default: 'ds2',
  },
  featureModule: {
    type: 'string',
    exists: 'file',
    description: 'compiled .js module exporting a compute(utterance, options) function',
  },
  featureExport: { type: 'string', description: 'export name in --feature-module', default: 'compute' },
  workers: {
    type: 'int',
    min: 0,
    max: 256,
    description: 'worker threads (0 = this thread; default: all cores, this thread under 64 files)',
  },
  skipBad: {
    type: 'boolean',
    description: 'leave out and list files that cannot be read or decoded, instead of stopping at the first',
  },
});

type Options = FlagValues<typeof FLAGS>;

/** The feature function: the DS2 spectrogram by default, or any module + export given on the command line. */
async function featureSpec(o: Options): Promise<FeatureSpec | undefined> {
  const feature = o.feature || 'ds2';
  if (o.featureModule !== undefined) {
    const module = path.resolve(o.featureModule);
    const { importCompute } = await import('../data/compute.js');
    try {
      await importCompute(module, o.featureExport);
    } catch (e) {
      throw usageError(`--feature-module ${o.featureModule}: ${(e as Error).message}`, e);
    }
    return {
      name: feature === 'ds2' ? path.basename(module).replace(/\.[cm]?js$/, '') : feature,
      module,
      exportName: o.featureExport,
    };
  }
  if (feature === 'none') return undefined;
  if (feature === 'ds2') return (await import('../data/features-ds2.js')).ds2FeatureSpec();
  throw usageError(
    `--feature '${feature}' is unknown; use ds2, none, or give --feature-module <file.js> [--feature-export <name>]`,
  );
}

export const features = defineCommand({
  name: 'features',
  summary:
    'Load a corpus (RAVDESS, EmoV-DB, LibriSpeech, VoxCeleb2 or a CSV manifest), build its feature cache and make its seeded splits of the readable files; prints counts per label, durations, split sizes and skipped files.',
  flags: FLAGS,
  async check(o, ctx) {
    if (o.root === undefined && o.manifest === undefined)
      throw usageError('give the corpus: --root <folder> (and --layout) or --manifest <file.csv>');
    const corpus = loadCorpus({
      layout: o.layout,
      skipBad: o.skipBad === true,
      ...(o.root === undefined ? {} : { root: o.root }),
      ...(o.manifest === undefined ? {} : { manifest: o.manifest }),
      ...(o.subsets === undefined ? {} : { subsets: o.subsets }),
    });
    const spec = await featureSpec(o);
    const out = path.resolve(o.out || path.join('.earmark-cache', corpus.name));
    ctx.output(out);
    return { corpus, spec, out };
  },
  async run(o, { checked: { corpus: listed, spec, out } }) {
    let corpus: Corpus = listed;
    let seconds: ((id: string) => number | undefined) | undefined;
    const tail: string[] = [];
    if (spec !== undefined) {
      const { buildFeatureCache } = await import('../data/cache.js');
      const res = await buildFeatureCache(listed, spec, {
        dir: path.join(out, 'features'),
        skipBad: o.skipBad === true,
        ...(o.workers === undefined ? {} : { workers: o.workers }),
      });
      const cache = res.cache;
      corpus = withoutSkipped(listed, res.skipped);
      const stats = new Map(cache.ids.map((id) => [id, cache.meta(id).stats?.seconds]));
      seconds = (id) => stats.get(id);
      const first = cache.ids[0];
      tail.push(
        `  features: ${res.file} (${res.built ? `built, ${res.computed} computed` : 're-used'}${first ? `; e.g. ${first} → [${cache.meta(first).shape.join(', ')}]` : ''})`,
      );
      cache.close();
    }
    const splits = loadOrCreateSplits(path.join(out, 'splits.json'), corpus, {
      seed: o.splitSeed,
      ...(o.splitMethod ? { method: o.splitMethod } : {}),
    });
    tail.unshift(`  splits: ${path.join(out, 'splits.json')} (${splits.created ? 'new' : 're-used'})`);
    console.log(summarizeCorpus(corpus, corpusDurations(corpus, seconds), splits) + '\n' + tail.join('\n'));
    return 0;
  },
});
