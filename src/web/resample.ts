// Streaming sample-rate conversion for the browser's capture worklet (any device rate → 16 kHz).
// Band-limited interpolation (Smith's windowed-sinc rule, as libsamplerate and torchaudio's
// `sinc_interp_kaiser`): output sample n sits at input position p = n·r (r = inRate/outRate) and is
//   y[n] = Σ_i x[i] · h(p − i),   h(t) = 2·fc·sinc(2·fc·t) · kaiser(t / halfWidth),
// with the cut-off fc = rolloff · min(1, 1/r) / 2 cycles per input sample (below both Nyquists) and
// `zeros` zero crossings of the sinc on each side. h is tabulated at `PHASES` points per input sample
// and read with linear interpolation. Output n is final once input i ≤ p + halfWidth has arrived, so
// the stream lags by halfWidth input samples (about 1 ms at 48 kHz) and a stream equals one whole call.
// Pure TypeScript with no DOM or Node API: the worklet bundles it and the Node tests import it.

const PHASES = 512;

/** Zeroth-order modified Bessel function of the first kind (power series; enough for β ≤ 20). */
function besselI0(x: number): number {
  let sum = 1;
  let term = 1;
  for (let k = 1; k < 50; k++) {
    term *= (x / (2 * k)) ** 2;
    sum += term;
    if (term < 1e-12 * sum) break;
  }
  return sum;
}

export interface ResamplerOptions {
  /** Sinc zero crossings on each side (default 16: > 80 dB stop band with β = 8.6). */
  zeros?: number;
  /** Cut-off as a fraction of the lower Nyquist frequency (default 0.9: 7.2 kHz for a 16 kHz output). */
  rolloff?: number;
  /** Kaiser window β (default 8.6). */
  beta?: number;
}

/**
 * A streaming resampler: push input blocks of any size, get every output sample that is final.
 * @example
 * const rs = new Resampler(48000, 16000);
 * const out16k = rs.push(block48k); // ≈ block48k.length / 3 samples
 */
export class Resampler {
  readonly inRate: number;
  readonly outRate: number;
  /** Kernel half width in input samples. */
  readonly halfWidth: number;
  readonly #ratio: number;
  readonly #table: Float32Array; // h(j / PHASES), j = 0 … halfWidth·PHASES + 1
  /** Input samples from absolute index #base on. */
  #buf = new Float32Array(0);
  #base = 0;
  #received = 0;
  /** Next output sample index. */
  #n = 0;

  constructor(inRate: number, outRate: number, opts: ResamplerOptions = {}) {
    for (const [name, v] of [
      ['inRate', inRate],
      ['outRate', outRate],
    ] as const) {
      if (!Number.isFinite(v) || v <= 0)
        throw new RangeError(`'${name}' must be a positive sample rate in Hz, got ${v}`);
    }
    const zeros = opts.zeros ?? 16;
    const rolloff = opts.rolloff ?? 0.9;
    const beta = opts.beta ?? 8.6;
    if (!Number.isInteger(zeros) || zeros < 1) throw new RangeError(`'zeros' must be an integer >= 1, got ${zeros}`);
    if (!(rolloff > 0 && rolloff <= 1)) throw new RangeError(`'rolloff' must be in (0, 1], got ${rolloff}`);
    this.inRate = inRate;
    this.outRate = outRate;
    this.#ratio = inRate / outRate;
    const fc = (rolloff * Math.min(1, 1 / this.#ratio)) / 2; // cycles per input sample
    this.halfWidth = Math.ceil(zeros / (2 * fc));
    const n = this.halfWidth * PHASES + 2;
    this.#table = new Float32Array(n);
    const i0b = besselI0(beta);
    for (let j = 0; j < n; j++) {
      const t = j / PHASES;
      const u = t / this.halfWidth;
      const win = u >= 1 ? 0 : besselI0(beta * Math.sqrt(1 - u * u)) / i0b;
      const arg = 2 * fc * t;
      this.#table[j] = 2 * fc * (arg === 0 ? 1 : Math.sin(Math.PI * arg) / (Math.PI * arg)) * win;
    }
  }

  /** Input samples received so far. */
  get received(): number {
    return this.#received;
  }

  /** Output samples produced so far. */
  get produced(): number {
    return this.#n;
  }

  #h(t: number): number {
    const a = Math.abs(t) * PHASES;
    const j = Math.floor(a);
    if (j >= this.#table.length - 1) return 0;
    const f = a - j;
    return this.#table[j]! * (1 - f) + this.#table[j + 1]! * f;
  }

  /** Output samples from n while inputs up to n·r + halfWidth exist (all of them with `final`). */
  #produce(final: boolean): Float32Array {
    const out: number[] = [];
    const hw = this.halfWidth;
    const total = this.#received;
    // with `final`, outputs up to the input's duration: n/outRate < total/inRate
    const lastN = final ? Math.ceil((total * this.outRate) / this.inRate) : Infinity;
    for (;;) {
      const p = this.#n * this.#ratio;
      if (this.#n >= lastN || (!final && Math.floor(p) + hw >= total)) break;
      let acc = 0;
      const lo = Math.max(0, Math.ceil(p - hw));
      const hi = Math.min(total - 1, Math.floor(p + hw));
      for (let i = lo; i <= hi; i++) acc += this.#buf[i - this.#base]! * this.#h(p - i);
      out.push(acc);
      this.#n++;
    }
    // drop inputs no later output reads
    const keepFrom = Math.max(0, Math.ceil(this.#n * this.#ratio - hw) - 1);
    if (keepFrom - this.#base > 4096) {
      this.#buf = this.#buf.slice(keepFrom - this.#base);
      this.#base = keepFrom;
    }
    return Float32Array.from(out);
  }

  /** Append input samples; returns the output samples that no later input can change. */
  push(x: Float32Array): Float32Array {
    if (this.#ratio === 1) {
      this.#received += x.length;
      this.#n += x.length;
      return x.slice();
    }
    const merged = new Float32Array(this.#buf.length + x.length);
    merged.set(this.#buf);
    merged.set(x, this.#buf.length);
    this.#buf = merged;
    this.#received += x.length;
    return this.#produce(false);
  }

  /** The input is over: the remaining outputs (treating samples past the end as zeros). */
  end(): Float32Array {
    return this.#ratio === 1 ? new Float32Array(0) : this.#produce(true);
  }
}
