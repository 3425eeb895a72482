// The attackers of every protected attribute, per protocol and per shipped format (issue 11):
//   clean      a classifier trained on clean training audio, on clean test audio (the paper's circles)
//   ignorant   that clean classifier on the shipped test output
//   informed   a classifier retrained on the shipped TRAINING output of the same format (frames, or PCM
//              re-analysed), on the shipped test output — per protocol, for the formats `attack.informed` lists
//   task output  the app's view: a small classifier on T's posteriors of the shipped output (task-output.ts),
//              and on clean audio the floor of any obfuscator that keeps T's posterior
//   in-training  the co-trained deobfuscator F_μ on the shipped output, then the clean classifier: F_σ was
//              trained to fool exactly this network, so it is optimistic (the fresh inversion attackers of
//              inversion.ts are the honest version)
// Every attacker has T's architecture. Test utterances are never attacker training data (checked), and
// under 'speaker-disjoint' no test speaker is (data/protocols.ts); there the intervals resample the test
// speakers, not their utterances (eval/metrics.ts).
import path from 'node:path';
import { classNames } from '../../data/experiment-data.js';
import { isFunctionOf, unseenTestSpeakers, type AttackProtocol } from '../../data/protocols.js';
import { utterance, type LabelledSet } from '../../data/spec-set.js';
import { predict } from '../../methods/classifier.js';
import { experimentInputs } from '../../methods/stage.js';
import type { ObfuscatorRun } from '../../methods/obfuscator.js';
import type { CycleGanVc2Generator } from '../../models/cyclegan-vc2.js';
import type { DeepSpeech2 } from '../../models/deepspeech2.js';
import { batchTo, deviceOf, noGrad, tidy, type Tensor } from '../../tensor/index.js';
import { obfuscatorSeeds, type AttackConfig, type OutputFormat } from './config.js';
import { scoreClassification, type ClassScores } from '../metrics.js';
import { classifier, labelledOf, timed, withSource, type RunContext, type SpecById } from './context.js';
import type { AttackResult, FormatAttack } from './schema.js';
import type { DataStage, DeployStage } from './stages.js';
import { taskOutputAttack } from './task-output.js';

/** The clean classifier of one (attribute, protocol) and its labelled test set, kept for later stages. */
export interface CleanAttacker {
  attribute: string;
  protocol: AttackProtocol;
  model: DeepSpeech2;
  test: LabelledSet;
}

export interface AttackStage {
  /** By `${attribute}/${protocol}`. */
  clean: Map<string, CleanAttacker>;
  /** The primary protocol's frames informed attackers by attribute (the edge stage scores int8 with them). */
  informed: Record<string, { model: DeepSpeech2; test: LabelledSet }>;
}

export const attackKey = (attribute: string, protocol: AttackProtocol): string => `${attribute}/${protocol}`;

/** The protocols of `protocols` under which `attr` is attacked (the speaker only on the closed set). */
export function attackedProtocols(protocols: readonly AttackProtocol[], attr: string): AttackProtocol[] {
  return protocols.filter((p) => attr !== 'speaker' || p === 'closed-set');
}

/**
 * The shipped formats whose informed attackers `attr` gets under `protocol`: those `attack.informed` lists
 * there, except that an attribute to which no protocol of the run would give an informed attacker gets,
 * under its first protocol, every format listed anywhere. So the cost knob (e.g. the sweep's layer, which
 * lists none for the closed set) never leaves an attribute judged without its strongest attacker: fig3b's
 * speaker (closed set only), or gender on a corpus that has no speaker-disjoint protocol.
 * @example informedFormats({ formats: ['frames', 'pcm'], informed: { 'speaker-disjoint': ['frames', 'pcm'], 'closed-set': [] } }, ['closed-set'], 'speaker', 'closed-set') // ['frames', 'pcm']
 */
export function informedFormats(
  a: Pick<AttackConfig, 'formats' | 'informed'>,
  protocols: readonly AttackProtocol[],
  attr: string,
  protocol: AttackProtocol,
): AttackConfig['formats'] {
  const mine = attackedProtocols(protocols, attr);
  if (mine.some((p) => a.informed[p].length > 0)) return a.informed[protocol];
  if (protocol !== mine[0]) return [];
  const listed = new Set(Object.values(a.informed).flat());
  return a.formats.filter((f) => listed.has(f));
}

/** The attribute's (train, val, test) labelled sets of one protocol from the clean features. */
export function protocolSets(
  d: DataStage,
  attr: string,
  protocol: AttackProtocol,
): { train: LabelledSet; val: LabelledSet; test: LabelledSet } {
  const s = d.plan.splits[protocol]!;
  return {
    train: labelledOf(d.data, d.clean, s.train, attr),
    val: labelledOf(d.data, d.clean, s.val, attr),
    test: labelledOf(d.data, d.clean, s.test, attr),
  };
}

/**
 * The speaker of each utterance of a protocol's test set `l` when the attackers never heard them
 * (speaker-disjoint), for scores whose intervals resample speakers; undefined on the closed set.
 */
export function protocolSpeakers(d: DataStage, protocol: AttackProtocol, l: LabelledSet): string[] | undefined {
  const s = d.plan.splits[protocol]!;
  return unseenTestSpeakers(d.data, [...s.train, ...s.val], l.set.ids);
}

/**
 * Scores of `model` on `l` (vote counting over whole utterances; `transform` first when given); with
 * `speakers` (protocolSpeakers) the intervals resample speakers.
 */
export function score(
  run: RunContext,
  model: DeepSpeech2,
  l: LabelledSet,
  speakers: readonly string[] | undefined,
  transform?: (x: Tensor) => Tensor,
): ClassScores {
  return scoreClassification(predict(model, l.set, transform), l.labels, l.numClasses, run.config.seed, speakers);
}

/** The clean classifier of one (attribute, protocol), shared by every obfuscator of a run (its checkpoint `clean-…`). */
export async function cleanClassifier(
  run: RunContext,
  d: DataStage,
  attr: string,
  protocol: AttackProtocol,
): Promise<{ sets: ReturnType<typeof protocolSets>; clean: Awaited<ReturnType<typeof classifier>> }> {
  const sets = protocolSets(d, attr, protocol);
  const tag = `${attr}-${protocol}`;
  const clean = await timed(run, `clean-${tag}`, () =>
    classifier(run, `clean-${tag}`, `clean ${attr} (${protocol})`, sets.train, sets.val, experimentInputs(d.data)),
  );
  return { sets, clean };
}

/**
 * The clean classifiers alone, without an obfuscator: what a sweep trains once for all its points, and
 * what its baselines (McAdams, ADR) are judged beside. The same checkpoints as attackStage's.
 */
export async function cleanStage(run: RunContext, d: DataStage): Promise<AttackStage> {
  const out: AttackStage = { clean: new Map(), informed: {} };
  for (const attr of run.spec.attacks.map(String))
    for (const protocol of attackedProtocols(d.protocols, attr)) {
      run.log(`[clean attackers] ${attr}, ${protocol}`);
      const { sets, clean } = await cleanClassifier(run, d, attr, protocol);
      out.clean.set(attackKey(attr, protocol), { attribute: attr, protocol, model: clean.model, test: sets.test });
    }
  return out;
}

/**
 * Every attacker of every protected attribute (not the speaker alone: see protocols). The clean classifiers
 * are shared by every obfuscator of a run; the informed ones' checkpoint names start with `prefix`. With
 * `target` (T), the task-output attackers too, where the informed ones run.
 */
export async function attackStage(
  run: RunContext,
  d: DataStage,
  dep: DeployStage,
  obf: Pick<ObfuscatorRun, 'deobfuscator'>,
  prefix = '',
  target?: DeepSpeech2,
): Promise<AttackStage> {
  const { config: c, spec } = run;
  const out: AttackStage = { clean: new Map(), informed: {} };
  run.report.attacks = [];
  const inTraining = inTrainingOutputs(obf.deobfuscator);
  const posteriors = new Map<string, Map<string, Float32Array>>(); // T's, by source ('clean' or a format), then id
  const taskOutput = (
    source: string,
    l: { train: LabelledSet; val: LabelledSet; test: LabelledSet },
    tag: string,
    speakers: readonly string[] | undefined,
  ): ClassScores => {
    const cache = posteriors.get(source) ?? new Map<string, Float32Array>();
    posteriors.set(source, cache);
    const seed = obfuscatorSeeds(c).informed;
    return taskOutputAttack(target!, l, { seed, bootstrapSeed: c.seed, speakers, stage: `task-output-${tag}`, cache });
  };
  for (const attr of spec.attacks.map(String)) {
    for (const protocol of attackedProtocols(d.protocols, attr)) {
      const informedHere = informedFormats(c.attack, d.protocols, attr, protocol);
      run.log(`[attacks] ${attr}, ${protocol}`);
      const { sets, clean } = await cleanClassifier(run, d, attr, protocol);
      const split = d.plan.splits[protocol]!;
      const speakers = protocolSpeakers(d, protocol, sets.test);
      const r: AttackResult = {
        attribute: attr,
        classes: classNames(d.data, attr),
        protocol,
        clean: score(run, clean.model, sets.test, speakers),
        cleanHistory: clean.history,
        formats: {},
        functionOfTask: isFunctionOf(
          [...split.train, ...split.test].map((id) => d.data.byId.get(id)!),
          attr,
          spec.task,
        ),
      };
      if (target !== undefined && informedHere.length)
        r.taskOutputClean = taskOutput('clean', sets, `${attr}-clean-${protocol}`, speakers);
      run.report.attacks.push(r);
      out.clean.set(attackKey(attr, protocol), { attribute: attr, protocol, model: clean.model, test: sets.test });
      for (const f of c.attack.formats) {
        const shipped = dep.shipped[f]!;
        const test = withSource(sets.test, shipped);
        const fa: FormatAttack = {
          ignorant: score(run, clean.model, test, speakers),
          inTraining: inTraining(f, test, (l, t) => score(run, clean.model, l, speakers, t)),
          inversion: {},
        };
        r.formats[f] = fa;
        if (!informedHere.includes(f)) continue;
        if (target !== undefined) {
          const l = { train: withSource(sets.train, shipped), val: withSource(sets.val, shipped), test };
          fa.taskOutput = taskOutput(f, l, `${attr}-${f}-${protocol}`, speakers);
        }
        const name = `${prefix}informed-${attr}-${f}-${protocol}`;
        const informed = await timed(run, name, () =>
          classifier(
            run,
            name,
            `informed ${attr} (${f}, ${protocol})`,
            withSource(sets.train, shipped),
            withSource(sets.val, shipped),
            experimentInputs(d.data, { shipped: path.basename(dep.cacheFile), format: f }),
            { ...c.attackerTrain, seed: obfuscatorSeeds(c).informed },
          ),
        );
        fa.informed = score(run, informed.model, test, speakers);
        fa.informedHistory = informed.history;
        const keep = prefix === '' && protocol === d.protocols[0] && f === 'frames' && c.edge.int8 !== 'none';
        if (keep) out.informed[attr] = { model: informed.model, test: sets.test };
        else informed.model.dispose();
      }
    }
  }
  return out;
}

/** The bytes of reconstructions inTrainingOutputs keeps (past them, F_μ runs inside predict again). */
const IN_TRAINING_CACHE_BYTES = 512 * 2 ** 20;

/**
 * The in-training attacker's scores: F_μ's reconstructions of the shipped test outputs, per format and
 * utterance, are computed once for every (attribute, protocol) that reads them, up to
 * IN_TRAINING_CACHE_BYTES; the same numbers as F_μ applied inside predict, which a larger corpus falls back to.
 */
function inTrainingOutputs(
  deobfuscator: CycleGanVc2Generator,
): (f: OutputFormat, l: LabelledSet, judge: (l: LabelledSet, t?: (x: Tensor) => Tensor) => ClassScores) => ClassScores {
  const byFormat = new Map<OutputFormat, SpecById>();
  const device = deviceOf(deobfuscator.parameters()[0]!);
  let bytes = 0;
  return (f, l, judge) => {
    const m = byFormat.get(f) ?? new Map<string, Float32Array>();
    byFormat.set(f, m);
    const missing = l.set.ids.flatMap((id, i) => (m.has(id) ? [] : [i]));
    const need = missing.reduce((n, i) => n + 4 * l.set.specs[i]!.length, 0);
    if (bytes + need > IN_TRAINING_CACHE_BYTES) return judge(l, (x) => deobfuscator.forward(x));
    for (const i of missing) {
      const y = noGrad(() => tidy(() => deobfuscator.forward(batchTo(utterance(l.set, i), device)).toFloat32Array()));
      m.set(l.set.ids[i]!, y);
      bytes += 4 * y.length;
    }
    return judge(withSource(l, m));
  };
}

/** Free the attack stage's models. */
export function disposeAttacks(a: AttackStage): void {
  for (const x of a.clean.values()) x.model.dispose();
  for (const x of Object.values(a.informed)) x.model.dispose();
}
