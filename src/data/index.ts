// The data layer's public surface: corpus adapters, splits, the feature cache and summaries.
export * from './types.js';
export { loadCorpus, detectLayout, LAYOUTS, type Layout, type LoadCorpusOptions } from './load.js';
export { loadRavdess, parseRavdessName, RAVDESS_EMOTIONS } from './ravdess.js';
export { loadEmovdb, EMOVDB_EMOTIONS } from './emovdb.js';
export { loadLibriSpeech, parseSpeakersTxt } from './librispeech.js';
export { loadVoxCeleb2, parseVox2Meta } from './voxceleb2.js';
export { loadManifest } from './manifest.js';
export * from './splits.js';
export * from './cache.js';
export { ds2Features, ds2FeatureSpec } from './features-ds2.js';
export { probeAudio, type AudioHeader } from './probe.js';
export { summarizeCorpus, corpusDurations } from './summary.js';
