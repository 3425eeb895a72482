// One rank of bench/distributed.ts's measurement: opt-in training steps at the CPU preset with a fixed
// global batch, split over the ranks, gradients all-reduced in buckets over Gloo. Rank 0 prints one JSON
// line { stepMs, reduceMs } (medians over the timed steps; all ranks are in step after every reduce).
// argv[2]: JSON { globalBatch, frames, warmup, steps }
import { allReduceGradients, initProcessGroup, isDistributedEnv, type ProcessGroup } from '../src/distributed/index.js';
import { lossA } from '../src/methods/losses.js';
import { obfuscatorObjective } from '../src/methods/obfuscator.js';
import { CYCLEGAN_VC2_PRESETS, CycleGanVc2Generator, resolveCycleGanVc2Config } from '../src/models/cyclegan-vc2.js';
import { DeepSpeech2, DS2_PRESETS, resolveDeepSpeech2Config } from '../src/models/deepspeech2.js';
import { SGD } from '../src/optim/index.js';
import { manualSeed, noGrad, randn, tidy, type Tensor } from '../src/tensor/index.js';
import { median } from './format.js';

const cfg = JSON.parse(process.argv[2]!) as { globalBatch: number; frames: number; warmup: number; steps: number };
const pg: ProcessGroup | null = isDistributedEnv() ? await initProcessGroup({ timeoutMs: 120_000 }) : null;
const world = pg?.worldSize ?? 1;
manualSeed(0);
const target = new DeepSpeech2(resolveDeepSpeech2Config({ ...DS2_PRESETS.cpu, numClasses: 16 })).freeze();
const obf = new CycleGanVc2Generator(resolveCycleGanVc2Config(CYCLEGAN_VC2_PRESETS['cpu-obfuscator']));
const deobf = new CycleGanVc2Generator(resolveCycleGanVc2Config(CYCLEGAN_VC2_PRESETS['cpu-deobfuscator']));
const optS = new SGD(obf.parameters(), { lr: 1e-2, momentum: 0.9 });
const optM = new SGD(deobf.parameters(), { lr: 1e-2, momentum: 0.9 });
const x = randn([cfg.globalBatch / world, 161, cfg.frames]);
const objective = { lambdaT: 1, lambdaP: 1, latentStage: 'conv2dto1d' as const };

let reduceNs = 0n;
async function reduce(ps: Tensor[]): Promise<void> {
  const t0 = process.hrtime.bigint();
  await allReduceGradients(ps, pg);
  reduceNs += process.hrtime.bigint() - t0;
}

const stepMs: number[] = [];
const reduceMs: number[] = [];
for (let i = 0; i < cfg.warmup + cfg.steps; i++) {
  reduceNs = 0n;
  const t0 = process.hrtime.bigint();
  const xt = noGrad(() => tidy(() => obf.forward(x)));
  tidy(() => {
    optM.zeroGrad();
    lossA(deobf.forward(xt), x).backward();
  });
  xt.dispose();
  await reduce(deobf.parameters());
  optM.step();
  deobf.requiresGrad_(false);
  tidy(() => {
    optS.zeroGrad();
    obfuscatorObjective(target, obf, deobf, x, objective).ls.backward();
  });
  await reduce(obf.parameters());
  optS.step();
  deobf.requiresGrad_(true);
  if (i >= cfg.warmup) {
    stepMs.push(Number(process.hrtime.bigint() - t0) / 1e6);
    reduceMs.push(Number(reduceNs) / 1e6);
  }
}
if ((pg?.rank ?? 0) === 0) console.log(JSON.stringify({ stepMs: median(stepMs), reduceMs: median(reduceMs) }));
await pg?.destroy();
