// Phase reconstruction from a magnitude alone, frame by frame with a bounded look-ahead, so that a stream
// and a file give the same phases. Three methods, measured against each other in docs/methods.md:
// - RTISI-LA (Zhu, Beauregard & Wyse 2007): each frame enters a look-ahead buffer of L+1 frames; every
//   iteration re-estimates the buffered frames' phases (newest first) from the partial overlap-add of
//   their neighbours, and the oldest frame is committed. Committed frames never change.
// - RTPGHI (Průša & Holighaus 2017): no iterations; phase derivatives from the log-magnitude's
//   derivatives (exact for a Gaussian window; Hamming's constant γ = 0.29794·n²), integrated along the
//   loudest bins first (a heap) from the previous frame's phase. One frame of look-ahead.
// - Griffin-Lim per obfuscation window (Griffin & Lim 1984, with the fast-GLA momentum of Perraudin et
//   al. 2013): a fixed number of iterations over the window's kept frames and its right context, with the
//   last committed frame held fixed on the left.
// All work on the DS2 STFT (n = 320, hop = n/2, periodic Hamming; frame t covers padded samples
// [t·hop, t·hop + n)) with the phase referred to the frame's first sample, like Ds2Frontend.frame.
// Synthesis frames are y = gd ⊙ irfft(C) with the canonical dual window gd = w / (w² + w²(· ± hop)),
// so Σ y over frames is torch.istft's overlap-add everywhere two frames overlap.
import { RealFft } from './real-fft.js';
import { hammingPeriodic } from './spectrogram.js';

/**
 * Phases for frames committed in order. Each call gets the next `commit` frames (linear magnitudes,
 * nFreq values each) and up to `lookahead` later frames `ahead`, whose magnitudes may still change
 * (they arrive again, final, at the start of a later call's `commit`).
 */
export interface PhaseRetriever {
  readonly lookahead: number;
  retrieve(commit: Float64Array[], ahead: Float64Array[]): Float64Array[];
}

/** The analysis window, its dual, and FFT buffers shared by the iterative methods. */
class StftKit {
  readonly n: number;
  readonly hop: number;
  readonly nFreq: number;
  readonly w: Float64Array;
  readonly gd: Float64Array;
  readonly fft: RealFft;
  readonly re: Float64Array;
  readonly im: Float64Array;
  readonly buf: Float64Array;

  constructor(n: number) {
    this.n = n;
    this.hop = n / 2;
    this.nFreq = n / 2 + 1;
    this.w = hammingPeriodic(n);
    this.gd = this.w.map((v, j) => v / (v * v + this.w[(j + this.hop) % n]! ** 2));
    this.fft = new RealFft(n);
    this.re = new Float64Array(this.nFreq);
    this.im = new Float64Array(this.nFreq);
    this.buf = new Float64Array(n);
  }

  /** The partial overlap-add over a frame's span: its own y plus its neighbours' overlapping halves. */
  overlay(self: Float64Array | null, left: Float64Array | null, right: Float64Array | null): Float64Array {
    const { n, hop, buf } = this;
    for (let j = 0; j < n; j++) buf[j] = self === null ? 0 : self[j]!;
    if (left !== null) for (let j = 0; j < hop; j++) buf[j]! += left[j + hop]!;
    if (right !== null) for (let j = hop; j < n; j++) buf[j]! += right[j - hop]!;
    return buf;
  }

  /**
   * One projection: rfft(w ⊙ prd)'s phase with the target magnitude, back to a synthesis frame
   * gd ⊙ irfft(mag·X/|X|) in `out`; the phase itself goes to `phase` when given (only commits need it).
   */
  project(prd: Float64Array, mag: Float64Array, out: Float64Array, phase: Float64Array | null = null): Float64Array {
    const { n, re, im, w } = this;
    for (let j = 0; j < n; j++) prd[j]! *= w[j]!;
    this.fft.forward(prd, re, im);
    for (let k = 0; k < this.nFreq; k++) {
      const r = re[k]!;
      const i = im[k]!;
      // sqrt, not Math.hypot (several times slower in V8; |X| is far from overflow here)
      const a = Math.sqrt(r * r + i * i);
      if (phase !== null) phase[k] = Math.atan2(i, r);
      // |X| = 0: phase 0
      const g = a > 0 ? mag[k]! / a : 0;
      re[k] = a > 0 ? g * r : mag[k]!;
      im[k] = g * i;
    }
    return this.synthesize(out);
  }

  /** gd ⊙ irfft(re + i·im) into `out`. */
  synthesize(out: Float64Array): Float64Array {
    this.fft.inverse(this.re, this.im, out);
    for (let j = 0; j < this.n; j++) out[j]! *= this.gd[j]!;
    return out;
  }
}

/** Real-time iterative spectrogram inversion with look-ahead (RTISI-LA). */
export class RtisiLa implements PhaseRetriever {
  readonly lookahead: number;
  readonly iterations: number;
  readonly #k: StftKit;
  /** The last committed frame's synthesis frame (the left neighbour of the next one). */
  #prev: Float64Array | null = null;
  /** Estimates of the frames after the last committed one, carried from the previous call's look-ahead. */
  #carry: Float64Array[] = [];

  constructor(opts: { n?: number; lookahead?: number; iterations?: number } = {}) {
    this.lookahead = opts.lookahead ?? 1;
    this.iterations = opts.iterations ?? 8;
    if (!Number.isInteger(this.lookahead) || this.lookahead < 0)
      throw new RangeError(`'lookahead' must be an integer >= 0, got ${this.lookahead}`);
    if (!Number.isInteger(this.iterations) || this.iterations < 1)
      throw new RangeError(`'iterations' must be an integer >= 1, got ${this.iterations}`);
    this.#k = new StftKit(opts.n ?? 320);
  }

  retrieve(commit: Float64Array[], ahead: Float64Array[]): Float64Array[] {
    const k = this.#k;
    const mags = [...commit, ...ahead.slice(0, this.lookahead)];
    const y: (Float64Array | null)[] = mags.map((_, i) => this.#carry[i] ?? null);
    const phases = mags.map(() => new Float64Array(k.nFreq));
    const at = (i: number): Float64Array | null => (i < 0 ? this.#prev : i < y.length ? y[i]! : null);
    for (let m = 0; m < commit.length; m++) {
      const newest = Math.min(m + this.lookahead, mags.length - 1);
      for (let it = 0; it < this.iterations; it++) {
        for (let j = newest; j >= m; j--) {
          const prd = k.overlay(at(j), at(j - 1), j < newest ? at(j + 1) : null);
          const committing = j === m && it === this.iterations - 1;
          y[j] = k.project(prd, mags[j]!, y[j] ?? new Float64Array(k.n), committing ? phases[j]! : null);
        }
      }
    }
    this.#prev = y[commit.length - 1] ?? this.#prev;
    this.#carry = y.slice(commit.length).filter((v): v is Float64Array => v !== null);
    return phases.slice(0, commit.length);
  }
}

/** Fast Griffin-Lim over each call's frames (a window's kept frames plus its context), left edge fixed. */
export class WindowGriffinLim implements PhaseRetriever {
  readonly lookahead: number;
  readonly iterations: number;
  readonly momentum: number;
  readonly #k: StftKit;
  #prev: Float64Array | null = null;
  /** Phase estimates of the frames after the last committed one (the previous call's context). */
  #carry: Float64Array[] = [];

  constructor(opts: { n?: number; lookahead?: number; iterations?: number; momentum?: number } = {}) {
    this.lookahead = opts.lookahead ?? 16;
    this.iterations = opts.iterations ?? 32;
    this.momentum = opts.momentum ?? 0.99;
    if (!Number.isInteger(this.iterations) || this.iterations < 1)
      throw new RangeError(`'iterations' must be an integer >= 1, got ${this.iterations}`);
    this.#k = new StftKit(opts.n ?? 320);
  }

  retrieve(commit: Float64Array[], ahead: Float64Array[]): Float64Array[] {
    const k = this.#k;
    const mags = [...commit, ...ahead.slice(0, this.lookahead)];
    const n = mags.length;
    const phases = mags.map((_, i) => this.#carry[i]?.slice() ?? new Float64Array(k.nFreq));
    const y = mags.map(() => new Float64Array(k.n));
    const prevRe = mags.map(() => new Float64Array(k.nFreq));
    const prevIm = mags.map(() => new Float64Array(k.nFreq));
    const a = this.momentum;
    const synth = (i: number): void => {
      for (let f = 0; f < k.nFreq; f++) {
        k.re[f] = mags[i]![f]! * Math.cos(phases[i]![f]!);
        k.im[f] = mags[i]![f]! * Math.sin(phases[i]![f]!);
      }
      k.synthesize(y[i]!);
    };
    for (let i = 0; i < n; i++) synth(i);
    const prd = new Float64Array(k.n);
    for (let it = 0; it < this.iterations; it++) {
      // projection onto consistent STFTs: analyse the overlap-add of every frame's current estimate
      for (let i = 0; i < n; i++) {
        prd.set(k.overlay(y[i]!, i === 0 ? this.#prev : y[i - 1]!, i + 1 < n ? y[i + 1]! : null));
        for (let j = 0; j < k.n; j++) prd[j]! *= k.w[j]!;
        k.fft.forward(prd, k.re, k.im);
        for (let f = 0; f < k.nFreq; f++) {
          const r = k.re[f]!;
          const m = k.im[f]!;
          const cr = it === 0 ? r : r + a * (r - prevRe[i]![f]!);
          const ci = it === 0 ? m : m + a * (m - prevIm[i]![f]!);
          prevRe[i]![f] = r;
          prevIm[i]![f] = m;
          phases[i]![f] = Math.atan2(ci, cr);
        }
      }
      // projection onto the target magnitude (all frames at once: plain, not Gauss-Seidel, GLA)
      for (let i = 0; i < n; i++) synth(i);
    }
    this.#prev = y[commit.length - 1] ?? this.#prev;
    this.#carry = phases.slice(commit.length);
    return phases.slice(0, commit.length);
  }
}

/** Hamming's time-frequency constant for PGHI (Průša et al. 2017, Table 1): γ = 0.29794·n². */
const HAMMING_GAMMA = 0.29794;

/** A max-heap of (key, payload) for the heap integration. */
class MaxHeap {
  #key: number[] = [];
  #val: number[] = [];
  get size(): number {
    return this.#key.length;
  }
  push(key: number, val: number): void {
    const kk = this.#key;
    const vv = this.#val;
    let i = kk.length;
    kk.push(key);
    vv.push(val);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (kk[p]! >= kk[i]!) break;
      this.#swap(p, i);
      i = p;
    }
  }
  pop(): number {
    const kk = this.#key;
    const vv = this.#val;
    const top = vv[0]!;
    const lk = kk.pop()!;
    const lv = vv.pop()!;
    if (kk.length > 0) {
      kk[0] = lk;
      vv[0] = lv;
      for (let i = 0; ;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < kk.length && kk[l]! > kk[m]!) m = l;
        if (r < kk.length && kk[r]! > kk[m]!) m = r;
        if (m === i) break;
        this.#swap(m, i);
        i = m;
      }
    }
    return top;
  }
  #swap(a: number, b: number): void {
    const k = this.#key[a]!;
    this.#key[a] = this.#key[b]!;
    this.#key[b] = k;
    const v = this.#val[a]!;
    this.#val[a] = this.#val[b]!;
    this.#val[b] = v;
  }
}

/** Real-time phase-gradient heap integration (RTPGHI), centred time differences (one frame of look-ahead). */
export class Rtpghi implements PhaseRetriever {
  readonly lookahead = 1;
  /** Bins more than this far (relative) below the loudest get a fixed pseudo-random phase. */
  readonly tolerance: number;
  readonly #n: number;
  readonly #hop: number;
  readonly #nFreq: number;
  readonly #gamma: number;
  /** log-magnitude, time-derivative of phase and phase (frame-centred convention) of the last committed frame. */
  #prevLog: Float64Array | null = null;
  #prevTgrad: Float64Array | null = null;
  #prevPhase: Float64Array | null = null;
  #t = 0;

  constructor(opts: { n?: number; tolerance?: number } = {}) {
    this.#n = opts.n ?? 320;
    this.#hop = this.#n / 2;
    this.#nFreq = this.#n / 2 + 1;
    this.#gamma = HAMMING_GAMMA * this.#n * this.#n;
    this.tolerance = opts.tolerance ?? 1e-5;
  }

  #log(mag: Float64Array): Float64Array {
    return mag.map((v) => Math.log(v + 1e-12));
  }

  /** Phase advance per frame: ∂φ/∂t = (a·n/γ)·∂s/∂ω + 2π·a·k/n. */
  #tgrad(s: Float64Array): Float64Array {
    const nFreq = this.#nFreq;
    const g = new Float64Array(nFreq);
    const c = (this.#hop * this.#n) / this.#gamma / 2;
    for (let k = 0; k < nFreq; k++) {
      const d = k === 0 || k === nFreq - 1 ? 0 : s[k + 1]! - s[k - 1]!;
      g[k] = c * d + (2 * Math.PI * this.#hop * k) / this.#n;
    }
    return g;
  }

  retrieve(commit: Float64Array[], ahead: Float64Array[]): Float64Array[] {
    const out: Float64Array[] = [];
    const logs = [...commit, ...ahead.slice(0, 1)].map((m) => this.#log(m));
    for (let i = 0; i < commit.length; i++) {
      const s = logs[i]!;
      const before = i > 0 ? logs[i - 1]! : this.#prevLog;
      const after = logs[i + 1] ?? null;
      // ∂φ/∂ω = −(γ/(a·n))·∂s/∂t, by centred differences (one-sided at the ends of the stream)
      const fgrad = new Float64Array(this.#nFreq);
      const span = (before ? 1 : 0) + (after ? 1 : 0);
      if (span > 0) {
        const c = -this.#gamma / (this.#hop * this.#n) / span;
        for (let k = 0; k < this.#nFreq; k++) fgrad[k] = c * ((after ?? s)[k]! - (before ?? s)[k]!);
      }
      const tgrad = this.#tgrad(s);
      const phase = this.#integrate(s, tgrad, fgrad);
      this.#prevLog = s;
      this.#prevTgrad = tgrad;
      this.#prevPhase = phase;
      // frame-centred phase → phase referred to the frame's first sample: + π·k
      out.push(phase.map((p, k) => p + Math.PI * k));
      this.#t++;
    }
    return out;
  }

  /** Heap integration of one frame from the previous one (Průša & Holighaus 2017, Algorithm 1). */
  #integrate(s: Float64Array, tgrad: Float64Array, fgrad: Float64Array): Float64Array {
    const nF = this.#nFreq;
    const phase = new Float64Array(nF);
    const done = new Uint8Array(nF);
    const prevLog = this.#prevLog;
    let max = -Infinity;
    for (const v of s) max = Math.max(max, v);
    if (prevLog) for (const v of prevLog) max = Math.max(max, v);
    const floor = max + Math.log(this.tolerance);
    let left = 0;
    for (let k = 0; k < nF; k++) {
      if (s[k]! < floor) {
        done[k] = 1;
        phase[k] = pseudoRandomPhase(this.#t, k);
      } else left++;
    }
    // payload: k for the previous frame, nF + k for this frame
    const heap = new MaxHeap();
    if (prevLog) for (let k = 0; k < nF; k++) if (prevLog[k]! >= floor) heap.push(prevLog[k]!, k);
    const fromPrev = (k: number): number =>
      this.#prevPhase ? this.#prevPhase[k]! + 0.5 * (this.#prevTgrad![k]! + tgrad[k]!) : 0;
    while (left > 0) {
      if (heap.size === 0) {
        let best = -1;
        for (let k = 0; k < nF; k++) if (!done[k] && (best < 0 || s[k]! > s[best]!)) best = k;
        phase[best] = fromPrev(best);
        done[best] = 1;
        left--;
        heap.push(s[best]!, nF + best);
        continue;
      }
      const v = heap.pop();
      if (v < nF) {
        if (done[v]) continue;
        phase[v] = fromPrev(v);
        done[v] = 1;
        left--;
        heap.push(s[v]!, nF + v);
        continue;
      }
      const k = v - nF;
      for (let j = k - 1; j <= k + 1; j += 2) {
        if (j < 0 || j >= nF || done[j]) continue;
        phase[j] = phase[k]! + (j > k ? 0.5 : -0.5) * (fgrad[k]! + fgrad[j]!);
        done[j] = 1;
        left--;
        heap.push(s[j]!, nF + j);
      }
    }
    return phase;
  }
}

/** A fixed phase in [−π, π) for (frame, bin), so that quiet bins are the same offline and streaming. */
export function pseudoRandomPhase(t: number, k: number): number {
  let h = (Math.imul(t, 0x9e3779b1) ^ Math.imul(k + 1, 0x85ebca77)) >>> 0;
  h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d) >>> 0;
  h = (h ^ (h >>> 13)) >>> 0;
  return (h / 4294967296) * 2 * Math.PI - Math.PI;
}
