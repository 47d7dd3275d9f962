/**
 * Binary-classification metrics for `mlops train` (choosing the decision threshold) and
 * `mlops evaluate` (the F1 gate). Everything here is pure and returns only finite numbers, so a
 * result can go straight into a JSON document or a database row.
 */

export type Labels = Uint8Array;
export type Probabilities = Float32Array | Float64Array;

export interface ConfusionMatrix {
  tp: number;
  fp: number;
  tn: number;
  fn: number;
}

export interface ClassificationMetrics {
  rows: number;
  threshold: number;
  f1: number;
  precision: number;
  recall: number;
  accuracy: number;
  /** Null when only one class is present: the ranking has nothing to separate. */
  rocAuc: number | null;
  logLoss: number;
  /** Share of rows predicted positive at the threshold. */
  positiveRate: number;
  /** Share of rows whose label is positive. */
  labelPositiveRate: number;
  confusion: ConfusionMatrix;
}

/** Probabilities are clipped this far from 0 and 1 so that one confident mistake stays finite. */
export const LOG_LOSS_EPSILON = 1e-7;

/** Predicted positive when p >= threshold. */
export function confusionAt(labels: Labels, probabilities: Probabilities, threshold: number): ConfusionMatrix {
  checkInputs(labels, probabilities);
  let tp = 0;
  let fp = 0;
  let fn = 0;
  for (let i = 0; i < labels.length; i++) {
    const predicted = probabilities[i]! >= threshold;
    if (labels[i] === 1) {
      if (predicted) tp++;
      else fn++;
    } else if (predicted) fp++;
  }
  return { tp, fp, tn: labels.length - tp - fp - fn, fn };
}

export function computeMetrics(labels: Labels, probabilities: Probabilities, threshold: number): ClassificationMetrics {
  const confusion = confusionAt(labels, probabilities, threshold);
  const { tp, fp, tn, fn } = confusion;
  const rows = labels.length;
  return {
    rows,
    threshold,
    f1: f1Of(tp, fp, fn),
    precision: ratio(tp, tp + fp),
    recall: ratio(tp, tp + fn),
    accuracy: ratio(tp + tn, rows),
    rocAuc: rocAuc(labels, probabilities),
    logLoss: logLoss(labels, probabilities),
    positiveRate: ratio(tp + fp, rows),
    labelPositiveRate: ratio(tp + fn, rows),
    confusion,
  };
}

/** Mean binary cross-entropy, 0 for no rows. */
export function logLoss(labels: Labels, probabilities: Probabilities): number {
  checkInputs(labels, probabilities);
  let sum = 0;
  for (let i = 0; i < labels.length; i++) {
    const p = Math.min(Math.max(probabilities[i]!, LOG_LOSS_EPSILON), 1 - LOG_LOSS_EPSILON);
    sum -= labels[i] === 1 ? Math.log(p) : Math.log(1 - p);
  }
  return ratio(sum, labels.length);
}

/**
 * Area under the ROC curve as the Mann–Whitney U statistic: the share of (positive, negative)
 * pairs ranked correctly, a tied pair counting one half, which is what averaging tied ranks
 * gives. Null when either class is absent.
 */
export function rocAuc(labels: Labels, probabilities: Probabilities): number | null {
  const { positives, negatives } = sortedByClass(labels, probabilities);
  if (positives.length === 0 || negatives.length === 0) return null;
  // Walk both ascending lists one distinct score at a time. The pair counts are integers (or
  // halves) below 2^53 for any array that fits in memory, so the sum is exact until the division.
  let correctPairs = 0;
  let negativesBelow = 0;
  let i = 0;
  let j = 0;
  while (i < positives.length) {
    const score = Math.min(positives[i]!, j < negatives.length ? negatives[j]! : Infinity);
    let positivesHere = 0;
    let negativesHere = 0;
    for (; i < positives.length && positives[i] === score; i++) positivesHere++;
    for (; j < negatives.length && negatives[j] === score; j++) negativesHere++;
    correctPairs += positivesHere * (negativesBelow + negativesHere / 2);
    negativesBelow += negativesHere;
  }
  return correctPairs / (positives.length * negatives.length);
}

/**
 * The threshold maximising F1, placed in the middle of the best-F1 plateau: every threshold
 * between the lowest score predicted positive and the next lower score gives the same
 * predictions, and when several neighbouring cut-offs give the same best F1 the plateau spans
 * them all. The middle leaves a margin on both sides, so a separable validation set does not
 * put the threshold on its lowest positive score. One sorted pass (O(n log n)). Of two separate
 * plateaus with equal F1, the one whose middle is closest to 0.5 wins (the higher when equally
 * close). With a single class there is nothing to place a threshold between: 0.5, and the F1
 * that gives.
 */
export function bestF1Threshold(labels: Labels, probabilities: Probabilities): { threshold: number; f1: number } {
  const { positives, negatives } = sortedByClass(labels, probabilities);
  if (positives.length === 0 || negatives.length === 0) {
    const { tp, fp, fn } = confusionAt(labels, probabilities, 0.5);
    return { threshold: 0.5, f1: f1Of(tp, fp, fn) };
  }
  // Distinct scores from the highest down, with F1 when every row scoring at least that much is
  // predicted positive.
  const scores: number[] = [];
  const f1s: number[] = [];
  let tp = 0;
  let fp = 0;
  let i = positives.length - 1;
  let j = negatives.length - 1;
  while (i >= 0 || j >= 0) {
    const score = Math.max(i >= 0 ? positives[i]! : -Infinity, j >= 0 ? negatives[j]! : -Infinity);
    for (; i >= 0 && positives[i] === score; i--) tp++;
    for (; j >= 0 && negatives[j] === score; j--) fp++;
    scores.push(score);
    f1s.push(f1Of(tp, fp, positives.length - tp));
  }
  let bestF1 = 0;
  for (const f1 of f1s) bestF1 = Math.max(bestF1, f1);
  let best: { threshold: number; f1: number } | undefined;
  for (let k = 0; k < scores.length; k++) {
    if (f1s[k] !== bestF1 || (k > 0 && f1s[k - 1] === bestF1)) continue;
    let end = k;
    while (end + 1 < scores.length && f1s[end + 1] === bestF1) end++;
    // Thresholds in (next lower score, highest score of the run] all give this F1; below the
    // lowest score every row is positive, so 0 bounds the plateau there.
    const upper = scores[k]!;
    const lower = end + 1 < scores.length ? scores[end + 1]! : 0;
    const threshold = (upper + lower) / 2;
    if (!best || closerToHalf(threshold, best.threshold)) best = { threshold, f1: bestF1 };
  }
  return best!;
}

/** 2PR/(P+R) written over counts, so equal F1 values compare equal in floating point. */
function f1Of(tp: number, fp: number, fn: number): number {
  return tp === 0 ? 0 : (2 * tp) / (2 * tp + fp + fn);
}

function ratio(numerator: number, denominator: number): number {
  return denominator === 0 ? 0 : numerator / denominator;
}

function closerToHalf(candidate: number, current: number): boolean {
  const candidateDistance = Math.abs(candidate - 0.5);
  const currentDistance = Math.abs(current - 0.5);
  return candidateDistance < currentDistance || (candidateDistance === currentDistance && candidate > current);
}

/**
 * The scores of each class, ascending. Splitting by class lets the native numeric sort of a
 * Float64Array do the O(n log n) work, with no comparator and no index array; the sorted
 * lists are then merged by score.
 */
function sortedByClass(labels: Labels, probabilities: Probabilities) {
  checkInputs(labels, probabilities);
  let positiveCount = 0;
  for (let i = 0; i < labels.length; i++) positiveCount += labels[i]!;
  const positives = new Float64Array(positiveCount);
  const negatives = new Float64Array(labels.length - positiveCount);
  let p = 0;
  let n = 0;
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] === 1) positives[p++] = probabilities[i]!;
    else negatives[n++] = probabilities[i]!;
  }
  positives.sort();
  negatives.sort();
  return { positives, negatives };
}

/** Bad inputs are a caller's bug; failing loudly keeps NaN out of stored metrics. */
function checkInputs(labels: Labels, probabilities: Probabilities): void {
  if (labels.length !== probabilities.length) {
    throw new RangeError(`${labels.length} labels but ${probabilities.length} probabilities`);
  }
  for (let i = 0; i < labels.length; i++) {
    const label = labels[i]!;
    const p = probabilities[i]!;
    if (label > 1) throw new RangeError(`label ${label} at row ${i} is neither 0 nor 1`);
    if (!(p >= 0 && p <= 1)) throw new RangeError(`probability ${p} at row ${i} is outside [0, 1]`);
  }
}
