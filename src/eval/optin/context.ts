// What the opt-in experiment's stages share: the run context (config, folder, log, timings, the report
// being built), spectrograms by utterance id (clean, each shipped format, a baseline's output), and the
// ONE place where a stage trains or loads a DS2 classifier (T and every attacker), so that the
// checkpoint and seeding conventions of methods/classifier.ts are applied the same way everywhere.
import path from 'node:path';
import { labelled, type ExperimentData } from '../../data/experiment-data.js';
import type { LabelKey } from '../../data/index.js';
import type { LabelledSet, SpecSet } from '../../data/spec-set.js';
import { trainOrLoadClassifier, type ClassifierTrainConfig, type EpochRecord } from '../../methods/classifier.js';
import { resolveDeepSpeech2Config, type DeepSpeech2 } from '../../models/deepspeech2.js';
import type { AmpDtype } from '../../tensor/index.js';
import type { ExperimentConfig, ExperimentName, EXPERIMENTS } from './config.js';
import type { ExperimentReport } from './schema.js';

/** What every stage shares: the resolved config, the run folder, the log, the timings and the report so far. */
export interface RunContext {
  readonly config: ExperimentConfig;
  /** What the experiment permits and attacks. */
  readonly spec: (typeof EXPERIMENTS)[ExperimentName];
  readonly runDir: string;
  readonly resume: boolean;
  /** A checkpoint made with other settings or data: retrain that stage (true) or refuse (false, --no-retrain). */
  readonly retrain: boolean;
  readonly log: (line: string) => void;
  /** Where the trainers run (--device, --amp); one process. */
  readonly placement?: { device?: string | undefined; amp?: AmpDtype | null | undefined };
  /** Seconds per timed step, in the order the steps ran (report.json's `seconds`). */
  readonly seconds: Record<string, number>;
  /** The report, filled in stage by stage and written after each. */
  readonly report: ExperimentReport;
}

/** Run `f` and record its wall time under `name`. */
export async function timed<T>(run: RunContext, name: string, f: () => Promise<T> | T): Promise<T> {
  const t0 = Date.now();
  try {
    return await f();
  } finally {
    run.seconds[name] = (Date.now() - t0) / 1000;
  }
}

/** Per-utterance normalised spectrograms ((nFreq, frames) row-major) by utterance id. */
export type SpecById = Map<string, Float32Array>;

/** The clean features of every utterance in any split of `data`, by id. */
export function cleanById(data: ExperimentData): SpecById {
  const out: SpecById = new Map();
  const sp = data.speakerSets;
  for (const s of [data.sets.train, data.sets.val, data.sets.test, ...(sp ? [sp.train, sp.val, sp.test] : [])])
    s.ids.forEach((id, i) => out.set(id, s.specs[i]!));
  return out;
}

/** A spectrogram set of `ids` from `source` (ids it lacks, e.g. skipped files, are left out). */
export function setOf(source: SpecById, ids: readonly string[], nFreq = 161): SpecSet {
  const set: SpecSet = { ids: [], specs: [], frames: [], nFreq };
  for (const id of ids) {
    const s = source.get(id);
    if (s === undefined) continue;
    set.ids.push(id);
    set.specs.push(s);
    set.frames.push(s.length / nFreq);
  }
  return set;
}

/** `ids` from `source` with the integer labels of `key` (utterances without that label dropped). */
export function labelledOf(data: ExperimentData, source: SpecById, ids: readonly string[], key: LabelKey): LabelledSet {
  return labelled(data, setOf(source, ids), key);
}

/** The same utterances (ids and labels) with their spectrograms taken from another source. */
export function withSource(l: LabelledSet, source: SpecById): LabelledSet {
  const set = setOf(source, l.set.ids, l.set.nFreq);
  if (set.ids.length !== l.set.ids.length)
    throw new RangeError(
      `withSource: ${l.set.ids.length - set.ids.length} utterance(s) have no spectrogram in this source`,
    );
  return { ...l, set };
}

/**
 * Train or load one DS2 classifier of the run (T or an attacker), checkpointed as `<runDir>/<name>.safetensors`:
 * the one place every stage goes through (T's architecture for every attacker, as the paper). `inputs` names
 * what its sets were made from (methods/stage.ts experimentInputs: the feature spec, e.g. the shipped outputs'
 * cache), so that a changed input retrains it.
 */
export async function classifier(
  run: RunContext,
  name: string,
  label: string,
  train: LabelledSet,
  val: LabelledSet,
  inputs: Record<string, unknown>,
  config: ClassifierTrainConfig = run.config.attackerTrain,
): Promise<{ model: DeepSpeech2; history: EpochRecord[]; fingerprint: string }> {
  const modelConfig = resolveDeepSpeech2Config({ ...run.config.model, numClasses: train.numClasses });
  return trainOrLoadClassifier({
    runDir: run.runDir,
    name,
    label,
    modelConfig,
    train,
    val,
    config,
    resume: run.resume,
    log: run.log,
    inputs,
    retrain: run.retrain,
    ...run.placement,
  });
}

/** A checkpoint path in the run folder. */
export const inRun = (run: RunContext, file: string): string => path.join(run.runDir, file);
