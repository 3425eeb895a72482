// Output level of the synthesised audio. The obfuscator's magnitudes are de-normalised with each
// window's input statistics, but their spread is the generator's: on the built-in corpus the
// phase-free audio of a trained obfuscator peaks 5–500× above full scale. So every chunk of audio a
// synthesizer releases (one window's worth) is first scaled (a gain computed from that chunk's own peak,
// never from the input: no new channel from the input), then soft-limited, and both are counted.
// - Gain: the chunk's target is min(1, LEVEL_TARGET / peak). Going down, the gain moves from the previous
//   chunk's to the target over the first ATTACK samples; going up (release), over the whole chunk. The
//   chunks are the same offline and streaming, so the levels are too.
// - Soft limiter: identity up to ±LIMIT_THRESHOLD (−1 dBFS), then a tanh knee that stays below full
//   scale; it only acts on what the gain ramp lets through (an attack's first milliseconds).

/** Peak level a chunk is scaled to (−2 dBFS). */
export const LEVEL_TARGET = 0.794;
/** Samples below this magnitude pass the limiter unchanged (−1 dBFS). */
export const LIMIT_THRESHOLD = 0.891;
/** Attack ramp: 10 ms at 16 kHz. */
export const ATTACK = 160;

/**
 * Soft-limit in place: |x| ≤ T unchanged, above T: T + (1 − T)·tanh((|x| − T)/(1 − T)), which stays below
 * 1 (so 16-bit encoding never clips). Returns how many samples were changed.
 * @example const limited = softLimit(audio); if (limited) console.error(`${limited} samples limited`);
 */
export function softLimit(x: Float32Array, threshold = LIMIT_THRESHOLD): number {
  let n = 0;
  const room = 1 - threshold;
  for (let i = 0; i < x.length; i++) {
    const a = Math.abs(x[i]!);
    if (a <= threshold) continue;
    const v = Number.isFinite(a) ? threshold + room * Math.tanh((a - threshold) / room) : threshold + room;
    x[i] = Math.sign(x[i]!) * Math.min(v, 32767 / 32768);
    n++;
  }
  return n;
}

/**
 * Chunk-by-chunk gain and soft limiter for one stream or file.
 * @example const lc = new LevelControl(); for (const c of chunks) lc.apply(c); console.log(lc.minGainDb, lc.limitedSamples);
 */
export class LevelControl {
  #gain = 1;
  /** The smallest gain applied so far (1 = never scaled). */
  minGain = 1;
  /** Samples the soft limiter touched so far. */
  limitedSamples = 0;

  /** The largest reduction so far, in dB (0 or negative). */
  get minGainDb(): number {
    return 20 * Math.log10(this.minGain);
  }

  /** Scale and limit one chunk in place; returns how many of its samples the limiter touched. */
  apply(x: Float32Array): number {
    if (x.length === 0) return 0;
    let peak = 0;
    for (const v of x) peak = Math.max(peak, Math.abs(v));
    const target = peak > LEVEL_TARGET ? LEVEL_TARGET / peak : 1;
    const g0 = this.#gain;
    const ramp = target < g0 ? Math.min(ATTACK, x.length) : x.length;
    for (let i = 0; i < x.length; i++) x[i]! *= g0 + (target - g0) * Math.min(1, (i + 1) / ramp);
    this.#gain = target;
    this.minGain = Math.min(this.minGain, target, g0);
    const limited = softLimit(x);
    this.limitedSamples += limited;
    return limited;
  }
}
