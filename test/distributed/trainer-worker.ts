// One rank (or the only process) of the real trainers under data parallelism, for
// test/distributed-trainers.test.ts: trainObfuscator (or trainClassifier, with its BatchNorm) on a tiny
// in-memory set, with the process group from torchrun's variables when they are set, rank 0 writing the
// checkpoint, and resume. Writes <out>/rank<R>.safetensors (the returned networks) and prints one JSON line
// 'history <json>' on rank 0 (onEpoch is called there only).
// argv[2]: JSON { out, trainer: 'obfuscator' | 'classifier', epochs, batchSize, checkpoint?, resume?, amp? }
import path from 'node:path';
import { initProcessGroup, isDistributedEnv } from '../../src/distributed/index.js';
import type { LabelledSet, SpecSet } from '../../src/data/spec-set.js';
import { resolveClassifierTrainConfig, trainClassifier } from '../../src/methods/classifier.js';
import { resolveObfuscatorTrainConfig, trainObfuscator } from '../../src/methods/obfuscator.js';
import { resolveCycleGanVc2Config } from '../../src/models/cyclegan-vc2.js';
import { DeepSpeech2, resolveDeepSpeech2Config } from '../../src/models/deepspeech2.js';
import type { Module } from '../../src/nn/index.js';
import { saveSafetensorsSync } from '../../src/serialize/safetensors.js';
import { manualSeed, type AmpDtype, type Tensor } from '../../src/tensor/index.js';

interface Config {
  out: string;
  trainer: 'obfuscator' | 'classifier';
  epochs: number;
  batchSize: number;
  checkpoint?: string;
  resume?: boolean;
  amp?: AmpDtype;
}
const cfg = JSON.parse(process.argv[2]!) as Config;

const FRAMES = 24; // utterances of 161 × 24 frames, cropped to 16
function specSet(n: number, phase: number): SpecSet {
  const specs = Array.from({ length: n }, (_, i) =>
    Float32Array.from({ length: 161 * FRAMES }, (_, j) => Math.sin(phase + 0.3 * i + j * 0.011 * (1 + (i % 3)))),
  );
  return { ids: specs.map((_, i) => `u${phase}-${i}`), specs, frames: specs.map(() => FRAMES), nFreq: 161 };
}
const labelled = (s: SpecSet): LabelledSet => ({ set: s, labels: s.ids.map((_, i) => i % 3), numClasses: 3 });
const ds2 = resolveDeepSpeech2Config({ numClasses: 3, convChannels: 2, rnnLayers: 1, hiddenSize: 8 });

function save(file: string, modules: Record<string, Module>): void {
  const weights = new Map<string, Tensor>();
  for (const [name, m] of Object.entries(modules)) for (const [k, t] of m.stateDict()) weights.set(`${name}.${k}`, t);
  saveSafetensorsSync(file, weights);
}

async function main(): Promise<void> {
  const pg = isDistributedEnv() ? await initProcessGroup({ timeoutMs: 30_000 }) : null;
  const rank = pg?.rank ?? 0;
  const history: unknown[] = [];
  const common = {
    device: 'cpu',
    amp: cfg.amp ?? null,
    processGroup: pg,
    resume: cfg.resume ?? false,
    quiet: true,
    onEpoch: (e: unknown) => history.push(e),
    ...(cfg.checkpoint === undefined ? {} : { checkpointPath: cfg.checkpoint }),
  };
  const out = path.join(cfg.out, `rank${rank}.safetensors`);
  if (cfg.trainer === 'obfuscator') {
    manualSeed(7); // the frozen target: the same on every rank
    const target = new DeepSpeech2(ds2);
    const gen = resolveCycleGanVc2Config({ channels: 4, residualBlocks: 1 });
    const config = resolveObfuscatorTrainConfig({
      epochs: cfg.epochs,
      batchSize: cfg.batchSize,
      cropFrames: 16,
      selection: 'last',
      seed: 5,
      identityWarmupSteps: 1,
    }); // the data-parallel identity warm-up too
    const run = await trainObfuscator({
      ...common,
      target,
      obfuscatorConfig: gen,
      deobfuscatorConfig: gen,
      train: specSet(12, 0),
      val: labelled(specSet(2, 1)),
      config,
    });
    save(out, { obfuscator: run.obfuscator, deobfuscator: run.deobfuscator });
    for (const m of [target, run.obfuscator, run.deobfuscator]) m.dispose();
  } else {
    const config = resolveClassifierTrainConfig({
      epochs: cfg.epochs,
      batchSize: cfg.batchSize,
      cropFrames: 16,
      optimizer: 'sgd',
      lr: 1e-2,
      seed: 5,
    });
    const run = await trainClassifier({
      ...common,
      name: 'T',
      modelConfig: ds2,
      train: labelled(specSet(12, 0)),
      val: labelled(specSet(3, 1)),
      config,
    });
    save(out, { model: run.model });
    run.model.dispose();
  }
  if (rank === 0) console.log(`history ${JSON.stringify(history)}`);
  await pg?.destroy();
}

await main();
