// Equal error rate of a verification score set (VoicePrivacy's privacy metric, anchors §2.3): the
// operating point where the false-acceptance rate equals the false-rejection rate. Ties are handled
// exactly: a group of equal scores is accepted or rejected as a whole, so the ROC moves diagonally
// through it, and the EER is where the piecewise-linear ROC (successive operating points joined by
// straight lines) meets FAR = FRR. All scores tied therefore gives 0.5, perfect separation gives 0.

export interface EerResult {
  /** Equal error rate in [0, 1]; 0.5 is chance (no speaker information), higher = more privacy. */
  eer: number;
  /** A score threshold at the crossing (accept score ≥ threshold); ±Infinity at the extremes. */
  threshold: number;
  /** Trial counts. */
  targets: number;
  nonTargets: number;
}

function checkScores(name: string, s: readonly number[]): void {
  if (!Array.isArray(s) && !(s instanceof Float32Array) && !(s instanceof Float64Array)) {
    throw new TypeError(`computeEer: '${name}' must be an array of numbers`);
  }
  if (s.length === 0)
    throw new RangeError(`computeEer: '${name}' is empty; an EER needs at least one target and one non-target trial`);
  for (let i = 0; i < s.length; i++) {
    if (!Number.isFinite(s[i]!)) throw new RangeError(`computeEer: '${name}'[${i}] is ${s[i]}; scores must be finite`);
  }
}

/**
 * EER of target (same-speaker) and non-target (different-speaker) trial scores; higher score = more
 * likely the same speaker.
 * @example computeEer([0.9, 0.8, 0.3], [0.7, 0.2, 0.1]).eer // 1/3
 */
export function computeEer(targetScores: readonly number[], nonTargetScores: readonly number[]): EerResult {
  checkScores('targetScores', targetScores);
  checkScores('nonTargetScores', nonTargetScores);
  const nt = targetScores.length;
  const nn = nonTargetScores.length;
  // all trials, highest score first; lowering the threshold past a score accepts its whole tie group
  const all: [number, boolean][] = [];
  for (const s of targetScores) all.push([s, true]);
  for (const s of nonTargetScores) all.push([s, false]);
  all.sort((a, b) => b[0] - a[0]);

  // integer counts, so FAR and FRR are exact fractions at every operating point
  let acceptedNon = 0;
  let rejectedTar = nt;
  let thr = Number.POSITIVE_INFINITY;
  for (let i = 0; i < all.length;) {
    const s = all[i]![0];
    let tar = 0;
    let non = 0;
    for (; i < all.length && all[i]![0] === s; i++) {
      if (all[i]![1]) tar++;
      else non++;
    }
    const far = acceptedNon / nn;
    const frr = rejectedTar / nt;
    const far1 = (acceptedNon + non) / nn;
    const frr1 = (rejectedTar - tar) / nt;
    const d0 = frr - far;
    const d1 = frr1 - far1;
    if (d1 <= 0) {
      // the segment (far, frr) → (far1, frr1) crosses FAR = FRR at fraction λ
      const lambda = d0 / (d0 - d1);
      return { eer: far + lambda * (far1 - far), threshold: lambda === 0 ? thr : s, targets: nt, nonTargets: nn };
    }
    acceptedNon += non;
    rejectedTar -= tar;
    thr = s;
  }
  // unreachable: after every trial FAR = 1 and FRR = 0
  return { eer: 0.5, threshold: Number.NEGATIVE_INFINITY, targets: nt, nonTargets: nn };
}

/** Cosine similarity of two equal-length vectors (0 when either is all zeros). */
export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length)
    throw new RangeError(`cosine: vectors have lengths ${a.length} and ${b.length}; they must match`);
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i]! * b[i]!;
    aa += a[i]! * a[i]!;
    bb += b[i]! * b[i]!;
  }
  return aa > 0 && bb > 0 ? ab / Math.sqrt(aa * bb) : 0;
}
