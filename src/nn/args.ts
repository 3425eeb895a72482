// Argument checks shared by the layer constructors: bad values raise RangeError/TypeError naming the argument.

/** An integer >= `min` (default 1), else RangeError "<Layer>: '<name>' must be …, got …". */
export function checkInt(layer: string, name: string, v: unknown, min = 1): number {
  if (typeof v !== 'number') throw new TypeError(`${layer}: '${name}' must be an integer, got ${typeof v}`);
  if (!Number.isInteger(v) || v < min)
    throw new RangeError(`${layer}: '${name}' must be an integer >= ${min}, got ${v}`);
  return v;
}

/** A probability in [0, 1] (or [0, 1) when `openTop`). */
export function checkProb(layer: string, name: string, v: unknown, openTop = false): number {
  if (typeof v !== 'number') throw new TypeError(`${layer}: '${name}' must be a number, got ${typeof v}`);
  if (!(v >= 0 && (openTop ? v < 1 : v <= 1)))
    throw new RangeError(`${layer}: '${name}' must be in [0, 1${openTop ? ')' : ']'}, got ${v}`);
  return v;
}

/** A finite number > 0 (eps, beta). */
export function checkPositive(layer: string, name: string, v: unknown): number {
  if (typeof v !== 'number') throw new TypeError(`${layer}: '${name}' must be a number, got ${typeof v}`);
  if (!(v > 0 && Number.isFinite(v))) throw new RangeError(`${layer}: '${name}' must be a finite number > 0, got ${v}`);
  return v;
}

/** `v` is n ints >= min, or one int used n times. */
export function checkInts(layer: string, name: string, v: unknown, n: number, min: number): number[] {
  const arr = typeof v === 'number' ? new Array<number>(n).fill(v) : v;
  if (!Array.isArray(arr))
    throw new TypeError(`${layer}: '${name}' must be an integer or an array of ${n}, got ${typeof v}`);
  if (arr.length !== n || arr.some((d) => !Number.isInteger(d) || (d as number) < min)) {
    throw new RangeError(`${layer}: '${name}' must be an integer >= ${min} or ${n} of them, got ${JSON.stringify(v)}`);
  }
  return arr as number[];
}

/** The input has one of the allowed ranks, else RangeError naming the layer, the shape and what it wants. */
export function checkRank(layer: string, shape: readonly number[], ranks: readonly number[], wanted: string): void {
  if (!ranks.includes(shape.length)) {
    throw new RangeError(`${layer}: expected input of shape ${wanted}, got [${shape.join(', ')}]`);
  }
}
