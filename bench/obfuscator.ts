// Opt-in training speed (issue 15): one full training step as src/methods/obfuscator.ts runs it (the
// deobfuscator step, then the obfuscator step through the frozen target, each with zeroGrad, gradient
// clipping at 10 and a host sync) on a batch of 16 × 161 × 128 (16 crops of 1.28 s), with Adam and with
// SGD, at the paper's sizes and at the CPU preset, beside eager PyTorch doing the same step
// (bench/peers/training.py) alternately in this run.
import type { BenchRow } from './types.js';
import { manualSeed, noGrad, randn, tidy, type Tensor } from '../src/tensor/index.js';
import { CycleGanVc2Generator, CYCLEGAN_VC2_PRESETS, resolveCycleGanVc2Config } from '../src/models/cyclegan-vc2.js';
import { DeepSpeech2, DS2_PRESETS, resolveDeepSpeech2Config } from '../src/models/deepspeech2.js';
import { lossA } from '../src/methods/losses.js';
import { obfuscatorObjective } from '../src/methods/obfuscator.js';
import { Adam, SGD, clipGradNorm_ } from '../src/optim/index.js';
import { formatValue } from './format.js';
import { timeRow, versus } from './peer.js';

interface StepSpec {
  label: string;
  obf: string;
  deobf: string;
  ds2: 'paper' | 'cpu';
  optimizer: 'adam' | 'sgd';
  repeats: number;
}

const BATCH = 16;
const FRAMES = 128;
const MAX_NORM = 10; // OBFUSCATOR_TRAIN_DEFAULTS.maxNorm

async function step(s: StepSpec): Promise<BenchRow[]> {
  manualSeed(0);
  const target = new DeepSpeech2(resolveDeepSpeech2Config({ ...DS2_PRESETS[s.ds2], numClasses: 16 })).freeze();
  const obf = new CycleGanVc2Generator(resolveCycleGanVc2Config(CYCLEGAN_VC2_PRESETS[s.obf]));
  const deobf = new CycleGanVc2Generator(resolveCycleGanVc2Config(CYCLEGAN_VC2_PRESETS[s.deobf]));
  // Adam 1e-3 (the CPU preset's choice) or SGD 1e-2 with momentum 0.9 (the paper's)
  const lr = s.optimizer === 'adam' ? 1e-3 : 1e-2;
  const make = (ps: Tensor[]): Adam | SGD =>
    s.optimizer === 'adam' ? new Adam(ps, { lr }) : new SGD(ps, { lr, momentum: 0.9 });
  const optS = make(obf.parameters());
  const optM = make(deobf.parameters());
  const x = randn([BATCH, 161, FRAMES]);
  const cfg = { lambdaT: 1, lambdaP: 1, latentStage: 'conv2dto1d' as const };
  const once = (): void => {
    const xt = noGrad(() => tidy(() => obf.forward(x)));
    tidy(() => {
      // 1) deobfuscator step
      const la = lossA(deobf.forward(xt), x);
      optM.zeroGrad();
      la.backward();
      clipGradNorm_(deobf.parameters(), MAX_NORM);
      optM.step();
      return la.item();
    });
    xt.dispose();
    deobf.requiresGrad_(false);
    tidy(() => {
      // 2) obfuscator step
      const { ls, lt, lp } = obfuscatorObjective(target, obf, deobf, x, cfg);
      optS.zeroGrad();
      ls.backward();
      clipGradNorm_(obf.parameters(), MAX_NORM);
      optS.step();
      return [lt.item(), lp.item()];
    });
    deobf.requiresGrad_(true);
  };
  const peerCase = {
    case: 'training.optin_step',
    args: {
      obf: s.obf,
      deobf: s.deobf,
      ds2: s.ds2,
      optimizer: s.optimizer,
      lr,
      momentum: 0.9,
      max_norm: MAX_NORM,
      batch: BATCH,
      frames: FRAMES,
    },
  };
  const v = await versus(once, peerCase, { warmup: 1, repeats: s.repeats });
  for (const m of [target, obf, deobf]) m.dispose();
  optS.dispose();
  optM.dispose();
  x.dispose();
  const audio = BATCH * 1.28;
  return [
    timeRow(
      'obfuscator',
      `training step, 16 × 128 frames (${s.label}, ${s.optimizer === 'adam' ? 'Adam' : 'SGD'})`,
      v,
      'ms',
      1e3,
      { note: `best ${formatValue(v.earmark.best * 1e3)} ms; ${formatValue(audio / v.earmark.median)} s audio / s` },
    ),
  ];
}

export async function benchObfuscator(): Promise<BenchRow[]> {
  const cpu = `CPU preset: obf C=16 R=2, deobf C=32 R=3, DS2 ${DS2_PRESETS.cpu.rnnLayers}×${DS2_PRESETS.cpu.hiddenSize}`;
  const paper = 'paper sizes: obf C=32 R=3, deobf C=128 R=6, DS2 5×64';
  const rows: BenchRow[] = [];
  for (const optimizer of ['adam', 'sgd'] as const) {
    rows.push(
      ...(await step({
        label: cpu,
        obf: 'cpu-obfuscator',
        deobf: 'cpu-deobfuscator',
        ds2: 'cpu',
        optimizer,
        repeats: 5,
      })),
    );
  }
  for (const optimizer of ['adam', 'sgd'] as const) {
    rows.push(
      ...(await step({ label: paper, obf: 'obfuscator', deobf: 'deobfuscator', ds2: 'paper', optimizer, repeats: 3 })),
    );
  }
  return rows;
}
