// The deployed windowed rule inside training (obfuscator-window.ts explains the window; this file needs
// libtorch, which obfuscator-window.ts must not load: the CLI imports it to name a point's window).
import { cat, type Tensor } from '../tensor/index.js';
import { centre, type WindowTrainConfig } from './obfuscator-window.js';

/**
 * The obfuscated centre of crops `x` (B, F, k·W + 2M): with windowsPerCrop, the deployed windowed rule
 * (windows normalised on their own, centres stitched, the result normalised per crop); else the centre of
 * one forward over the whole crop.
 * @param forward the obfuscator's forward (B', F, L') → (B', F, L')
 */
export function obfuscateCrop(forward: (x: Tensor) => Tensor, x: Tensor, c: WindowTrainConfig): Tensor {
  const m = c.contextFrames ?? 0;
  const w = c.cropFrames;
  const k = Math.floor((x.size(2) - 2 * m) / w);
  if ((c.windowsPerCrop ?? 0) === 0 || m === 0 || k < 1) return centre(forward(x), c);
  const b = x.size(0);
  const windows = cat(
    Array.from({ length: k }, (_, j) => x.narrow(2, j * w, w + 2 * m)),
    0,
  ); // (k·B, F, W + 2M), window-major
  const kept = forward(windowNormalize(windows)).narrow(2, m, w); // (k·B, F, W)
  const stitched = cat(
    Array.from({ length: k }, (_, j) => kept.narrow(0, j * b, b)),
    2,
  ); // (B, F, k·W)
  return windowNormalize(stitched);
}

/**
 * Each crop normalised on its own, (x − mean)/std over all its values with the unbiased std floored at 1e-10:
 * the deployed per-window normalisation (edge/obfuscate.ts). On crops of per-utterance normalised features this
 * equals normalising the window's log1p|STFT| (affine units cancel).
 * @param x (B, F, L) crops
 */
export function windowNormalize(x: Tensor): Tensor {
  const mean = x.mean([1, 2], true);
  const std = x.std([1, 2], { unbiased: true, keepdim: true }).clamp(1e-10);
  return x.sub(mean).div(std);
}
