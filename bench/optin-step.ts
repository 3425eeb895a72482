// One opt-in training step as src/methods/obfuscator.ts runs it (the deobfuscator step, then the obfuscator
// step through the frozen target, each with zeroGrad, gradient clipping at 10 and a host sync), built on a
// device: shared by the bench's obfuscator section and the GPU check (bench/device-step.ts).
import { batchTo, manualSeed, noGrad, randn, tidy, type Tensor } from '../src/tensor/index.js';
import { CycleGanVc2Generator, CYCLEGAN_VC2_PRESETS, resolveCycleGanVc2Config } from '../src/models/cyclegan-vc2.js';
import { DeepSpeech2, DS2_PRESETS, resolveDeepSpeech2Config } from '../src/models/deepspeech2.js';
import { lossA } from '../src/methods/losses.js';
import { obfuscatorObjective } from '../src/methods/obfuscator.js';
import { Adam, SGD, clipGradNorm_ } from '../src/optim/index.js';

export interface StepSpec {
  /** CycleGAN-VC2 preset names of the obfuscator and deobfuscator, and the DS2 preset. */
  obf: string;
  deobf: string;
  ds2: 'paper' | 'cpu';
  /** Adam 1e-3 (the CPU preset's choice) or SGD 1e-2 with momentum 0.9 (the paper's). */
  optimizer: 'adam' | 'sgd';
}

export const BATCH = 16;
export const FRAMES = 128;
export const MAX_NORM = 10; // OBFUSCATOR_TRAIN_DEFAULTS.maxNorm

/** A built step: `once()` runs one (ending in a host sync through item()), `dispose()` frees everything. */
export interface OptinStep {
  once(): void;
  dispose(): void;
  lr: number;
}

/**
 * Build the models, optimisers and a random 16 × 161 × 128 batch on `device` (seeded, so every build of a
 * spec starts from the same weights).
 * @example const s = optinStep({ obf: 'obfuscator', deobf: 'deobfuscator', ds2: 'paper', optimizer: 'sgd' }, 'cuda');
 */
export function optinStep(s: StepSpec, device = 'cpu'): OptinStep {
  manualSeed(0);
  const target = new DeepSpeech2(resolveDeepSpeech2Config({ ...DS2_PRESETS[s.ds2], numClasses: 16 })).freeze();
  const obf = new CycleGanVc2Generator(resolveCycleGanVc2Config(CYCLEGAN_VC2_PRESETS[s.obf]));
  const deobf = new CycleGanVc2Generator(resolveCycleGanVc2Config(CYCLEGAN_VC2_PRESETS[s.deobf]));
  for (const m of [target, obf, deobf]) m.to(device);
  const lr = s.optimizer === 'adam' ? 1e-3 : 1e-2;
  const make = (ps: Tensor[]): Adam | SGD =>
    s.optimizer === 'adam' ? new Adam(ps, { lr }) : new SGD(ps, { lr, momentum: 0.9 });
  const optS = make(obf.parameters());
  const optM = make(deobf.parameters());
  const host = randn([BATCH, 161, FRAMES]);
  const x = batchTo(host, device);
  host.dispose();
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
  const dispose = (): void => {
    for (const m of [target, obf, deobf]) m.dispose();
    optS.dispose();
    optM.dispose();
    x.dispose();
  };
  return { once, dispose, lr };
}
