// The tiny sweep config the sweep tests share: fig3a on a tiny corpus, tiny networks, one epoch each, one
// protocol and format; `inversion` is each test's own.
import { resolveExperimentConfig, type ExperimentConfig } from '../src/eval/optin/config.js';

/** The tiny sweep's base config on the corpus at `manifest`. */
export function tinySweepConfig(manifest: string, inversion: unknown): ExperimentConfig {
  const tiny = { epochs: 1, batchSize: 4, cropFrames: 24, lr: 3e-3 };
  return resolveExperimentConfig('cpu', {
    experiment: 'fig3a',
    reportExamples: 0,
    dataset: { layout: 'csv', manifest, root: '', splitSeed: 0, skipBad: false },
    model: { convChannels: 2, rnnLayers: 1, hiddenSize: 8 },
    targetTrain: tiny,
    attackerTrain: tiny,
    obfuscator: { channels: 4, residualBlocks: 1 },
    deobfuscator: { channels: 4, residualBlocks: 1 },
    obfuscatorTrain: { epochs: 1, batchSize: 4, cropFrames: 24, identityWarmupSteps: 2 },
    edge: { int8: 'none' },
    // the evidence protocol, cut to one protocol and format: informed, ignorant, in-training (and `inversion`)
    attack: {
      formats: ['frames'],
      protocols: ['speaker-disjoint'],
      informed: { 'speaker-disjoint': ['frames'], 'closed-set': [] },
    },
    inversion,
  });
}
