// A small deterministic PRNG (mulberry32) plus the helpers that splits and corpus builders need:
// integers, floats, Fisher–Yates shuffle, and seeds derived from strings so that sub-streams
// ("speaker-split", "speaker-id") do not depend on how many numbers another stream consumed.

/**
 * Hash a string to an unsigned 32-bit integer (cyrb53, folded to 32 bits). Stable across platforms.
 *
 * @example
 * hashString('speaker-id') // → the same number on every machine
 */
export function hashString(s: string, seed = 0): number {
  let h1 = 0xdeadbeef ^ seed;
  let h2 = 0x41c6ce57 ^ seed;
  for (let i = 0; i < s.length; i++) {
    const ch = s.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return (h1 ^ h2) >>> 0;
}

/**
 * A seeded random stream (mulberry32: 32-bit state, period 2^32, good enough for shuffles and
 * sampling; not for cryptography).
 *
 * @example
 * const rng = new Rng(42);
 * rng.shuffle([1, 2, 3, 4]); // the same order for seed 42 on every run
 * const sub = rng.derive('val'); // an independent stream named 'val'
 */
export class Rng {
  #state: number;
  readonly seed: number;

  constructor(seed: number) {
    if (!Number.isInteger(seed)) throw new TypeError(`Rng: seed must be an integer, got ${String(seed)}`);
    this.seed = seed;
    // mix the seed once so that seeds 0, 1, 2 … start far apart
    this.#state = hashString(String(seed)) >>> 0;
  }

  /** The next float in [0, 1). */
  next(): number {
    let t = (this.#state = (this.#state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [0, n). */
  int(n: number): number {
    if (!Number.isInteger(n) || n <= 0) throw new RangeError(`Rng.int: n must be a positive integer, got ${n}`);
    return Math.floor(this.next() * n);
  }

  /** A float in [lo, hi). */
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  /** Shuffles `items` in place (Fisher–Yates) and returns it. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = items[i]!;
      items[i] = items[j]!;
      items[j] = tmp;
    }
    return items;
  }

  /** A new stream whose seed depends only on this stream's seed and `name`. */
  derive(name: string): Rng {
    return new Rng(hashString(name, this.seed >>> 0));
  }
}
