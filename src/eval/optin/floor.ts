// The task-output floor over several splits (issue 14, item 5): what T's own posteriors on clean audio reveal of
// each protected attribute, before any obfuscator is trained. An obfuscator that keeps T's posterior, as L_t asks,
// leaks at least this much to an app that holds T, so the floor says whether "below clean" is reachable at all.
// With few test voices one split cannot tell; each split seed holds out other voices, and the folds pooled
// (their test utterances together, intervals resampling voices) give a floor over more of them.
//   per split seed   the experiment's data stage, T and the clean classifiers, in <runDir>/split-<seed>/ (resumed)
//   per attribute    on its primary protocol: the clean classifier and the task-output attacker on clean test audio
//   pooled           every fold's test predictions together, scored once; the verdict compares the intervals
import path from 'node:path';
import type { AmpDtype } from '../../tensor/index.js';
import { predict } from '../../methods/classifier.js';
import { writeFileAtomicSync } from '../../util/atomic.js';
import { scoreClassification } from '../metrics.js';
import { attackedProtocols, cleanClassifier, protocolSpeakers } from './attacks.js';
import { EXPERIMENTS, obfuscatorSeeds, type ExperimentConfig } from './config.js';
import { createRunContext } from './run.js';
import { dataStage, targetStage } from './stages.js';
import { taskOutputPredictions } from './task-output.js';
import { floorMarkdown, pct, type FloorFold, type FloorPooled, type FloorReport } from './floor-table.js';

export { floorMarkdown, type FloorFold, type FloorPooled, type FloorReport } from './floor-table.js';

export interface FloorOptions {
  /** The experiment (fig3a, fig3b, fig4) and its dataset; `dataset.splitSeed` is replaced by each of `splitSeeds`. */
  config: ExperimentConfig;
  /** Where each split's stages go (split-<seed>/) and report.json and floor.md. */
  runDir: string;
  splitSeeds: readonly number[];
  /** Continue from the checkpoints in runDir (default true). */
  resume?: boolean;
  log?: (line: string) => void;
  device?: string;
  /** Mixed precision of the trainers (as runExperiment's). */
  amp?: AmpDtype | null;
}

/** One attribute's test predictions over the folds: the clean classifier's, the floor's, the labels, the voices. */
interface Pool {
  attribute: string;
  protocol: string;
  k: number;
  pred: number[];
  floor: number[];
  labels: number[];
  speakers: string[] | undefined;
}

/**
 * The task-output floor of every protected attribute of `config.experiment`, per split seed and pooled.
 * @example const r = await taskOutputFloor({ config, runDir: 'runs/floor-fig4', splitSeeds: [0, 1, 2, 3] });
 */
export async function taskOutputFloor(o: FloorOptions): Promise<FloorReport> {
  const log = o.log ?? ((l: string) => console.error(l));
  const folds: FloorFold[] = [];
  // every fold's test predictions by attribute, pooled below; speakers only while every fold has them (speaker-disjoint)
  const kept = new Map<string, Pool>();
  for (const [i, splitSeed] of o.splitSeeds.entries()) {
    log(`[floor] split ${splitSeed} (${i + 1} of ${o.splitSeeds.length})`);
    const config = { ...o.config, dataset: { ...o.config.dataset, splitSeed } };
    const run = createRunContext({
      config,
      runDir: path.join(o.runDir, `split-${splitSeed}`),
      resume: o.resume,
      log,
      device: o.device,
      amp: o.amp,
    });
    const d = await dataStage(run);
    const t = await targetStage(run, d);
    try {
      for (const attr of run.spec.attacks.map(String)) {
        const protocol = attackedProtocols(d.protocols, attr)[0]!;
        const { sets, clean } = await cleanClassifier(run, d, attr, protocol);
        try {
          const speakers = protocolSpeakers(d, protocol, sets.test);
          const seed = obfuscatorSeeds(config).informed;
          const stage = `task-output-${attr}-clean-${protocol}`;
          const floor = taskOutputPredictions(t.model, sets, { seed, bootstrapSeed: config.seed, speakers, stage });
          const pred = predict(clean.model, sets.test.set);
          const k = sets.test.numClasses;
          const fold: FloorFold = {
            splitSeed,
            attribute: attr,
            protocol,
            testSpeakers: speakers ? [...new Set(speakers)].sort() : [],
            target: run.report.target!.clean,
            clean: scoreClassification(pred, sets.test.labels, k, config.seed, speakers),
            floor: scoreClassification(floor, sets.test.labels, k, config.seed, speakers),
          };
          folds.push(fold);
          const all = kept.get(`${attr}/${protocol}`) ?? {
            attribute: attr,
            protocol,
            k,
            pred: [],
            floor: [],
            labels: [],
            speakers: [],
          };
          all.pred.push(...pred);
          all.floor.push(...floor);
          all.labels.push(...sets.test.labels);
          // a voice held out in two folds is one cluster: the pooled interval does not count it twice
          all.speakers = speakers && all.speakers ? [...all.speakers, ...speakers] : undefined;
          kept.set(`${attr}/${protocol}`, all);
          log(`[floor] split ${splitSeed}, ${attr}: clean ${pct(fold.clean)}, T's posteriors ${pct(fold.floor)}`);
        } finally {
          clean.model.dispose();
        }
      }
    } finally {
      t.model.dispose();
    }
  }
  const seed = o.config.seed;
  const pooled: FloorPooled[] = [...kept.values()].map((a) => {
    const clean = scoreClassification(a.pred, a.labels, a.k, seed, a.speakers);
    const floor = scoreClassification(a.floor, a.labels, a.k, seed, a.speakers);
    const verdict = floor.accuracyCI.hi < clean.accuracyCI.lo ? 'below clean' : 'not below clean';
    return { attribute: a.attribute, protocol: a.protocol, folds: o.splitSeeds.length, clean, floor, verdict };
  });
  const report: FloorReport = {
    format: 'earmark-floor-report',
    version: 1,
    experiment: o.config.experiment,
    task: String(EXPERIMENTS[o.config.experiment].task),
    dataset: o.config.dataset.manifest || o.config.dataset.root,
    splitSeeds: [...o.splitSeeds],
    folds,
    pooled,
    createdAt: new Date().toISOString(),
  };
  writeFileAtomicSync(path.join(o.runDir, 'report.json'), JSON.stringify(report, null, 1));
  writeFileAtomicSync(path.join(o.runDir, 'floor.md'), floorMarkdown(report));
  return report;
}
