// A scrolling spectrogram on a canvas: one column per 10 ms frame, low frequencies at the bottom, a
// perceptual colour map over [0, running maximum] of log1p|STFT|. Used by the sensor frame (before and
// after) and by the demo app (what it received).

/** Viridis-like ramp, 5 stops. */
const STOPS: [number, number, number][] = [
  [68, 1, 84],
  [59, 82, 139],
  [33, 145, 140],
  [94, 201, 98],
  [253, 231, 37],
];

function colour(v: number): [number, number, number] {
  const x = Math.min(1, Math.max(0, v)) * (STOPS.length - 1);
  const i = Math.min(STOPS.length - 2, Math.floor(x));
  const f = x - i;
  const a = STOPS[i]!;
  const b = STOPS[i + 1]!;
  return [a[0] + f * (b[0] - a[0]), a[1] + f * (b[1] - a[1]), a[2] + f * (b[2] - a[2])];
}

/**
 * @example const v = new SpectrogramView(canvas); v.push(frames, count); // frames: (count, 161)
 */
export class SpectrogramView {
  readonly #ctx: CanvasRenderingContext2D;
  readonly #nFreq: number;
  #max = 1;

  constructor(canvas: HTMLCanvasElement, nFreq = 161) {
    const ctx = canvas.getContext('2d');
    if (ctx === null) throw new Error('no 2D canvas context');
    this.#ctx = ctx;
    this.#nFreq = nFreq;
    ctx.fillStyle = 'rgb(68, 1, 84)';
    ctx.fillRect(0, 0, canvas.width, canvas.height);
  }

  /** Scroll left by `count` columns and draw the new frames ((count, nFreq) row-major) at the right. */
  push(frames: Float32Array, count: number): void {
    if (count <= 0) return;
    const ctx = this.#ctx;
    const { width: w, height: h } = ctx.canvas;
    const cols = Math.min(count, w);
    const start = count - cols;
    let peak = 0;
    for (let i = start * this.#nFreq; i < frames.length; i++) peak = Math.max(peak, frames[i]!);
    this.#max = Math.max(0.98 * this.#max, peak, 1e-3);
    ctx.drawImage(ctx.canvas, cols, 0, w - cols, h, 0, 0, w - cols, h);
    const img = ctx.createImageData(cols, h);
    for (let c = 0; c < cols; c++) {
      const base = (start + c) * this.#nFreq;
      for (let y = 0; y < h; y++) {
        const k = Math.floor(((h - 1 - y) / h) * this.#nFreq);
        const [r, g, b] = colour(frames[base + k]! / this.#max);
        const o = 4 * (y * cols + c);
        img.data[o] = r;
        img.data[o + 1] = g;
        img.data[o + 2] = b;
        img.data[o + 3] = 255;
      }
    }
    ctx.putImageData(img, w - cols, 0);
  }
}
