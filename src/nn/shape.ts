// Parameter-free rearrangements as layers: PixelShuffle, PixelUnshuffle, Flatten, Identity.
import type { Tensor } from '../tensor/index.js';
import { checkInt, checkRank } from './args.js';
import { pixelShuffle, pixelUnshuffle } from './functional.js';
import { Module, type Layer } from './module.js';

/**
 * (N, C·r², H, W) → (N, C, H·r, W·r), as torch.nn.PixelShuffle.
 * @example new PixelShuffle(2).forward(x) // x: (1, 8, 5, 5) → (1, 2, 10, 10)
 */
export class PixelShuffle extends Module implements Layer {
  readonly upscaleFactor: number;
  constructor(upscaleFactor: number) {
    super();
    this.upscaleFactor = checkInt('PixelShuffle', 'upscaleFactor', upscaleFactor);
  }

  forward(x: Tensor): Tensor {
    checkRank('PixelShuffle', x.shape, [3, 4, 5], '(*, C·r², H, W)');
    const c = x.size(-3);
    if (c % this.upscaleFactor ** 2 !== 0) {
      throw new RangeError(
        `PixelShuffle: input channels ${c} (shape [${x.shape.join(', ')}]) must be divisible by 'upscaleFactor'² = ${this.upscaleFactor ** 2}`,
      );
    }
    return pixelShuffle(x, this.upscaleFactor);
  }
}

/** (N, C, H·r, W·r) → (N, C·r², H, W), the inverse of PixelShuffle. */
export class PixelUnshuffle extends Module implements Layer {
  readonly downscaleFactor: number;
  constructor(downscaleFactor: number) {
    super();
    this.downscaleFactor = checkInt('PixelUnshuffle', 'downscaleFactor', downscaleFactor);
  }

  forward(x: Tensor): Tensor {
    return pixelUnshuffle(x, this.downscaleFactor);
  }
}

/** Merge dims startDim..endDim (default 1..−1): (N, C, H, W) → (N, C·H·W). */
export class Flatten extends Module implements Layer {
  constructor(
    readonly startDim = 1,
    readonly endDim = -1,
  ) {
    super();
    if (!Number.isInteger(startDim)) throw new TypeError(`Flatten: 'startDim' must be an integer, got ${startDim}`);
    if (!Number.isInteger(endDim)) throw new TypeError(`Flatten: 'endDim' must be an integer, got ${endDim}`);
  }

  forward(x: Tensor): Tensor {
    return x.flatten(this.startDim, this.endDim);
  }
}

/** Returns its input (a placeholder where a layer is optional). */
export class Identity extends Module implements Layer {
  forward(x: Tensor): Tensor {
    return x;
  }
}
