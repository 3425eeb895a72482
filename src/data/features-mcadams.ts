// McAdams-anonymised DS2 features (the baseline that outputs audio): a feature-cache compute function
// (so the cache's worker threads can run it), its cache spec, and the anonymised twins of an
// experiment's split sets, aligned with the clean ones by utterance id.
import { fileURLToPath } from 'node:url';
import { DS2_SPECTROGRAM, ds2Spectrogram } from '../audio/functional.js';
import { loadAudio } from '../audio/io.js';
import { mcadams, mcadamsAlpha, MCADAMS_ALPHA_RANGE } from '../audio/mcadams.js';
import { resolveConfig } from '../config/resolve.js';
import { EarmarkError } from '../errors.js';
import { hammingWindow, tensor, tidy } from '../tensor/index.js';
import { buildFeatureCache, type FeatureItem, type FeatureSpec } from './cache.js';
import type { ExperimentData, SplitSets } from './experiment-data.js';
import type { SpecSet } from './spec-set.js';
import type { Utterance } from './types.js';

export interface McAdamsFeatureOptions {
  /** A fixed α (VPC 2020: 0.8), or null to draw one per utterance from `range` with `seed` (VPC 2024). */
  alpha: number | null;
  range: [number, number];
  seed: number;
}

export const MCADAMS_FEATURE_DEFAULTS: McAdamsFeatureOptions = {
  alpha: null,
  range: [MCADAMS_ALPHA_RANGE[0], MCADAMS_ALPHA_RANGE[1]],
  seed: 0,
};

/** The α McAdams uses for one utterance under these options. */
export function mcadamsAlphaFor(o: McAdamsFeatureOptions, uttId: string): number {
  return o.alpha ?? mcadamsAlpha(o.seed, uttId, o.range);
}

/**
 * Feature-cache compute function: 16 kHz mono audio → McAdams → DS2 spectrogram (161, frames), with
 * stats { mean, std, seconds, alpha }.
 * @example const item = await mcadamsDs2Features(corpus.utterances[0], { alpha: 0.8, range: [0.5, 0.9], seed: 0 });
 */
export async function mcadamsDs2Features(utt: Utterance, options: unknown): Promise<FeatureItem> {
  const o = resolveConfig('McAdamsFeatureOptions', MCADAMS_FEATURE_DEFAULTS, options ?? {});
  const audio = await loadAudio(utt.path, { mono: true, sampleRate: DS2_SPECTROGRAM.sampleRate }); // a decode failure is the file's
  const alpha = mcadamsAlphaFor(o, utt.id);
  let anon: Float32Array;
  try {
    anon = mcadams(audio.samples, { alpha, sampleRate: audio.sampleRate });
    const bad = anon.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) throw new RangeError(`sample ${bad} of ${anon.length} is ${anon[bad]}`);
  } catch (e) {
    throw new EarmarkError(
      'EARMARK_TRANSFORM',
      `McAdams (α = ${alpha.toFixed(3)}) failed on audio that decodes (${audio.samples.length} samples at ${audio.sampleRate} Hz): ` +
        `${(e as Error).message}; this is the transform's fault, not the file's: keep the file and report the failure`,
      { cause: e },
    );
  }
  return tidy(() => {
    const f = ds2Spectrogram(tensor(anon, [anon.length]), hammingWindow(DS2_SPECTROGRAM.nFft), DS2_SPECTROGRAM); // (161, frames)
    return {
      data: f.spectrogram.toFloat32Array(),
      shape: f.spectrogram.shape,
      stats: { mean: f.mean.item(), std: f.std.item(), seconds: anon.length / audio.sampleRate, alpha },
    };
  });
}

/** The cache spec of McAdams DS2 features (its key changes with α, range and seed). */
export function mcadamsFeatureSpec(options: Partial<McAdamsFeatureOptions> = {}): FeatureSpec {
  const o = resolveConfig('McAdamsFeatureOptions', MCADAMS_FEATURE_DEFAULTS, options);
  return {
    name: 'ds2-mcadams',
    module: fileURLToPath(import.meta.url),
    exportName: 'mcadamsDs2Features',
    options: { ...o },
    version: 1,
  };
}

export interface AnonymisedSets {
  /** Twins of data.sets (same ids, same order). */
  sets: SplitSets;
  speakerSets?: SplitSets;
  /** Clean set → its anonymised twin, for every set above (the shape experiment.ts keeps obfuscated sets in). */
  twin: Map<SpecSet, SpecSet>;
  /** α used per utterance id. */
  alphas: Map<string, number>;
  /** The cache file. */
  file: string;
  /** The features' spec (part of the identity of every stage trained on them). */
  spec: FeatureSpec;
}

/**
 * DS2 spectrograms of McAdams-anonymised audio for every split of `data`, cached under `cacheDir`
 * (reused when the corpus and options are unchanged). Worker threads: default 1 (the machine is shared).
 * @example const anon = await mcadamsSpecSets(data, { alpha: null, seed: 0 }, path.join(runDir, 'features'));
 *          predict(T, anon.sets.test) // T on anonymised test audio
 */
export async function mcadamsSpecSets(
  data: ExperimentData,
  options: Partial<McAdamsFeatureOptions>,
  cacheDir: string,
  opts: { workers?: number; progress?: boolean } = {},
): Promise<AnonymisedSets> {
  const spec = mcadamsFeatureSpec(options);
  const built = await buildFeatureCache(data.corpus, spec, {
    dir: cacheDir,
    workers: opts.workers ?? 1,
    skipBad: data.skipped.length > 0,
    progress: opts.progress ?? true,
  });
  const cache = built.cache;
  const alphas = new Map<string, number>();
  const twin = new Map<SpecSet, SpecSet>();
  const twinOf = (s: SpecSet): SpecSet => {
    const done = twin.get(s);
    if (done) return done;
    const out: SpecSet = { ids: s.ids.slice(), specs: [], frames: [], nFreq: s.nFreq };
    for (const id of s.ids) {
      if (!cache.has(id))
        throw new EarmarkError(
          'EARMARK_DATASET',
          `McAdams features for '${id}' are missing from ${built.file}; it failed to anonymise (see the cache's skipped list)`,
        );
      const item = cache.get(id);
      out.specs.push(item.data);
      out.frames.push(item.shape[1]!);
      alphas.set(id, item.stats?.alpha ?? Number.NaN);
    }
    twin.set(s, out);
    return out;
  };
  const of = (s: SplitSets): SplitSets => ({ train: twinOf(s.train), val: twinOf(s.val), test: twinOf(s.test) });
  const r: AnonymisedSets = { sets: of(data.sets), twin, alphas, file: built.file, spec };
  if (data.speakerSets) r.speakerSets = of(data.speakerSets);
  cache.close();
  return r;
}
