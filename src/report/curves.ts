import type { CurvePoints, VersionDetail } from "./types.js";

/** A curve is drawn from at most this many points: more adds bytes to the page, not detail. */
const MAX_POINTS = 200;
const CALIBRATION_BINS = 10;
const round4 = (x: number) => Number(x.toFixed(4));

/**
 * ROC and precision-recall curves (with the point at the decision threshold) and a reliability
 * diagram from labels and predicted probabilities. Pure; the caller scores the rows.
 */
export function curvesOf(labels: Uint8Array, probabilities: Float32Array | Float64Array, threshold: number): NonNullable<VersionDetail["curves"]> {
  const n = labels.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => probabilities[b]! - probabilities[a]!);
  let positives = 0;
  for (let i = 0; i < n; i += 1) positives += labels[i]!;
  const negatives = n - positives;
  // Walking from the highest score down, each distinct score is one threshold: everything seen
  // so far is predicted positive.
  const roc: CurvePoints = { x: [0], y: [0] };
  const pr: CurvePoints = { x: [0], y: [1] };
  let tp = 0;
  let fp = 0;
  let atThreshold = { tp: 0, fp: 0 };
  for (let k = 0; k < n; ) {
    const score = probabilities[order[k]!]!;
    for (; k < n && probabilities[order[k]!] === score; k += 1) {
      if (labels[order[k]!] === 1) tp += 1;
      else fp += 1;
    }
    if (score >= threshold) atThreshold = { tp, fp };
    roc.x.push(negatives ? fp / negatives : 0);
    roc.y.push(positives ? tp / positives : 0);
    pr.x.push(positives ? tp / positives : 0);
    pr.y.push(tp / (tp + fp));
  }
  const calibration = calibrationOf(labels, probabilities);
  return {
    rows: n,
    roc: thin(roc),
    rocAtThreshold: { x: round4(negatives ? atThreshold.fp / negatives : 0), y: round4(positives ? atThreshold.tp / positives : 0) },
    pr: thin(pr),
    prAtThreshold: {
      x: round4(positives ? atThreshold.tp / positives : 0),
      y: round4(atThreshold.tp + atThreshold.fp ? atThreshold.tp / (atThreshold.tp + atThreshold.fp) : 1),
    },
    calibration,
  };
}

/** Ten equal-width probability bins: the mean prediction and the observed positive share of each. */
function calibrationOf(labels: Uint8Array, probabilities: Float32Array | Float64Array): CurvePoints & { counts: number[] } {
  const sums = new Float64Array(CALIBRATION_BINS);
  const hits = new Float64Array(CALIBRATION_BINS);
  const counts = new Array<number>(CALIBRATION_BINS).fill(0);
  for (let i = 0; i < labels.length; i += 1) {
    const bin = Math.min(CALIBRATION_BINS - 1, Math.floor(probabilities[i]! * CALIBRATION_BINS));
    sums[bin]! += probabilities[i]!;
    hits[bin]! += labels[i]!;
    counts[bin]! += 1;
  }
  const out = { x: [] as number[], y: [] as number[], counts: [] as number[] };
  for (let bin = 0; bin < CALIBRATION_BINS; bin += 1) {
    if (counts[bin] === 0) continue;
    out.x.push(round4(sums[bin]! / counts[bin]!));
    out.y.push(round4(hits[bin]! / counts[bin]!));
    out.counts.push(counts[bin]!);
  }
  return out;
}

/** Keeps at most MAX_POINTS points, always the first and the last, rounded to four decimals. */
function thin(curve: CurvePoints): CurvePoints {
  const step = Math.max(1, Math.ceil(curve.x.length / MAX_POINTS));
  const out: CurvePoints = { x: [], y: [] };
  for (let i = 0; i < curve.x.length; i += step) {
    out.x.push(round4(curve.x[i]!));
    out.y.push(round4(curve.y[i]!));
  }
  if ((curve.x.length - 1) % step !== 0) {
    out.x.push(round4(curve.x.at(-1)!));
    out.y.push(round4(curve.y.at(-1)!));
  }
  return out;
}
