// Pure signal helpers for the soundscape corpus: energy, SNR mixing and peak normalisation on mono
// Float32Arrays. No I/O, so the mixer can be tested exactly on synthetic signals.

/** Sum of squares (float64 accumulation). */
export function energy(x: Float32Array, start = 0, length = x.length - start): number {
  let e = 0;
  for (let i = start; i < start + length; i++) e += x[i]! * x[i]!;
  return e;
}

/** Largest absolute sample. */
export function peak(x: Float32Array): number {
  let p = 0;
  for (let i = 0; i < x.length; i++) p = Math.max(p, Math.abs(x[i]!));
  return p;
}

/**
 * Add `speech` to `event` so that the speech-to-event energy ratio is exactly `snrDb`:
 * 10·log10(Σ(g·s)² / Σe²) = snrDb with g = sqrt(Σe² / Σs² · 10^(snrDb/10)). Both inputs have the same
 * length (one clip).
 * @example const { mix, speechGain } = mixAtSnr(dog, speech, 0); // speech as loud as the dog bark
 */
export function mixAtSnr(
  event: Float32Array,
  speech: Float32Array,
  snrDb: number,
): { mix: Float32Array; speechGain: number } {
  if (event.length !== speech.length)
    throw new RangeError(`event and speech must have the same length, got ${event.length} and ${speech.length}`);
  if (!Number.isFinite(snrDb)) throw new RangeError(`snrDb must be finite, got ${snrDb}`);
  const ee = energy(event);
  const es = energy(speech);
  if (!(ee > 0)) throw new RangeError('event is silent (zero energy): an SNR against it is undefined');
  if (!(es > 0)) throw new RangeError('speech is silent (zero energy): an SNR against it is undefined');
  const speechGain = Math.sqrt((ee / es) * 10 ** (snrDb / 10));
  const mix = new Float32Array(event.length);
  for (let i = 0; i < mix.length; i++) mix[i] = event[i]! + speechGain * speech[i]!;
  return { mix, speechGain };
}

/** The factor that brings the peak of `x` to `target` (1 for silence). */
export function peakGain(x: Float32Array, target: number): number {
  const p = peak(x);
  return p > 0 ? target / p : 1;
}

/** `x` times `gain`, as a new array. */
export function scaled(x: Float32Array, gain: number): Float32Array {
  const y = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) y[i] = x[i]! * gain;
  return y;
}

/**
 * A `length`-sample window of `x` starting at `start`; parts outside `x` are zeros. With a negative
 * `start` a short sound lands |start| samples into the clip.
 */
export function window(x: Float32Array, start: number, length: number): Float32Array {
  const y = new Float32Array(length);
  for (let i = 0; i < length; i++) {
    const j = start + i;
    if (j >= 0 && j < x.length) y[i] = x[j]!;
  }
  return y;
}

/**
 * Starts (step `hop`) of the `length`-sample windows inside [from, to) whose RMS is within `rangeDb` of
 * the loudest such window: the active parts of a recording. Segments shorter than `length` give [].
 */
export function activeWindows(
  x: Float32Array,
  from: number,
  to: number,
  length: number,
  hop: number,
  rangeDb: number,
): number[] {
  const starts: number[] = [];
  const energies: number[] = [];
  for (let s = from; s + length <= to; s += hop) {
    starts.push(s);
    energies.push(energy(x, s, length));
  }
  const max = Math.max(0, ...energies);
  if (!(max > 0)) return [];
  const floor = max * 10 ** (-rangeDb / 10);
  return starts.filter((_, k) => energies[k]! >= floor);
}
