// The default feature function of the cache: the DeepSpeech2 spectrogram (seed000 spec §4) of each
// utterance, as `compute(utterance, options)` so the cache's worker threads can import it by name
// (module: this file, export: 'ds2Features'). Audio is decoded, downmixed and resampled to 16 kHz by
// src/audio/io.ts; the spectrogram comes from src/audio/functional.ts.
import { fileURLToPath } from 'node:url';
import { loadAudio } from '../audio/io.js';
import { DS2_SPECTROGRAM, ds2Spectrogram } from '../audio/functional.js';
import { hammingWindow, tensor, tidy } from '../tensor/index.js';
import type { FeatureItem } from './compute.js';
import type { FeatureSpec } from './cache.js';
import type { Utterance } from './types.js';

export interface Ds2FeatureOptions {
  /** Peak-normalise each clip to this level before the STFT (the paper's "volume normalisation"); default none. */
  peak?: number;
}

/**
 * DS2 features of one utterance: data (161, frames) float32, stats { mean, std, seconds } (mean/std
 * undo the per-utterance normalisation).
 *
 * @example
 * const { data, shape, stats } = await ds2Features(corpus.utterances[0], {}); // shape [161, 1 + ⌊n/160⌋]
 */
export async function ds2Features(utt: Utterance, options: unknown): Promise<FeatureItem> {
  const opts = (options ?? {}) as Ds2FeatureOptions;
  const audio = await loadAudio(
    utt.path,
    opts.peak === undefined
      ? { mono: true, sampleRate: DS2_SPECTROGRAM.sampleRate }
      : { mono: true, sampleRate: DS2_SPECTROGRAM.sampleRate, peak: opts.peak },
  );
  return tidy(() => {
    const x = tensor(audio.samples, [audio.samples.length]); // (time)
    const f = ds2Spectrogram(x, hammingWindow(DS2_SPECTROGRAM.nFft), DS2_SPECTROGRAM); // (161, frames)
    return {
      data: f.spectrogram.toFloat32Array(),
      shape: f.spectrogram.shape,
      stats: { mean: f.mean.item(), std: f.std.item(), seconds: audio.samples.length / audio.sampleRate },
    };
  });
}

/** The cache spec for DS2 features (bump `version` when the feature code changes). */
export function ds2FeatureSpec(options: Ds2FeatureOptions = {}): FeatureSpec {
  return {
    name: 'ds2',
    module: fileURLToPath(import.meta.url),
    exportName: 'ds2Features',
    options: { ...options },
    version: 1,
  };
}
