// The toy T, obfuscator and data the obfuscator-training tests share: a tiny DeepSpeech2 T (3 classes), a tiny
// CycleGAN-VC2 generator for F_σ and F_μ, and a labelled set of chirps whose rate depends on the class.
import { resolveCycleGanVc2Config } from '../src/models/cyclegan-vc2.js';
import { resolveDeepSpeech2Config } from '../src/models/deepspeech2.js';
import type { LabelledSet } from '../src/data/spec-set.js';

export const tinyDs2 = resolveDeepSpeech2Config({ numClasses: 3, convChannels: 2, rnnLayers: 1, hiddenSize: 8 });
export const tinyGen = resolveCycleGanVc2Config({ channels: 4, residualBlocks: 1 });

/** How a toy set's spectrograms are drawn; the defaults are the plain chirps. */
export interface ToyShape {
  /** chirp rate per frame bin (default 0.01) */
  rate?: number;
  /** classes: utterance i has label i % classes and chirp rate rate·(1 + i % classes) (default 3) */
  classes?: number;
  /** added to bin j of utterance i (default none) */
  extra?: (i: number, j: number) => number;
}

/** `n` utterances of `frames` frames over 161 bins: sin(i + j·rate·(1 + i mod classes)) (+ extra), label i mod classes. */
export function toySet(n: number, frames: number, shape: ToyShape = {}): LabelledSet {
  const { rate = 0.01, classes = 3, extra } = shape;
  const specs = Array.from({ length: n }, (_, i) =>
    Float32Array.from({ length: 161 * frames }, (_, j) => {
      const chirp = Math.sin(i + j * rate * (1 + (i % classes)));
      return extra ? chirp + extra(i, j) : chirp;
    }),
  );
  return {
    set: { ids: specs.map((_, i) => `u${i}`), specs, frames: specs.map(() => frames), nFreq: 161 },
    labels: specs.map((_, i) => i % classes),
    numClasses: classes,
  };
}
