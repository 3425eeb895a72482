// Window-aware training (issue 14): an obfuscator trained on crops of cropFrames + 2M frames with its losses
// on the centre cropFrames deploys windows of that size with M frames of look-ahead.
import type { Tensor } from '../tensor/index.js';

/** The parts of ObfuscatorTrainConfig that fix the window. */
export interface WindowTrainConfig {
  cropFrames: number;
  /** M, frames of context on each side (0: the paper, the loss on the whole crop). */
  contextFrames: number;
}

/**
 * The window the obfuscator is deployed with: a window-aware one (contextFrames M > 0) deploys the window it
 * was trained for (cropFrames + 2M frames, M of look-ahead); otherwise the edge default (128 frames, M = 16).
 */
export function deployedWindow(c: WindowTrainConfig): { windowFrames: number; lookaheadFrames: number } {
  const m = c.contextFrames ?? 0;
  return m > 0
    ? { windowFrames: c.cropFrames + 2 * m, lookaheadFrames: m }
    : { windowFrames: 128, lookaheadFrames: 16 };
}

/** The centre `cropFrames` of a (B, F, cropFrames + 2·contextFrames) crop (the crop itself without context). */
export function centre(x: Tensor, c: WindowTrainConfig): Tensor {
  const m = c.contextFrames ?? 0;
  return m > 0 ? x.narrow(2, m, c.cropFrames) : x;
}

/**
 * Each crop normalised on its own, (x − mean)/std over all its values with the unbiased std floored at 1e-10:
 * the deployed per-window normalisation (edge/obfuscate.ts), which `cropNormalization: 'window'` trains with.
 * On crops of per-utterance normalised features this equals normalising the window's log1p|STFT| (affine
 * units cancel), so a short deployed window sees in training what it sees in the field.
 * @param x (B, F, L) crops
 */
export function windowNormalize(x: Tensor): Tensor {
  const mean = x.mean([1, 2], true);
  const std = x.std([1, 2], { unbiased: true, keepdim: true }).clamp(1e-10);
  return x.sub(mean).div(std);
}
