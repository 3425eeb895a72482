// One rank (or the only process) of a tiny data-parallel opt-in training run, for
// test/distributed-optin.test.ts: the deobfuscator step then the obfuscator step against a frozen small
// DeepSpeech2 (src/methods/obfuscator.ts's step), with the gradients all-reduced in buckets, data sharded
// by DistributedSampler, per-sample crops from sampleRng, rank 0 writing a checkpoint at every epoch end,
// and resume. Writes <out>/init<R>.safetensors (after the broadcast) and <out>/rank<R>.safetensors (the end).
// argv[2]: JSON { out, steps, globalBatch, checkpoint?, resume?, bucketBytes? }
import path from 'node:path';
import {
  allReduceGradients,
  broadcastParameters,
  DistributedSampler,
  initProcessGroup,
  isDistributedEnv,
  onRank0,
  sampleRng,
  type ProcessGroup,
} from '../../src/distributed/index.js';
import { loadCheckpoint, saveCheckpoint } from '../../src/methods/checkpoint.js';
import { lossA } from '../../src/methods/losses.js';
import { obfuscatorObjective } from '../../src/methods/obfuscator.js';
import { CycleGanVc2Generator, resolveCycleGanVc2Config } from '../../src/models/cyclegan-vc2.js';
import { DeepSpeech2, resolveDeepSpeech2Config } from '../../src/models/deepspeech2.js';
import { SGD, clipGradNorm_ } from '../../src/optim/index.js';
import { saveSafetensorsSync } from '../../src/serialize/safetensors.js';
import { manualSeed, noGrad, tensor, tidy, type Tensor } from '../../src/tensor/index.js';
import { existsSync } from 'node:fs';

interface Config {
  out: string;
  steps: number;
  globalBatch: number;
  checkpoint?: string;
  resume?: boolean;
  bucketBytes?: number;
}
const cfg = JSON.parse(process.argv[2]!) as Config;

const N = 8; // utterances of 161 × 24 frames, cropped to 16
const FRAMES = 24;
const CROP = 16;
const SEED = 5;
const specs = Array.from({ length: N }, (_, i) =>
  Float32Array.from({ length: 161 * FRAMES }, (_, j) => Math.sin(0.3 * i + j * 0.011 * (1 + (i % 3)))),
);

/** (B, 161, CROP) crops of utterances `idx`, each at an offset drawn from its own per-sample stream. */
function batch(idx: readonly number[], epoch: number): Tensor {
  const out = new Float32Array(idx.length * 161 * CROP);
  idx.forEach((u, b) => {
    const start = sampleRng(SEED, epoch, u).int(FRAMES - CROP + 1);
    for (let r = 0; r < 161; r++)
      for (let t = 0; t < CROP; t++) out[(b * 161 + r) * CROP + t] = specs[u]![r * FRAMES + start + t]!;
  });
  return tensor(out, [idx.length, 161, CROP]);
}

async function main(): Promise<void> {
  const pg: ProcessGroup | null = isDistributedEnv() ? await initProcessGroup({ timeoutMs: 30_000 }) : null;
  const rank = pg?.rank ?? 0;
  const world = pg?.worldSize ?? 1;
  manualSeed(7); // the frozen target: the same everywhere
  const target = new DeepSpeech2(
    resolveDeepSpeech2Config({ numClasses: 3, convChannels: 2, rnnLayers: 1, hiddenSize: 8 }),
  ).freeze();
  manualSeed(100 + rank); // differs per rank on purpose: broadcastParameters must make rank 0's win (= one process's)
  const gen = resolveCycleGanVc2Config({ channels: 4, residualBlocks: 1 });
  const obf = new CycleGanVc2Generator(gen);
  const deobf = new CycleGanVc2Generator(gen);
  // the paper's SGD: Adam would turn the fp noise in the zero gradients of the conv biases that InstanceNorm
  // cancels into ±lr steps, which differ between any two runs (those biases never change the output)
  const optSigma = new SGD(obf.parameters(), { lr: 1e-2, momentum: 0.9 });
  const optMu = new SGD(deobf.parameters(), { lr: 1e-2, momentum: 0.9 });
  const parts = {
    modules: { obfuscator: obf, deobfuscator: deobf },
    optimizers: { obfuscator: optSigma, deobfuscator: optMu },
  };
  let st = { epoch: 0, step: 0 };
  if (cfg.resume && cfg.checkpoint !== undefined && existsSync(cfg.checkpoint))
    st = loadCheckpoint<typeof st>(cfg.checkpoint, parts);
  await broadcastParameters([obf, deobf], pg);
  const save = (file: string): void => {
    const weights = new Map<string, Tensor>();
    for (const [k, t] of obf.stateDict()) weights.set(`obfuscator.${k}`, t);
    for (const [k, t] of deobf.stateDict()) weights.set(`deobfuscator.${k}`, t);
    saveSafetensorsSync(file, weights);
  };
  save(path.join(cfg.out, `init${rank}.safetensors`));

  const sampler = new DistributedSampler({ size: N, rank, worldSize: world, seed: SEED });
  const perRank = cfg.globalBatch / world;
  const objective = { lambdaT: 1, lambdaP: 1, latentStage: 'conv2dto1d' as const };
  const reduce = (ps: Tensor[]): Promise<void> => allReduceGradients(ps, pg, { bucketBytes: cfg.bucketBytes });
  for (let epoch = st.epoch; st.step < cfg.steps; epoch++) {
    let whole = true;
    for (const idx of sampler.batches(epoch, perRank)) {
      if (st.step >= cfg.steps) {
        whole = false;
        break;
      }
      const x = batch(idx, epoch); // (B/W, 161, 16)
      // 1) deobfuscator step: X̃ constant
      const xt = noGrad(() => tidy(() => obf.forward(x)));
      tidy(() => {
        optMu.zeroGrad();
        lossA(deobf.forward(xt), x).backward();
      });
      xt.dispose();
      await reduce(deobf.parameters());
      clipGradNorm_(deobf.parameters(), 10);
      optMu.step();
      // 2) obfuscator step: T and F_μ frozen
      deobf.requiresGrad_(false);
      tidy(() => {
        optSigma.zeroGrad();
        obfuscatorObjective(target, obf, deobf, x, objective).ls.backward();
      });
      await reduce(obf.parameters());
      clipGradNorm_(obf.parameters(), 10);
      optSigma.step();
      deobf.requiresGrad_(true);
      x.dispose();
      st.step += 1;
    }
    if (whole) {
      // checkpoint at the end of every whole epoch, from rank 0
      st.epoch = epoch + 1;
      const file = cfg.checkpoint;
      if (file !== undefined) await onRank0(pg, () => saveCheckpoint(file, parts, st), 'the checkpoint');
    }
  }
  save(path.join(cfg.out, `rank${rank}.safetensors`));
  console.log(`rank ${rank} of ${world}: ${st.step} steps`);
  await pg?.destroy();
}

await main();
