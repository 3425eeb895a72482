// McAdams-coefficient anonymisation, the VoicePrivacy Challenge's training-free baseline B2
// (Patino et al., Interspeech 2021; anchors §2.5; reference: Voice-Privacy-Challenge-2024
// anonymization/modules/mcadams/anonymise_dir_mcadams_rand_seed.py, `anonym_v2`).
// Per 20 ms frame (10 ms hop): LPC of order 20 by Burg's method (librosa.lpc), poles = roots of A(z),
// every complex pole's angle φ → sign(φ)·|φ|^α with its radius kept (real poles unchanged), the LPC
// residual A(z)·frame refiltered by 1/A'(z), windowed again and overlap-added. φ = 1 rad (≈2.55 kHz at
// 16 kHz) is the fixed point: α < 1 pulls formants towards it.
// Differences from the reference, on purpose:
//  - the analysis/synthesis window is sqrt(periodic Hann) (numpy's np.hanning is symmetric, whose
//    squared OLA ripples by ~0.6 %); with the periodic one Σ hann(n − m·hop) = 1 exactly, so α = 1
//    reproduces the input (away from the first and last 10 ms) to floating-point precision;
//  - no per-file peak normalisation (a stream cannot know its peak); `peakNormalize` from
//    src/audio/io.ts does it for files when wanted;
//  - the arithmetic is float64 throughout (the reference is float64 too), output float32;
//  - digitally silent and near-silent frames (below −120 dBFS) pass through unchanged, as α = 1 would
//    (the reference's LPC of a constant frame is singular and returns NaN: a FLAC that starts with exact
//    zeros ended a run), and so does any frame whose LPC or refiltering is not finite or blows up (a
//    pure tone's poles sit on the unit circle, where the all-pole refilter can diverge: output peak
//    above MCADAMS_MAX_GAIN × the frame's peak).
// Streaming: `McAdamsStream` emits every sample as soon as the last frame covering it is done
// (latency: one 20 ms window); its concatenated output equals `mcadams()` on the whole signal exactly.
import { Rng, hashString } from '../util/rng.js';

export interface McAdamsOptions {
  /** McAdams coefficient α (VPC 2020: 0.8). */
  alpha: number;
  /** Sample rate of the signal in Hz (default 16000): sets the 20 ms window and 10 ms hop. */
  sampleRate?: number;
  /** LP order (default 20). */
  lpOrder?: number;
  /** Window and hop in milliseconds (defaults 20 and 10). */
  winMs?: number;
  hopMs?: number;
}

const EPS32 = 1.1920928955078125e-7; // np.finfo(np.float32).eps, added as the reference does

/** The VoicePrivacy 2022/2024 range of per-utterance (or per-speaker) coefficients. */
export const MCADAMS_ALPHA_RANGE: readonly [number, number] = [0.5, 0.9];

/**
 * α for one utterance, drawn uniformly from [lo, hi) by a stream derived from (seed, key) only, so it
 * does not depend on the order in which utterances are processed.
 * @example const alpha = mcadamsAlpha(0, utterance.id); // in [0.5, 0.9)
 */
export function mcadamsAlpha(
  seed: number,
  key: string,
  range: readonly [number, number] = MCADAMS_ALPHA_RANGE,
): number {
  const [lo, hi] = range;
  if (!(lo > 0 && hi >= lo))
    throw new RangeError(`mcadamsAlpha: 'range' must be [lo, hi] with 0 < lo <= hi, got [${lo}, ${hi}]`);
  return new Rng(hashString(key, seed >>> 0)).uniform(lo, hi);
}

// ---------------------------------------------------------------------------------------------
// LPC, polynomial roots, filters (float64)

/**
 * LPC coefficients [1, a1 … ap] of `y` by Burg's method, exactly librosa.lpc (librosa ≥ 0.7): A(z) =
 * Σ a_k z^−k is the inverse (whitening) filter.
 * @example lpcBurg(frame, 20) // Float64Array(21), [0] = 1
 */
export function lpcBurg(y: ArrayLike<number>, order: number): Float64Array {
  if (!Number.isInteger(order) || order < 1)
    throw new RangeError(`lpcBurg: 'order' must be a positive integer, got ${order}`);
  const n = y.length;
  if (n <= order) throw new RangeError(`lpcBurg: the signal has ${n} samples; it needs more than 'order' (${order})`);
  let ar = new Float64Array(order + 1);
  let arPrev = new Float64Array(order + 1);
  ar[0] = 1;
  arPrev[0] = 1;
  // forward errors f = y[1:], backward errors b = y[:-1], kept as views [fStart, fStart+len)
  const f = Float64Array.from({ length: n - 1 }, (_, i) => y[i + 1]!);
  const b = Float64Array.from({ length: n - 1 }, (_, i) => y[i]!);
  let fs = 0; // f's live region is f[fs .. fs+len), b's is b[0 .. len)
  let len = n - 1;
  let den = 0;
  for (let i = 0; i < len; i++) den += f[i]! * f[i]! + b[i]! * b[i]!;
  const tiny = Number.MIN_VALUE * 2 ** 52; // np.finfo(float64).tiny
  for (let i = 0; i < order; i++) {
    let num = 0;
    for (let j = 0; j < len; j++) num += b[j]! * f[fs + j]!;
    const k = (-2 * num) / (den + tiny);
    [ar, arPrev] = [arPrev, ar];
    for (let j = 1; j <= i + 1; j++) ar[j] = arPrev[j]! + k * arPrev[i - j + 1]!;
    for (let j = 0; j < len; j++) {
      const fj = f[fs + j]!;
      const bj = b[j]!;
      f[fs + j] = fj + k * bj;
      b[j] = bj + k * fj;
    }
    den = (1 - k * k) * den - b[len - 1]! ** 2 - f[fs]! ** 2;
    fs += 1; // f = f[1:]
    len -= 1; // b = b[:-1]
  }
  return ar;
}

/**
 * Roots of c[0]·z^p + c[1]·z^(p−1) + … + c[p] (Aberth–Ehrlich iteration, then Newton polishing), as
 * separate real and imaginary parts. For LPC poles pass the coefficients [1, a1 … ap].
 * @example polyRoots(Float64Array.of(1, 0, -1)) // roots ±1
 */
export function polyRoots(c: ArrayLike<number>): { re: Float64Array; im: Float64Array } {
  let lead = 0;
  while (lead < c.length && c[lead] === 0) lead++;
  const p = c.length - 1 - lead;
  if (p < 1) return { re: new Float64Array(0), im: new Float64Array(0) };
  const a = Float64Array.from({ length: p + 1 }, (_, i) => c[lead + i]! / c[lead]!); // monic
  // initial guesses on a circle of the Cauchy-bound radius' geometric mean, with an offset angle
  let r0 = 0;
  for (let i = 1; i <= p; i++) r0 = Math.max(r0, Math.abs(a[i]!) ** (1 / i));
  r0 = Math.max(r0, 1e-3);
  const zr = new Float64Array(p);
  const zi = new Float64Array(p);
  for (let k = 0; k < p; k++) {
    const t = (2 * Math.PI * k) / p + 0.4;
    zr[k] = r0 * Math.cos(t);
    zi[k] = r0 * Math.sin(t);
  }
  const evalP = (xr: number, xi: number): [number, number, number, number] => {
    // Horner for P and P'
    let pr = 1,
      pi = 0,
      dr = 0,
      di = 0;
    for (let i = 1; i <= p; i++) {
      const ndr = dr * xr - di * xi + pr;
      const ndi = dr * xi + di * xr + pi;
      dr = ndr;
      di = ndi;
      const npr = pr * xr - pi * xi + a[i]!;
      const npi = pr * xi + pi * xr;
      pr = npr;
      pi = npi;
    }
    return [pr, pi, dr, di];
  };
  for (let iter = 0; iter < 500; iter++) {
    let maxStep = 0;
    for (let k = 0; k < p; k++) {
      const [pr, pi, dr, di] = evalP(zr[k]!, zi[k]!);
      const d2 = dr * dr + di * di;
      if (pr === 0 && pi === 0) continue;
      // ratio = P/P'
      let rr: number, ri: number;
      if (d2 === 0) {
        rr = 1e-3;
        ri = 1e-3;
      } else {
        rr = (pr * dr + pi * di) / d2;
        ri = (pi * dr - pr * di) / d2;
      }
      // s = Σ_{j≠k} 1/(z_k − z_j)
      let sr = 0,
        si = 0;
      for (let j = 0; j < p; j++) {
        if (j === k) continue;
        const ur = zr[k]! - zr[j]!;
        const ui = zi[k]! - zi[j]!;
        const u2 = ur * ur + ui * ui;
        if (u2 === 0) continue;
        sr += ur / u2;
        si += -ui / u2;
      }
      // w = ratio / (1 − ratio·s)
      const qr = 1 - (rr * sr - ri * si);
      const qi = -(rr * si + ri * sr);
      const q2 = qr * qr + qi * qi;
      const wr = q2 === 0 ? rr : (rr * qr + ri * qi) / q2;
      const wi = q2 === 0 ? ri : (ri * qr - rr * qi) / q2;
      zr[k] = zr[k]! - wr;
      zi[k] = zi[k]! - wi;
      maxStep = Math.max(maxStep, Math.hypot(wr, wi) / Math.max(1, Math.hypot(zr[k]!, zi[k]!)));
    }
    if (maxStep < 1e-15) break;
  }
  return { re: zr, im: zi };
}

/** Real coefficients of Π (z − r_k), leading 1 (numpy.poly, real part). */
export function polyFromRoots(re: ArrayLike<number>, im: ArrayLike<number>): Float64Array {
  const p = re.length;
  const cr = new Float64Array(p + 1);
  const ci = new Float64Array(p + 1);
  cr[0] = 1;
  for (let k = 0; k < p; k++) {
    // multiply by (z − r_k): c[i] ← c[i] − r_k·c[i−1], from the top down
    for (let i = k + 1; i >= 1; i--) {
      const pr = cr[i - 1]!,
        pi = ci[i - 1]!;
      cr[i] = cr[i]! - (re[k]! * pr - im[k]! * pi);
      ci[i] = ci[i]! - (re[k]! * pi + im[k]! * pr);
    }
  }
  return cr;
}

/**
 * Move every complex pole's angle φ to sign(φ)·|φ|^α, radius kept; real poles (|Im| ≤ 1e-10·|z|)
 * unchanged; conjugate pairs stay conjugate because the map is odd in φ.
 * @example warpLpc(a, 0.8) // new [1, a'1 … a'p]
 */
export function warpLpc(a: ArrayLike<number>, alpha: number): Float64Array {
  const { re, im } = polyRoots(a);
  const nr = new Float64Array(re.length);
  const ni = new Float64Array(re.length);
  for (let k = 0; k < re.length; k++) {
    const mag = Math.hypot(re[k]!, im[k]!);
    if (Math.abs(im[k]!) <= 1e-10 * Math.max(mag, 1e-30)) {
      nr[k] = re[k]!;
      ni[k] = 0;
      continue;
    }
    const phi = Math.atan2(im[k]!, re[k]!);
    const phi2 = Math.sign(phi) * Math.abs(phi) ** alpha;
    nr[k] = mag * Math.cos(phi2);
    ni[k] = mag * Math.sin(phi2);
  }
  return polyFromRoots(nr, ni);
}

/** FIR then all-pole filtering from zero state: y = (1/aNew) ∗ (a ∗ x) (two scipy lfilter calls). */
function refilter(x: Float64Array, a: Float64Array, aNew: Float64Array): Float64Array {
  const n = x.length;
  const p = a.length - 1;
  const y = new Float64Array(n);
  for (let t = 0; t < n; t++) {
    let e = 0;
    for (let k = 0; k <= p && k <= t; k++) e += a[k]! * x[t - k]!;
    let v = e;
    for (let k = 1; k <= p && k <= t; k++) v -= aNew[k]! * y[t - k]!;
    y[t] = v;
  }
  return y;
}

// ---------------------------------------------------------------------------------------------
// Frames

interface Framing {
  win: number;
  hop: number;
  order: number;
  /** sqrt(hann/K), periodic Hann, K = Σhann/hop */
  window: Float64Array;
}

function framing(o: McAdamsOptions): Framing {
  if (typeof o !== 'object' || o === null)
    throw new TypeError("McAdams: 'options' must be an object like { alpha: 0.8 }");
  if (!(typeof o.alpha === 'number' && o.alpha > 0 && Number.isFinite(o.alpha)))
    throw new RangeError(`McAdams: 'alpha' must be a positive number (VPC uses 0.5–0.9), got ${o.alpha}`);
  const sr = o.sampleRate ?? 16000;
  const win = Math.floor(((o.winMs ?? 20) * sr) / 1000);
  const hop = Math.floor(((o.hopMs ?? 10) * sr) / 1000);
  const order = o.lpOrder ?? 20;
  if (!(hop >= 1 && win > order && hop <= win))
    throw new RangeError(
      `McAdams: window ${win} and hop ${hop} samples (sampleRate ${sr}) must satisfy order (${order}) < window and 1 <= hop <= window`,
    );
  const hann = Float64Array.from({ length: win }, (_, i) => 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / win));
  const k = hann.reduce((s, v) => s + v, 0) / hop;
  return { win, hop, order, window: hann.map((v) => Math.sqrt(v / k)) };
}

/** Frames whose mean square (after the window, eps removed) is below this (−120 dBFS) pass through. */
export const MCADAMS_SILENCE_POWER = 1e-12;

/** A frame whose resynthesis peaks above this multiple of its own peak is unstable and passes through. */
export const MCADAMS_MAX_GAIN = 100;

/** One analysis frame x (already + eps) → its windowed resynthesis; silent or singular frames pass through. */
function processFrame(x: Float64Array, fr: Framing, alpha: number): Float64Array {
  const frame = x.map((v, i) => v * fr.window[i]!);
  const passThrough = (): Float64Array => frame.map((v, i) => v * fr.window[i]!); // what α = 1 returns
  let power = 0;
  for (let i = 0; i < frame.length; i++) power += ((x[i]! - EPS32) * fr.window[i]!) ** 2;
  if (power / frame.length < MCADAMS_SILENCE_POWER) return passThrough();
  const a = lpcBurg(
    frame.map((v) => v + EPS32),
    fr.order,
  );
  if (!a.every(Number.isFinite)) return passThrough();
  const aNew = warpLpc(a, alpha);
  if (!aNew.every(Number.isFinite)) return passThrough();
  const y = refilter(frame, a, aNew);
  let peakIn = 0;
  let peakOut = 0;
  for (let i = 0; i < y.length; i++) {
    y[i] = y[i]! * fr.window[i]!;
    peakIn = Math.max(peakIn, Math.abs(frame[i]!));
    peakOut = Math.max(peakOut, Math.abs(y[i]!)); // NaN never raises the max: checked below
  }
  return y.every(Number.isFinite) && peakOut <= MCADAMS_MAX_GAIN * peakIn ? y : passThrough();
}

/**
 * Anonymise a whole signal. Output has the input's length; samples after the last complete frame are 0.
 * @example const y = mcadams(audio.samples, { alpha: 0.8 }); // Float32Array, same length
 */
export function mcadams(samples: Float32Array | Float64Array, o: McAdamsOptions): Float32Array {
  const fr = framing(o);
  const n = samples.length;
  const x = Float64Array.from(samples, (v) => v + EPS32);
  const out = new Float64Array(n);
  const frames = n >= fr.win ? 1 + Math.floor((n - fr.win) / fr.hop) : 0;
  for (let m = 0; m < frames; m++) {
    const s = m * fr.hop;
    const y = processFrame(x.subarray(s, s + fr.win), fr, o.alpha);
    for (let i = 0; i < fr.win; i++) out[s + i] = out[s + i]! + y[i]!;
  }
  return Float32Array.from(out);
}

/**
 * Chunked McAdams: push() any chunk sizes, get back the samples that are final; flush() at the end.
 * The concatenation equals `mcadams(whole, options)`.
 * @example
 * const s = new McAdamsStream({ alpha: 0.8 });
 * const parts = chunks.map((c) => s.push(c)); parts.push(s.flush());
 */
export class McAdamsStream {
  readonly #fr: Framing;
  readonly #alpha: number;
  /** input samples (+eps) from absolute index #inStart */
  #input = new Float64Array(0);
  #inStart = 0;
  /** overlap-add accumulator from absolute index #outStart (samples not yet emitted) */
  #acc = new Float64Array(0);
  #outStart = 0;
  #nextFrame = 0;
  #seen = 0;
  #flushed = false;

  constructor(o: McAdamsOptions) {
    this.#fr = framing(o);
    this.#alpha = o.alpha;
  }

  /** Samples of delay between input and final output (one window). */
  get latency(): number {
    return this.#fr.win;
  }

  push(chunk: Float32Array | Float64Array): Float32Array {
    if (this.#flushed) throw new Error('McAdamsStream: push() after flush(); make a new stream per signal');
    const { win, hop } = this.#fr;
    const input = new Float64Array(this.#input.length + chunk.length);
    input.set(this.#input);
    for (let i = 0; i < chunk.length; i++) input[this.#input.length + i] = chunk[i]! + EPS32;
    this.#input = input;
    this.#seen += chunk.length;
    let finalUpTo = this.#outStart;
    while (this.#nextFrame * hop + win <= this.#seen) {
      const s = this.#nextFrame * hop;
      const y = processFrame(this.#input.subarray(s - this.#inStart, s - this.#inStart + win), this.#fr, this.#alpha);
      this.#addAt(s, y);
      this.#nextFrame++;
      finalUpTo = this.#nextFrame * hop; // later frames start at or after this sample
    }
    // input before the next frame's start is no longer needed
    const drop = this.#nextFrame * hop - this.#inStart;
    if (drop > 0) {
      this.#input = this.#input.slice(drop);
      this.#inStart += drop;
    }
    return this.#emit(finalUpTo);
  }

  /** The rest of the output (up to the total input length). */
  flush(): Float32Array {
    if (this.#flushed) return new Float32Array(0);
    this.#flushed = true;
    return this.#emit(this.#seen);
  }

  #addAt(start: number, y: Float64Array): void {
    const need = start + y.length - this.#outStart;
    if (need > this.#acc.length) {
      const grown = new Float64Array(need);
      grown.set(this.#acc);
      this.#acc = grown;
    }
    const off = start - this.#outStart;
    for (let i = 0; i < y.length; i++) this.#acc[off + i] = this.#acc[off + i]! + y[i]!;
  }

  #emit(upTo: number): Float32Array {
    const n = Math.max(0, upTo - this.#outStart);
    const out = new Float32Array(n);
    for (let i = 0; i < n && i < this.#acc.length; i++) out[i] = this.#acc[i]!;
    this.#acc = n >= this.#acc.length ? new Float64Array(0) : this.#acc.slice(n);
    this.#outStart += n;
    return out;
  }
}
