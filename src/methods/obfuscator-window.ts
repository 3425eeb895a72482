// Window-aware training (issue 14): an obfuscator trained for the window it is deployed with.
//   contextFrames M > 0: crops of cropFrames W + 2M frames, every loss on the centre W (one window).
//   windowsPerCrop k > 0 as well: the deployed windowed rule itself (edge/obfuscate.ts) on crops of k·W + 2M
//   frames: k windows of W + 2M frames, each normalised on its own, obfuscated, their centres W stitched, the
//   stitched k·W frames normalised as an app's front-end normalises what it re-analyses. The losses read the
//   stitched output, so T judges as many frames as it is trained on, however short the window: on a lone
//   window of 12 frames (W = 8, M = 2) T's per-step logits say little, and its statistics are far from the
//   utterance's.
import type { Tensor } from '../tensor/index.js'; // types only: the CLI loads this file without libtorch

/** The parts of ObfuscatorTrainConfig that fix the window. */
export interface WindowTrainConfig {
  cropFrames: number;
  /** M, frames of context on each side (0: the paper, the loss on the whole crop). */
  contextFrames: number;
  /** k, deployed windows stitched per training crop (0 or absent: one window, without the windowed rule). */
  windowsPerCrop?: number | undefined;
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

/** Frames of one training crop: k·W + 2M with stitched windows, else W + 2M. */
export function cropLength(c: WindowTrainConfig): number {
  return Math.max(1, c.windowsPerCrop ?? 0) * c.cropFrames + 2 * (c.contextFrames ?? 0);
}

/** The centre of a crop without its context (k·W or W frames): what the losses compare with. */
export function centre(x: Tensor, c: WindowTrainConfig): Tensor {
  const m = c.contextFrames ?? 0;
  return m > 0 ? x.narrow(2, m, x.size(2) - 2 * m) : x;
}
