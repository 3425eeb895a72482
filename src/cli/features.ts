// `earmark features`: load a corpus in its own layout, make (or re-use) its seeded splits, build (or
// re-use) its feature cache, and print a summary: counts per label, durations, split sizes, skipped files.
import path from 'node:path';
import { EarmarkError } from '../errors.js';
import { buildFeatureCache, type FeatureSpec } from '../data/cache.js';
import { ds2FeatureSpec } from '../data/features-ds2.js';
import { LAYOUTS, loadCorpus, type Layout } from '../data/load.js';
import { loadOrCreateSplits, type SplitMethod } from '../data/splits.js';
import { corpusDurations, summarizeCorpus } from '../data/summary.js';
import type { Command } from './args.js';

type Flags = Record<string, string | number | boolean | undefined>;
const str = (f: Flags, k: string): string | undefined => (typeof f[k] === 'string' && f[k] !== '' ? (f[k] as string) : undefined);

/** The feature function: the DS2 spectrogram by default, or any module + export given on the command line. */
function featureSpec(flags: Flags): FeatureSpec | undefined {
  const feature = str(flags, 'feature') ?? 'ds2';
  const module = str(flags, 'feature-module');
  if (module !== undefined) {
    return { name: feature === 'ds2' ? path.basename(module).replace(/\.[cm]?js$/, '') : feature, module: path.resolve(module), exportName: str(flags, 'feature-export') ?? 'compute' };
  }
  if (feature === 'none') return undefined;
  if (feature === 'ds2') return ds2FeatureSpec();
  throw new EarmarkError('EARMARK_BAD_ARGUMENT', `--feature '${feature}' is unknown; use ds2, none, or give --feature-module <file.js> [--feature-export <name>]`);
}

export const features: Command = {
  name: 'features',
  summary: 'Load a corpus (RAVDESS, EmoV-DB, LibriSpeech, VoxCeleb2 or a CSV manifest), make its seeded splits and build its feature cache; prints counts per label, durations and split sizes.',
  flags: {
    layout: { type: 'string', description: `corpus layout: auto, ${LAYOUTS.join(', ')}`, default: 'auto' },
    root: { type: 'string', description: 'corpus top folder' },
    manifest: { type: 'string', description: 'CSV manifest (path + label columns), or VoxCeleb2 vox2_meta.csv' },
    subsets: { type: 'string', description: 'comma-separated LibriSpeech subsets / VoxCeleb2 sets to keep' },
    out: { type: 'string', description: 'folder for splits.json and the cache (default .earmark-cache/<corpus>)' },
    'split-method': { type: 'string', description: 'stratified | speaker-disjoint | official (default per corpus)' },
    'split-seed': { type: 'int', description: 'seed of the splits', default: 0 },
    feature: { type: 'string', description: 'ds2 (DeepSpeech2 spectrogram) or none (summary only)', default: 'ds2' },
    'feature-module': { type: 'string', description: 'compiled .js module exporting a compute(utterance, options) function' },
    'feature-export': { type: 'string', description: 'export name in --feature-module', default: 'compute' },
    workers: { type: 'int', description: 'worker threads (0 = this thread; default: all cores)' },
    'skip-bad': { type: 'boolean', description: 'skip and list files that fail instead of stopping at the first' },
  },
  async run(flags) {
    const layout = (str(flags, 'layout') ?? 'auto') as Layout | 'auto';
    const subsets = str(flags, 'subsets')?.split(',').map((s) => s.trim()).filter(Boolean);
    const opts: Parameters<typeof loadCorpus>[0] = { layout };
    for (const [k, v] of [['root', str(flags, 'root')], ['manifest', str(flags, 'manifest')]] as const) if (v !== undefined) opts[k] = v;
    if (subsets !== undefined) opts.subsets = subsets;
    const corpus = loadCorpus(opts);

    const out = path.resolve(str(flags, 'out') ?? path.join('.earmark-cache', corpus.name));
    const method = str(flags, 'split-method') as SplitMethod | undefined;
    const splits = loadOrCreateSplits(path.join(out, 'splits.json'), corpus, { seed: Number(flags['split-seed'] ?? 0), ...(method ? { method } : {}) });

    const spec = featureSpec(flags);
    let seconds: ((id: string) => number | undefined) | undefined;
    const tail: string[] = [`  splits: ${path.join(out, 'splits.json')} (${splits.created ? 'new' : 're-used'})`];
    if (spec !== undefined) {
      const workers = flags.workers === undefined ? undefined : Number(flags.workers);
      const res = await buildFeatureCache(corpus, spec, { dir: path.join(out, 'features'), skipBad: flags['skip-bad'] === true, ...(workers === undefined ? {} : { workers }) });
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
};
