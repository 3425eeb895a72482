// Named random streams for the built-in corpora: every random choice comes from the stream for
// (seed, what it is for), so one seed reproduces a corpus bit for bit and adding a speaker or a class
// does not reshuffle the choices made for the others.
import { hashString, Rng } from '../../util/rng.js';

/**
 * The stream for (seed, parts…).
 * @example seeded(42, 'twin', 1, 'F01').uniform(-0.04, 0.04)
 */
export function seeded(seed: number, ...parts: (string | number)[]): Rng {
  return new Rng(hashString(parts.join('/'), seed));
}

/** A shuffled copy of `items`. */
export function shuffled<T>(rng: Rng, items: readonly T[]): T[] {
  return rng.shuffle(items.slice());
}

export { hashString, Rng };
