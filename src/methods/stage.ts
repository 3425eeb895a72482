// A stage's identity in a run folder: what made a checkpoint or metrics file (its resolved config and its
// inputs), and how a resumed run treats such a file. Same identity: load it, or continue it. Another one:
// retrain the stage with a log line naming the keys that differ, or, with `retrain: false`
// (`--no-retrain`), refuse with an error naming them. The vocabulary (fingerprint, fingerprintDiff,
// stageSeed) is src/config/fingerprint.ts; the input descriptions are here, so that every loop hashes
// its sets the same way: split ids and labels (hashed, with counts), never the spectrograms themselves.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { canonicalJson, fingerprint, fingerprintDiff } from '../config/fingerprint.js';
import { featureKey, type FeatureSpec } from '../data/cache-file.js';
import type { ExperimentData } from '../data/experiment-data.js';
import type { SoundscapeSet } from '../data/soundscape-set.js';
import type { LabelledSet, SpecSet } from '../data/spec-set.js';
import { EarmarkError } from '../errors.js';
import type { Module } from '../nn/index.js';
import { writeFileAtomicSync } from '../util/atomic.js';
import { readCheckpointState } from './checkpoint.js';

/** What made a checkpoint or a metrics file; stored in it as plain JSON. */
export interface StageIdentity {
  /** The stage's name, e.g. 'target' or 'informed-gender' (it also seeds the stage's models). */
  stage: string;
  /** fingerprint({ stage, config, inputs }): 16 hex digits. */
  fingerprint: string;
  /** The resolved config, plain values (so a mismatch can be explained key by key). */
  config: unknown;
  /** What the stage trained on: set descriptions, feature spec, upstream stages' fingerprints. */
  inputs: unknown;
}

/**
 * What every train-or-load helper accepts about its stage (each has a default).
 * @example trainOrLoadClassifier({ ..., stage: 'informed-gender', inputs: experimentInputs(data, { obfuscator: obf.fingerprint }) })
 */
export interface StageOptions {
  /** The stage's name: its models are built right after manualSeed(stageSeed(seed, stage)). */
  stage?: string;
  /**
   * What the stage depends on beyond its config and the ids and labels of its sets (which are added
   * automatically): the feature spec, the fingerprints of the stages it builds on. Plain JSON.
   */
  inputs?: Record<string, unknown>;
  /** On a file made with another identity: retrain the stage (true, the default) or refuse (false). */
  retrain?: boolean;
  /** Where the retrain and resume lines go. */
  log?: ((line: string) => void) | undefined;
}

/** JSON-able `v` as plain data (undefined keys dropped), so a stored identity compares equal to a fresh one. */
const plain = (v: unknown): unknown => JSON.parse(canonicalJson(v ?? null));

/**
 * The identity of a stage: its name, resolved config and inputs, and their fingerprint.
 * @example const id = stageIdentity('target', { train: c, model: mc }, { train: describeSet(train) });
 */
export function stageIdentity(stage: string, config: unknown, inputs: unknown): StageIdentity {
  const p = { stage, config: plain(config), inputs: plain(inputs) };
  return { stage, fingerprint: fingerprint(p), config: p.config, inputs: p.inputs };
}

/** A set as a stage's input: its size, and hashes of its ids (and labels, for a labelled set). */
export function describeSet(s: SpecSet | LabelledSet): { n: number; ids: string; labels?: string; classes?: number } {
  if ('labels' in s)
    return { n: s.set.ids.length, ids: fingerprint(s.set.ids), labels: fingerprint(s.labels), classes: s.numClasses };
  return { n: s.ids.length, ids: fingerprint(s.ids) };
}

/** A soundscape split as a stage's input: its clips (paths) and their event, speech and gender labels. */
export function describeSoundscapes(s: SoundscapeSet): { n: number; paths: string; labels: string } {
  return { n: s.n, paths: fingerprint(s.paths), labels: fingerprint([s.event, s.speech, s.gender]) };
}

/** A feature spec as a stage's input: its name, options and version (not the module's location), and its key. */
export function featureInputs(spec: FeatureSpec): Record<string, unknown> {
  return {
    name: spec.name,
    exportName: spec.exportName ?? 'compute',
    options: spec.options ?? {},
    version: spec.version ?? null,
    key: featureKey(spec),
  };
}

/**
 * The inputs of a stage trained on an experiment's DS2 features, beside its sets: the feature spec and
 * `upstream` (e.g. the obfuscator's fingerprint for an informed attacker).
 * @example experimentInputs(data, { obfuscator: obf.fingerprint })
 */
export function experimentInputs(
  data: ExperimentData,
  upstream: Record<string, unknown> = {},
): Record<string, unknown> {
  return { features: featureInputs(data.featureSpec), ...upstream };
}

/** SHA-256 (16 hex digits) of a module's state dict (names, shapes, dtypes, bytes): what a frozen input model is. */
export function moduleFingerprint(m: Module): string {
  const h = createHash('sha256');
  for (const [k, t] of m.stateDict()) {
    h.update(`${k}:${t.dtype}:${t.shape.join('x')};`);
    const d = t.data();
    h.update(new Uint8Array(d.buffer, d.byteOffset, d.byteLength));
  }
  return h.digest('hex').slice(0, 16);
}

export interface CheckStageOptions {
  /** On a mismatch: retrain (default true) or throw. */
  retrain?: boolean;
  log?: ((line: string) => void) | undefined;
  /** Names the stage in the log line and the error, e.g. 'T speaker'. */
  label?: string;
  /**
   * Config keys that may differ when the saved run can simply be continued (e.g. a larger epoch budget
   * than the saved run has reached): ['config.train.epochs'] with `extendable.ok` true.
   */
  extendable?: { keys: readonly string[]; ok: boolean };
}

/**
 * Whether a stage may use what `file` holds (load it or continue it): true when `saved` is `now` (or
 * differs only in `extendable` keys that allow it). Otherwise logs the keys that differ and returns
 * false (the stage starts over), or, with `retrain: false`, throws an EarmarkError naming them.
 * @example if (checkStage(ckpt, st.stage, id, { log, label: 'T speaker' })) st = loadCheckpoint(ckpt, parts);
 */
export function checkStage(
  file: string,
  saved: StageIdentity | undefined,
  now: StageIdentity,
  o: CheckStageOptions = {},
): boolean {
  const label = o.label ?? now.stage;
  const keys =
    saved?.fingerprint === undefined
      ? ['(no fingerprint: written by an older earmark)']
      : saved.fingerprint === now.fingerprint
        ? []
        : fingerprintDiff(strip(saved), strip(now));
  if (saved?.fingerprint !== undefined && saved.fingerprint !== now.fingerprint && keys.length === 0)
    keys.push('(fingerprint)');
  if (keys.length === 0) return true;
  if (o.extendable?.ok && keys.every((k) => o.extendable!.keys.includes(k))) return true;
  const list = keys.length > 8 ? `${keys.slice(0, 8).join(', ')} and ${keys.length - 8} more` : keys.join(', ');
  if (o.retrain === false) {
    throw new EarmarkError(
      'EARMARK_CHECKPOINT',
      `${label}: ${file} was made with other settings or data (differs: ${list}); ` +
        'run with the settings it was made with, or allow retraining this stage (drop --no-retrain; library: retrain: true), or start over with --fresh',
    );
  }
  o.log?.(`  ${label}: ${file} was made with other settings or data (differs: ${list}); retraining`);
  return false;
}

const strip = (id: StageIdentity): unknown => ({ stage: id.stage, config: id.config, inputs: id.inputs });

/** Write `value` with its stage identity (`{ ...value, stage }`) to a JSON metrics file, atomically. */
export function writeStageJson(file: string, id: StageIdentity, value: object): void {
  writeFileAtomicSync(file, JSON.stringify({ ...value, stage: id }));
}

/**
 * The value a metrics file holds when it was made by `now` (its `stage` field removed); undefined when
 * the file is missing or (with retrain) was made by another identity; throws when refused (see checkStage).
 * @example const done = readStageJson<RdalRunMetrics>(metricsFile, id, { log });
 */
export function readStageJson<T>(file: string, now: StageIdentity, o: CheckStageOptions = {}): T | undefined {
  if (!existsSync(file)) return undefined;
  const { stage, ...value } = JSON.parse(readFileSync(file, 'utf8')) as { stage?: StageIdentity } & Record<
    string,
    unknown
  >;
  return checkStage(file, stage, now, o) ? (value as T) : undefined;
}

export interface UsableCheckpointOptions extends CheckStageOptions {
  /** Off: no checkpoint is used (a fresh run). */
  resume?: boolean | undefined;
  /** The epoch budget now, and its dotted key in the identity: a larger budget than the saved run reached continues it. */
  epochs?: { key: string; value: number };
}

/**
 * The saved state of the checkpoint at `file` when this stage may load or continue it: it exists, resume
 * is on, and it was made by `now` (or by `now` with a smaller epoch budget than `epochs.value`, which
 * training simply continues). Undefined otherwise, after logging why it is retrained; throws when refused.
 * @example const saved = usableCheckpoint<{ epoch: number }>(ckpt, id, { resume, log, epochs: { key: 'config.train.epochs', value: 12 } });
 */
export function usableCheckpoint<S extends { epoch: number }>(
  file: string | undefined,
  now: StageIdentity,
  o: UsableCheckpointOptions,
): S | undefined {
  if (!o.resume || file === undefined || !existsSync(file)) return undefined;
  const st = readCheckpointState<S & { stage?: StageIdentity }>(file);
  const extendable = o.epochs && { keys: [o.epochs.key], ok: st.epoch <= o.epochs.value };
  return checkStage(file, st.stage, now, { ...o, ...(extendable ? { extendable } : {}) }) ? st : undefined;
}

/** The line a resumed loop prints: epochs count from 1, as the per-epoch log lines do. */
export function resumeLine(label: string, done: number, epochs: number, file: string): string {
  return done >= epochs
    ? `  ${label}: finished earlier (${done} epochs), loaded ${file}`
    : `  ${label}: resuming from epoch ${done + 1}/${epochs} (${file})`;
}
