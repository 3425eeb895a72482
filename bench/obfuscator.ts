// Opt-in training speed (issue 15): one full training step as src/methods/obfuscator.ts runs it (the
// deobfuscator step, then the obfuscator step through the frozen target, each with zeroGrad, gradient
// clipping at 10 and a host sync) on a batch of 16 × 161 × 128 (16 crops of 1.28 s), with Adam and with
// SGD, at the paper's sizes and at the CPU preset, beside eager PyTorch doing the same step
// (bench/peers/training.py) alternately in this run.
import type { BenchRow } from './types.js';
import { DS2_PRESETS } from '../src/models/deepspeech2.js';
import { formatValue } from './format.js';
import { BATCH, FRAMES, MAX_NORM, optinStep, type StepSpec } from './optin-step.js';
import { timeRow, versus } from './peer.js';

async function step(s: StepSpec & { label: string; repeats: number }): Promise<BenchRow[]> {
  const { once, dispose, lr } = optinStep(s);
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
  dispose();
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
