// Multiply-adds of the CycleGAN-VC2 generator's convolutions (the bulk of its cost; norms, gates and
// reshapes are O(activations) and left out), for the benchmark's FLOPs-per-second-of-audio floor.
import type { GeneratorShape } from './export-obfuscator.js';

/**
 * FLOPs (2 × multiply-adds) of one forward over `frames` frames.
 * @example generatorFlops({ nFreq: 161, channels: 32, residualBlocks: 3 }, 100) // ≈ 1.07e9 (1 s of audio)
 */
export function generatorFlops(cfg: GeneratorShape, frames: number): number {
  const c = cfg.channels;
  const h = Math.ceil(cfg.nFreq / 4) * 4; // 164
  const t = Math.ceil(frames / 4) * 4;
  const conv = (cout: number, hw: number, cin: number, k: number): number => cout * hw * cin * k;
  let macs = 0;
  macs += 2 * conv(c / 2, h * t, 1, 5 * 15); // conv1 and its gate
  macs += 2 * conv(c, (h / 2) * (t / 2), c / 2, 25); // downSample1, both branches
  macs += 2 * conv(c, (h / 4) * (t / 4), c, 25); // downSample2
  macs += conv(c, t / 4, c * (h / 4), 1); // 2D → 1D
  macs += cfg.residualBlocks * (2 * conv(2 * c, t / 4, c, 3) + conv(c, t / 4, 2 * c, 3));
  macs += conv(c * (h / 4), t / 4, c, 1); // 1D → 2D
  macs += conv(4 * c, (h / 4) * (t / 4), c, 25); // upSample1 conv (before the shuffle)
  macs += conv(2 * c, (h / 2) * (t / 2), c, 25); // upSample2 conv
  macs += conv(1, h * t, c / 2, 5 * 15); // last conv
  return 2 * macs;
}
