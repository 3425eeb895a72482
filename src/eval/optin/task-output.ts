// The task-output attacker (issue 14, item 5): the app's own view. Whoever runs the granted model T on what
// ships (the app itself, the data processor the paper defends against) reads T's posterior for every
// utterance. This attacker is a small classifier trained on T's mean log-posterior over the output steps of
// the protocol's training utterances (with their attribute labels), tested on the test utterances:
//   on clean audio   the floor of any opt-in obfuscator: one that keeps T's posterior, as L_t asks, leaks at
//                    least this much (to an attacker who holds T, which the granted task gives away);
//   on each format   an informed attacker that needs nothing of the audio beyond T's output on it.
// It is cheap (vectors of K numbers), so it is retrained in every run and never checkpointed; its seed is the
// informed attackers'.
import type { LabelledSet, SpecSet } from '../../data/spec-set.js';
import { utterance } from '../../data/spec-set.js';
import {
  resolveVectorClassifierConfig,
  trainVectorClassifier,
  type VectorSet,
} from '../../methods/vector-classifier.js';
import type { DeepSpeech2 } from '../../models/deepspeech2.js';
import { batchTo, deviceOf, noGrad, tidy } from '../../tensor/index.js';
import { scoreClassification, type ClassScores } from '../metrics.js';

/** The task-output attacker's classifier: a one-hidden-layer MLP on K-dimensional log-posteriors. */
export const TASK_OUTPUT_CLASSIFIER = resolveVectorClassifierConfig({ hidden: 64, epochs: 60 });

/**
 * T's mean log-posterior over the output steps of every utterance of `set` (K numbers each); `cache` (by
 * utterance id, for one source: clean or one shipped format) keeps them for the other attributes and protocols.
 */
export function taskPosteriors(
  target: DeepSpeech2,
  set: SpecSet,
  cache = new Map<string, Float32Array>(),
): Float32Array[] {
  const wasTraining = target.training;
  target.eval();
  const device = deviceOf(target.parameters()[0]!);
  const out = noGrad(() =>
    set.specs.map((_, i) => {
      const id = set.ids[i]!;
      const hit = cache.get(id);
      if (hit !== undefined) return hit;
      const v = tidy(() => {
        const logits = target.forward(batchTo(utterance(set, i), device)); // (1, T', K)
        return logits.float().logSoftmax(-1).mean(1).squeeze(0).toFloat32Array();
      });
      cache.set(id, v);
      return v;
    }),
  );
  target.train(wasTraining);
  return out;
}

/** One protocol's labelled sets (clean, or one shipped format's). */
export interface TaskOutputSets {
  train: LabelledSet;
  val: LabelledSet;
  test: LabelledSet;
}

export interface TaskOutputOptions {
  /** The classifier's seed (the informed attackers'). */
  seed: number;
  /** The seed of the intervals' bootstrap (the run's). */
  bootstrapSeed: number;
  /** The test utterances' speakers when the attacker heard none of them: the intervals resample speakers. */
  speakers: readonly string[] | undefined;
  /** Names the classifier's seed stream, e.g. 'task-output-gender-pcm-speaker-disjoint'. */
  stage: string;
  /** T's posteriors of this source by utterance id (taskPosteriors). */
  cache?: Map<string, Float32Array>;
}

/**
 * Train the task-output attacker on T's posteriors of `sets.train` (selected on `sets.val`) and score it on
 * `sets.test`.
 * @example const s = taskOutputAttack(target.model, sets, { seed: 0, bootstrapSeed: 0, speakers, stage: 'task-output-gender' });
 */
export function taskOutputAttack(target: DeepSpeech2, sets: TaskOutputSets, o: TaskOutputOptions): ClassScores {
  const pred = taskOutputPredictions(target, sets, o);
  return scoreClassification(pred, sets.test.labels, sets.test.numClasses, o.bootstrapSeed, o.speakers);
}

/** The task-output attacker's class for each utterance of `sets.test` (what taskOutputAttack scores). */
export function taskOutputPredictions(target: DeepSpeech2, sets: TaskOutputSets, o: TaskOutputOptions): number[] {
  const vectors = (l: LabelledSet): VectorSet => ({ x: taskPosteriors(target, l.set, o.cache), y: l.labels });
  const c = { ...TASK_OUTPUT_CLASSIFIER, seed: o.seed };
  const clf = trainVectorClassifier(vectors(sets.train), vectors(sets.val), sets.test.numClasses, c, o.stage);
  try {
    return clf.predict(vectors(sets.test).x);
  } finally {
    clf.dispose();
  }
}
