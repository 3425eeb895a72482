// The complex FFT of the edge path (no libtorch): radix-2 and 5·2^k fast paths, a direct DFT otherwise.

/**
 * Complex FFT plan for one length. n = 2^k or 5·2^k (DS2's 320 = 5·64) takes the fast path: five
 * iterative radix-2 transforms of the decimated input, then one radix-5 combination, all on
 * preallocated buffers with precomputed twiddles; any other n falls back to a direct O(n²) DFT.
 */
export class Fft {
  readonly n: number;
  readonly #p: number; // 5 or 1
  readonly #m: number; // power of two
  readonly #rev: Uint32Array;
  readonly #cos: Float64Array; // cos(2πk/n), k < n
  readonly #sin: Float64Array;
  readonly #bufRe: Float64Array;
  readonly #bufIm: Float64Array;
  /** Radix-5 twiddles W_n^(q·k) at [q·m + k], q < 5, k < m. */
  readonly #tw5r: Float64Array;
  readonly #tw5i: Float64Array;

  constructor(n: number) {
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`'n' must be a positive integer, got ${n}`);
    this.n = n;
    const pow2 = (x: number): boolean => (x & (x - 1)) === 0;
    this.#p = pow2(n) ? 1 : n % 5 === 0 && pow2(n / 5) ? 5 : 0;
    this.#m = this.#p ? n / this.#p : 0;
    const m = this.#m;
    const bits = m > 1 ? Math.log2(m) : 0;
    this.#rev = new Uint32Array(m);
    for (let i = 0; i < m; i++) {
      let r = 0;
      for (let b = 0; b < bits; b++) r |= ((i >> b) & 1) << (bits - 1 - b);
      this.#rev[i] = r;
    }
    this.#cos = Float64Array.from({ length: n }, (_, k) => Math.cos((2 * Math.PI * k) / n));
    this.#sin = Float64Array.from({ length: n }, (_, k) => Math.sin((2 * Math.PI * k) / n));
    this.#bufRe = new Float64Array(n);
    this.#bufIm = new Float64Array(n);
    const five = this.#p === 5 ? 5 * m : 0;
    this.#tw5r = Float64Array.from({ length: five }, (_, i) => this.#cos[(Math.floor(i / m) * (i % m)) % n]!);
    this.#tw5i = Float64Array.from({ length: five }, (_, i) => this.#sin[(Math.floor(i / m) * (i % m)) % n]!);
  }

  /** Forward DFT X[k] = Σ x[j]·e^(−2πijk/n), in place over (re, im). `inverse` uses e^(+…) (no 1/n). */
  transform(re: Float64Array, im: Float64Array, inverse = false): void {
    const n = this.n;
    const sg = inverse ? 1 : -1; // e^(sg·2πi·k/n) = cos + i·sg·sin
    const cos = this.#cos;
    const sin = this.#sin;
    const br = this.#bufRe;
    const bi = this.#bufIm;
    if (this.#p === 0) {
      for (let k = 0; k < n; k++) {
        let sr = 0;
        let si = 0;
        for (let j = 0; j < n; j++) {
          const idx = (j * k) % n;
          const c = cos[idx]!;
          const s = sg * sin[idx]!;
          sr += re[j]! * c - im[j]! * s;
          si += re[j]! * s + im[j]! * c;
        }
        br[k] = sr;
        bi[k] = si;
      }
      re.set(br);
      im.set(bi);
      return;
    }
    const p = this.#p;
    const m = this.#m;
    // 1) p radix-2 FFTs of length m over x[p·j + q], stored at [q·m, (q+1)·m) in bit-reversed order
    for (let q = 0; q < p; q++) {
      const o = q * m;
      for (let j = 0; j < m; j++) {
        const r = this.#rev[j]!;
        br[o + r] = re[p * j + q]!;
        bi[o + r] = im[p * j + q]!;
      }
      // sizes 2 and 4 need no twiddle products (W = 1 and W = ∓i)
      if (m >= 2) for (let a = o; a < o + m; a += 2) butterfly(br, bi, a, a + 1, br[a + 1]!, bi[a + 1]!);
      if (m >= 4)
        for (let a = o; a < o + m; a += 4) {
          // t = 0: W = 1; t = 1: W = e^(sg·iπ/2) = sg·i
          butterfly(br, bi, a, a + 2, br[a + 2]!, bi[a + 2]!);
          butterfly(br, bi, a + 1, a + 3, -sg * bi[a + 3]!, sg * br[a + 3]!);
        }
      for (let size = 8; size <= m; size <<= 1) {
        const half = size >> 1;
        const step = n / size; // twiddle W_size^t = W_n^(t·step)
        for (let start = 0; start < m; start += size) {
          for (let t = 0; t < half; t++) {
            const c = cos[t * step]!;
            const s = sg * sin[t * step]!;
            const a = o + start + t;
            const b = a + half;
            butterfly(br, bi, a, b, br[b]! * c - bi[b]! * s, br[b]! * s + bi[b]! * c);
          }
        }
      }
    }
    if (p === 1) {
      re.set(br);
      im.set(bi);
      return;
    }
    // 2) radix-5 combination: X[k + m·r] = Σ_q W_n^(q·k) · W_5^(q·r) · Y_q[k]
    const twr = this.#tw5r;
    const twi = this.#tw5i;
    const c1 = Math.cos((2 * Math.PI) / 5);
    const c2 = Math.cos((4 * Math.PI) / 5);
    const s1 = sg * Math.sin((2 * Math.PI) / 5);
    const s2 = sg * Math.sin((4 * Math.PI) / 5);
    for (let k = 0; k < m; k++) {
      // y_q = W_n^(q·k)·Y_q[k]
      const y0r = br[k]!;
      const y0i = bi[k]!;
      let t = m + k;
      const y1r = br[t]! * twr[t]! - bi[t]! * sg * twi[t]!;
      const y1i = br[t]! * sg * twi[t]! + bi[t]! * twr[t]!;
      t += m;
      const y2r = br[t]! * twr[t]! - bi[t]! * sg * twi[t]!;
      const y2i = br[t]! * sg * twi[t]! + bi[t]! * twr[t]!;
      t += m;
      const y3r = br[t]! * twr[t]! - bi[t]! * sg * twi[t]!;
      const y3i = br[t]! * sg * twi[t]! + bi[t]! * twr[t]!;
      t += m;
      const y4r = br[t]! * twr[t]! - bi[t]! * sg * twi[t]!;
      const y4i = br[t]! * sg * twi[t]! + bi[t]! * twr[t]!;
      // the 5-point DFT by its symmetric pairs (1, 4) and (2, 3)
      const ar = y1r + y4r;
      const ai = y1i + y4i;
      const dr = y1r - y4r;
      const di = y1i - y4i;
      const br2 = y2r + y3r;
      const bi2 = y2i + y3i;
      const er = y2r - y3r;
      const ei = y2i - y3i;
      re[k] = y0r + ar + br2;
      im[k] = y0i + ai + bi2;
      const p1r = y0r + c1 * ar + c2 * br2;
      const p1i = y0i + c1 * ai + c2 * bi2;
      const q1r = -(s1 * di + s2 * ei);
      const q1i = s1 * dr + s2 * er;
      const p2r = y0r + c2 * ar + c1 * br2;
      const p2i = y0i + c2 * ai + c1 * bi2;
      const q2r = -(s2 * di - s1 * ei);
      const q2i = s2 * dr - s1 * er;
      re[k + m] = p1r + q1r;
      im[k + m] = p1i + q1i;
      re[k + 4 * m] = p1r - q1r;
      im[k + 4 * m] = p1i - q1i;
      re[k + 2 * m] = p2r + q2r;
      im[k + 2 * m] = p2i + q2i;
      re[k + 3 * m] = p2r - q2r;
      im[k + 3 * m] = p2i - q2i;
    }
  }
}

/** The radix-2 butterfly: (x[a], x[b]) ← (x[a] + W·x[b], x[a] − W·x[b]), given W·x[b] = (xr, xi). */
function butterfly(br: Float64Array, bi: Float64Array, a: number, b: number, xr: number, xi: number): void {
  br[b] = br[a]! - xr;
  bi[b] = bi[a]! - xi;
  br[a] = br[a]! + xr;
  bi[a] = bi[a]! + xi;
}
