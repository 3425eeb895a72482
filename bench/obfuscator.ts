// Opt-in obfuscator training speed: one full training step (deobfuscator step + obfuscator step through
// the frozen target) on a batch of 16 × 128 frames (1.28 s each), and the throughput it implies in
// seconds of audio per second, for the CPU demo preset and the paper's sizes.
import type { BenchRow } from './types.js';
import { manualSeed, noGrad, randn, tidy } from '../src/tensor/index.js';
import { CycleGanVc2Generator, CYCLEGAN_VC2_PRESETS, resolveCycleGanVc2Config } from '../src/models/cyclegan-vc2.js';
import { DeepSpeech2, DS2_PRESETS, resolveDeepSpeech2Config } from '../src/models/deepspeech2.js';
import { lossA } from '../src/methods/losses.js';
import { obfuscatorObjective } from '../src/methods/obfuscator.js';
import { Adam } from '../src/optim/index.js';
import { measure } from './format.js';

function step(name: string, obfPreset: string, deobfPreset: string, ds2: object, repeats: number): BenchRow[] {
  manualSeed(0);
  const target = new DeepSpeech2(resolveDeepSpeech2Config({ ...ds2, numClasses: 16 })).freeze();
  const obf = new CycleGanVc2Generator(resolveCycleGanVc2Config(CYCLEGAN_VC2_PRESETS[obfPreset]));
  const deobf = new CycleGanVc2Generator(resolveCycleGanVc2Config(CYCLEGAN_VC2_PRESETS[deobfPreset]));
  const optS = new Adam(obf.parameters(), { lr: 1e-3 });
  const optM = new Adam(deobf.parameters(), { lr: 1e-3 });
  const x = randn([16, 161, 128]);
  const cfg = { lambdaT: 1, lambdaP: 1, latentStage: 'conv2dto1d' as const };
  const t = measure(() => tidy(() => {
    const xt = noGrad(() => obf.forward(x));
    const la = lossA(deobf.forward(xt), x);
    optM.zeroGrad();
    la.backward();
    optM.step();
    deobf.requiresGrad_(false);
    const { ls } = obfuscatorObjective(target, obf, deobf, x, cfg);
    optS.zeroGrad();
    ls.backward();
    optS.step();
    deobf.requiresGrad_(true);
  }), { warmup: 1, repeats });
  for (const m of [target, obf, deobf]) m.dispose();
  optS.dispose();
  optM.dispose();
  x.dispose();
  const audio = 16 * 1.28;
  return [
    { section: 'obfuscator', name: `training step, 16 × 128 frames (${name})`, value: t.median * 1000, unit: 'ms', note: `best ${(t.best * 1000).toFixed(0)} ms` },
    { section: 'obfuscator', name: `training throughput (${name})`, value: audio / t.median, unit: 's audio / s' },
  ];
}

export async function benchObfuscator(): Promise<BenchRow[]> {
  return [
    ...step(`CPU preset: obf C=16 R=2, deobf C=32 R=3, DS2 ${DS2_PRESETS.cpu.rnnLayers}×${DS2_PRESETS.cpu.hiddenSize}`, 'cpu-obfuscator', 'cpu-deobfuscator', DS2_PRESETS.cpu, 5),
    ...step('paper sizes: obf C=32 R=3, deobf C=128 R=6, DS2 5×64', 'obfuscator', 'deobfuscator', DS2_PRESETS.paper, 1),
  ];
}
