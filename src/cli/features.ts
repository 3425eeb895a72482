// `earmark features`: load a corpus in its own layout, make (or re-use) its seeded splits, build (or
// re-use) its feature cache, and print a summary: counts per label, durations, split sizes, skipped files.
import path from 'node:path';
import { EarmarkError } from '../errors.js';
import { buildFeatureCache, type FeatureSpec } from '../data/cache.js';
import { ds2FeatureSpec } from '../data/features-ds2.js';
import { LAYOUTS, loadCorpus } from '../data/load.js';
import { loadOrCreateSplits, SPLIT_METHODS } from '../data/splits.js';
import { corpusDurations, summarizeCorpus } from '../data/summary.js';
import { defineCommand, flagTable, type FlagValues } from './args.js';

const FLAGS = flagTable({
  layout: { type: 'string', choices: ['auto', ...LAYOUTS], description: 'corpus layout', default: 'auto' },
  root: { type: 'string', description: 'corpus top folder' },
  manifest: { type: 'string', description: 'CSV manifest (path + label columns), or VoxCeleb2 vox2_meta.csv' },
  subsets: { type: 'list', description: 'comma-separated LibriSpeech subsets / VoxCeleb2 sets to keep' },
  out: { type: 'string', description: 'folder for splits.json and the cache (default .earmark-cache/<corpus>)' },
  splitMethod: { type: 'string', choices: SPLIT_METHODS, description: 'how to split (default per corpus)' },
  splitSeed: { type: 'int', description: 'seed of the splits', default: 0 },
  feature: { type: 'string', description: 'ds2 (DeepSpeech2 spectrogram) or none (summary only)', default: 'ds2' },
  featureModule: { type: 'string', description: 'compiled .js module exporting a compute(utterance, options) function' },
  featureExport: { type: 'string', description: 'export name in --feature-module', default: 'compute' },
  workers: { type: 'int', description: 'worker threads (0 = this thread; default: all cores)' },
  skipBad: { type: 'boolean', description: 'skip and list files that fail instead of stopping at the first' },
});

/** A non-empty string flag, or undefined. */
const given = (v: string | undefined): string | undefined => (v === '' ? undefined : v);

/** The feature function: the DS2 spectrogram by default, or any module + export given on the command line. */
function featureSpec(o: FlagValues<typeof FLAGS>): FeatureSpec | undefined {
  const feature = given(o.feature) ?? 'ds2';
  const module = given(o.featureModule);
  if (module !== undefined) {
    return { name: feature === 'ds2' ? path.basename(module).replace(/\.[cm]?js$/, '') : feature, module: path.resolve(module), exportName: given(o.featureExport) ?? 'compute' };
  }
  if (feature === 'none') return undefined;
  if (feature === 'ds2') return ds2FeatureSpec();
  throw new EarmarkError('EARMARK_BAD_ARGUMENT', `--feature '${feature}' is unknown; use ds2, none, or give --feature-module <file.js> [--feature-export <name>]`);
}

export const features = defineCommand({
  name: 'features',
  summary: 'Load a corpus (RAVDESS, EmoV-DB, LibriSpeech, VoxCeleb2 or a CSV manifest), make its seeded splits and build its feature cache; prints counts per label, durations and split sizes.',
  flags: FLAGS,
  async run(o) {
    const opts: Parameters<typeof loadCorpus>[0] = { layout: o.layout };
    for (const [k, v] of [['root', given(o.root)], ['manifest', given(o.manifest)]] as const) if (v !== undefined) opts[k] = v;
    if (o.subsets !== undefined) opts.subsets = o.subsets;
    const corpus = loadCorpus(opts);

    const out = path.resolve(given(o.out) ?? path.join('.earmark-cache', corpus.name));
    const splits = loadOrCreateSplits(path.join(out, 'splits.json'), corpus, { seed: o.splitSeed, ...(o.splitMethod ? { method: o.splitMethod } : {}) });

    const spec = featureSpec(o);
    let seconds: ((id: string) => number | undefined) | undefined;
    const tail: string[] = [`  splits: ${path.join(out, 'splits.json')} (${splits.created ? 'new' : 're-used'})`];
    if (spec !== undefined) {
      const res = await buildFeatureCache(corpus, spec, { dir: path.join(out, 'features'), skipBad: o.skipBad === true, ...(o.workers === undefined ? {} : { workers: o.workers }) });
      const cache = res.cache;
      seconds = (id) => (cache.has(id) ? cache.meta(id).stats?.seconds : undefined);
      const first = cache.ids[0];
      tail.push(`  features: ${res.file} (${res.built ? `built, ${res.computed} computed` : 're-used'}${first ? `; e.g. ${first} → [${cache.meta(first).shape.join(', ')}]` : ''})`);
      if (res.skipped.length) {
        tail.push(`  skipped ${res.skipped.length} bad file(s):`);
        for (const s of res.skipped) tail.push(`    ${s.path}: ${s.error}`);
      }
      console.log(summarizeCorpus(corpus, corpusDurations(corpus, seconds), splits) + '\n' + tail.join('\n'));
      cache.close();
      return 0;
    }
    console.log(summarizeCorpus(corpus, corpusDurations(corpus), splits) + '\n' + tail.join('\n'));
    return 0;
  },
});
