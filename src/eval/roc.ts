// ROC curve and area under it for binary scores, as scikit-learn's roc_curve / roc_auc_score: one
// point per *distinct* score (tied scores move TP and FP together, giving a diagonal segment), the
// curve starts at (0, 0), and the area is the trapezoid rule over those points — so a tie between a
// positive and a negative counts one half, as in the Mann–Whitney U statistic.

export interface RocCurve {
  /** False-positive rate per threshold, from 0 up to 1. */
  fpr: number[];
  /** True-positive rate per threshold. */
  tpr: number[];
  /** Threshold of each point (score ≥ threshold is positive); the first is +Infinity. */
  thresholds: number[];
}

function checkInputs(
  scores: ArrayLike<number>,
  labels: ArrayLike<number>,
  where: string,
): { pos: number; neg: number } {
  if (scores.length !== labels.length)
    throw new RangeError(
      `${where}: 'scores' (${scores.length}) and 'labels' (${labels.length}) must have the same length`,
    );
  let pos = 0;
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i];
    if (y !== 0 && y !== 1) throw new RangeError(`${where}: 'labels[${i}]' must be 0 or 1, got ${String(y)}`);
    if (!Number.isFinite(scores[i]!))
      throw new RangeError(`${where}: 'scores[${i}]' must be finite, got ${String(scores[i])}`);
    pos += y;
  }
  const neg = labels.length - pos;
  if (pos === 0 || neg === 0) {
    throw new RangeError(
      `${where}: 'labels' holds only ${pos === 0 ? 'negatives' : 'positives'}; the ROC needs both classes (as scikit-learn)`,
    );
  }
  return { pos, neg };
}

/**
 * ROC curve over the distinct scores (scikit-learn's roc_curve with drop_intermediate=False).
 * @example rocCurve([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]) // fpr [0, 0, 0.5, 0.5, 1], tpr [0, 0.5, 0.5, 1, 1]
 */
export function rocCurve(scores: ArrayLike<number>, labels: ArrayLike<number>): RocCurve {
  const { pos, neg } = checkInputs(scores, labels, 'rocCurve');
  const order = Array.from({ length: scores.length }, (_, i) => i).sort((a, b) => scores[b]! - scores[a]!);
  const fpr = [0];
  const tpr = [0];
  const thresholds = [Infinity];
  let tp = 0;
  let fp = 0;
  for (let k = 0; k < order.length; k++) {
    const i = order[k]!;
    if (labels[i] === 1) tp++;
    else fp++;
    const next = order[k + 1];
    if (next !== undefined && scores[next] === scores[i]) continue; // a tie: one point for the whole group
    fpr.push(fp / neg);
    tpr.push(tp / pos);
    thresholds.push(scores[i]!);
  }
  return { fpr, tpr, thresholds };
}

/**
 * Area under the ROC curve (scikit-learn's roc_auc_score for binary labels): ties count one half.
 * @example rocAuc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]) // 0.75
 */
export function rocAuc(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  const { fpr, tpr } = rocCurve(scores, labels);
  let area = 0;
  for (let i = 1; i < fpr.length; i++) area += ((fpr[i]! - fpr[i - 1]!) * (tpr[i]! + tpr[i - 1]!)) / 2;
  return area;
}
