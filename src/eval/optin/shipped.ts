// What ships, for every utterance of the corpus (issue 11, "attack what ships"): the exported obfuscator
// (ONNX, onnxruntime) under the deployed windowed rule exactly as `earmark obfuscate` and the sensor run
// it (obfuscateOffline: the TypeScript DS2 front-end, windows of W frames with M of context, the fixed
// output level), then what an app computes from each format it can receive:
//   frames  the served obfuscated log1p|STFT|, normalised per utterance (the normalisation T was trained with);
//   pcm     the phase-free audio (the sensor's synthesis), quantised to 16 bits and re-analysed by the
//           DS2 front-end with its per-utterance normalisation (reanalyzePcm).
// It is a feature-cache compute function (the cache's worker threads run it; its key holds the model's
// hash), so a resumed run re-uses the outputs and two cores share the work. No libtorch here.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadAudio } from '../../audio/io.js';
import { buildFeatureCache, type FeatureItem, type FeatureSpec } from '../../data/cache.js';
import type { ExperimentData } from '../../data/experiment-data.js';
import type { Utterance } from '../../data/types.js';
import { obfuscateOffline, type WindowConfig } from '../../edge/obfuscate.js';
import { OnnxSession } from '../../edge/runtime.js';
import { normalizeInPlace } from '../../edge/spectrogram.js';
import { reanalyzePcm, type SynthesisConfig } from '../../edge/synthesis.js';
import { EarmarkError } from '../../errors.js';
import type { OutputFormat } from './config.js';
import type { SpecById } from './context.js';

export interface ShippedOptions {
  /** The exported obfuscator, and the SHA-256 of its bytes (the cache key: a new model, new outputs). */
  onnx: string;
  modelHash: string;
  window: WindowConfig;
  synthesis: SynthesisConfig;
  formats: OutputFormat[];
}

const sessions = new Map<string, Promise<OnnxSession>>();

/**
 * Feature-cache compute function: one utterance → its shipped outputs, data (formats, 161, frames) in
 * `formats` order, each per-utterance normalised; stats { seconds, gainDb, limited }.
 */
export async function shippedFeatures(utt: Utterance, options: unknown): Promise<FeatureItem> {
  const o = options as ShippedOptions;
  let session = sessions.get(o.modelHash);
  if (session === undefined) sessions.set(o.modelHash, (session = OnnxSession.load(o.onnx, { threads: 1 })));
  const s = await session;
  const audio = await loadAudio(utt.path, { mono: true, sampleRate: 16000 }); // a decode failure is the file's
  const wantPcm = o.formats.includes('pcm');
  try {
    const r = await obfuscateOffline((x) => s.run(x), audio.samples, o.window, wantPcm, o.synthesis);
    const n = r.frames * r.nFreq;
    const data = new Float32Array(o.formats.length * n);
    o.formats.forEach((f, k) => {
      const spec = f === 'frames' ? r.logMag.slice() : reanalyzePcm(r.audio!).spectrogram;
      if (f === 'frames') normalizeInPlace(spec);
      if (spec.length !== n)
        throw new RangeError(`the re-analysed ${f} output has ${spec.length / r.nFreq} frames, the input ${r.frames}`);
      data.set(spec, k * n);
    });
    return {
      data,
      shape: [o.formats.length, r.nFreq, r.frames],
      stats: { seconds: audio.samples.length / 16000, gainDb: r.gainDb ?? 0, limited: r.limitedSamples ?? 0 },
    };
  } catch (e) {
    throw new EarmarkError(
      'EARMARK_TRANSFORM',
      `the deployed obfuscator (${o.onnx}, ${o.synthesis.method} synthesis) failed on audio that decodes ` +
        `(${audio.samples.length} samples): ${(e as Error).message}`,
      { cause: e },
    );
  }
}

/** The cache spec of the shipped outputs of one exported obfuscator. */
export function shippedFeatureSpec(o: Omit<ShippedOptions, 'modelHash'>): FeatureSpec {
  const modelHash = createHash('sha256').update(readFileSync(o.onnx)).digest('hex').slice(0, 16);
  const options: ShippedOptions = { ...o, modelHash };
  return {
    name: 'shipped',
    module: fileURLToPath(import.meta.url),
    exportName: 'shippedFeatures',
    options: { ...options },
    // the model is identified by its hash, not by where its file lies: a sweep's baseline folders share the key
    keyOmit: ['onnx'],
    version: 1,
  };
}

/**
 * Every utterance's shipped outputs, one spectrogram map per format (built once per model and config,
 * cached under `<runDir>/features`).
 * @example const out = await shippedOutputs(data, { onnx, window, synthesis, formats: ['frames', 'pcm'] }, dir, 0);
 */
export async function shippedOutputs(
  data: ExperimentData,
  o: Omit<ShippedOptions, 'modelHash'>,
  cacheDir: string,
  workers: number,
  progress = true,
): Promise<{ byFormat: Partial<Record<OutputFormat, SpecById>>; file: string; gainDb: number[] }> {
  const spec = shippedFeatureSpec(o);
  const built = await buildFeatureCache(data.corpus, spec, {
    dir: cacheDir,
    skipBad: data.skipped.length > 0,
    progress,
    ...(workers > 0 ? { workers } : {}),
  });
  const cache = built.cache;
  const byFormat: Partial<Record<OutputFormat, SpecById>> = Object.fromEntries(o.formats.map((f) => [f, new Map()]));
  const gainDb: number[] = [];
  try {
    for (const id of data.byId.keys()) {
      if (!cache.has(id)) continue; // skipped as unreadable (listed with the clean features)
      const item = cache.get(id);
      const n = item.shape[1]! * item.shape[2]!;
      o.formats.forEach((f, k) => byFormat[f]!.set(id, item.data.slice(k * n, (k + 1) * n)));
      gainDb.push(item.stats?.gainDb ?? 0);
    }
  } finally {
    cache.close();
  }
  return { byFormat, file: built.file, gainDb };
}
