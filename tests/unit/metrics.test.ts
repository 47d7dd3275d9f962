import { describe, expect, it } from "vitest";
import { bestF1Threshold, computeMetrics, confusionAt, logLoss, rocAuc, type ClassificationMetrics } from "../../src/model/metrics.js";

const labelsOf = (values: number[]) => Uint8Array.from(values);
const probs = (values: number[]) => Float64Array.from(values);

/** A seeded source of uniform numbers, so every run sees the same data. */
function uniformSource(seed: number) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = Math.imul(state ^ (state >>> 15), state | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) + 0.5) / 4294967296;
  };
}

/** Noisy scores rounded to two decimals, so many rows share a probability. */
function randomCase(seed: number, rows: number) {
  const uniform = uniformSource(seed);
  const labels = new Uint8Array(rows);
  const probabilities = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    labels[i] = uniform() < 0.3 ? 1 : 0;
    const score = 0.35 * labels[i]! + 0.65 * uniform();
    probabilities[i] = Math.round(score * 100) / 100;
  }
  return { labels, probabilities };
}

/** The definition, pair by pair, against which the sorted-merge AUC is checked. */
function pairwiseAuc(labels: Uint8Array, probabilities: Float64Array): number {
  let correct = 0;
  let pairs = 0;
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] !== 1) continue;
    for (let j = 0; j < labels.length; j++) {
      if (labels[j] !== 0) continue;
      pairs++;
      if (probabilities[i]! > probabilities[j]!) correct += 1;
      else if (probabilities[i] === probabilities[j]) correct += 0.5;
    }
  }
  return correct / pairs;
}

/** Every candidate threshold tried in turn, F1 written as 2PR/(P+R). */
function bruteForceBestF1(labels: Uint8Array, probabilities: Float64Array) {
  let best = { threshold: 0.5, f1: 0 };
  for (const threshold of new Set(probabilities)) {
    const { tp, fp, fn } = confusionAt(labels, probabilities, threshold);
    const precision = tp + fp === 0 ? 0 : tp / (tp + fp);
    const recall = tp + fn === 0 ? 0 : tp / (tp + fn);
    const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
    const tie = Math.abs(f1 - best.f1) < 1e-12;
    const closer = Math.abs(threshold - 0.5) < Math.abs(best.threshold - 0.5);
    if ((!tie && f1 > best.f1) || (tie && closer)) best = { threshold, f1 };
  }
  return best;
}

/** Every leaf value of the metrics, walked before JSON could turn NaN into null. */
function numbersIn(value: unknown): unknown[] {
  if (typeof value === "object" && value !== null) return Object.values(value).flatMap(numbersIn);
  return [value];
}

function expectJsonSafe(metrics: ClassificationMetrics) {
  const { rocAuc: auc, ...rest } = metrics;
  for (const value of numbersIn(rest)) expect(Number.isFinite(value)).toBe(true);
  if (auc !== null) expect(Number.isFinite(auc)).toBe(true);
  expect(JSON.parse(JSON.stringify(metrics))).toEqual(metrics);
}

// The case from scikit-learn's documentation of roc_auc_score.
const sklearnLabels = labelsOf([0, 0, 1, 1]);
const sklearnProbabilities = probs([0.1, 0.4, 0.35, 0.8]);

describe("confusionAt and computeMetrics", () => {
  it("counts a row as predicted positive when its probability equals the threshold", () => {
    expect(confusionAt(sklearnLabels, sklearnProbabilities, 0.35)).toEqual({ tp: 2, fp: 1, tn: 1, fn: 0 });
    expect(confusionAt(sklearnLabels, sklearnProbabilities, 0.36)).toEqual({ tp: 1, fp: 1, tn: 1, fn: 1 });
  });

  it("matches the values scikit-learn gives for its documented example", () => {
    const metrics = computeMetrics(sklearnLabels, sklearnProbabilities, 0.5);
    expect(metrics).toMatchObject({
      rows: 4,
      threshold: 0.5,
      precision: 1,
      recall: 0.5,
      accuracy: 0.75,
      rocAuc: 0.75,
      positiveRate: 0.25,
      labelPositiveRate: 0.5,
      confusion: { tp: 1, fp: 0, tn: 2, fn: 1 },
    });
    expect(metrics.f1).toBeCloseTo(2 / 3, 12);
    expect(metrics.logLoss).toBeCloseTo(0.472287953809176, 12);
    expectJsonSafe(metrics);
  });

  it("reports zero precision and F1, not NaN, when nothing is predicted positive", () => {
    const metrics = computeMetrics(sklearnLabels, sklearnProbabilities, 0.9);
    expect(metrics).toMatchObject({ precision: 0, recall: 0, f1: 0, positiveRate: 0, accuracy: 0.5 });
    expectJsonSafe(metrics);
  });

  it("stays finite on one-class and empty inputs, with rocAuc null", () => {
    const cases = [
      { labels: labelsOf([0, 0, 0]), probabilities: probs([0.2, 0.7, 0.9]) },
      { labels: labelsOf([1, 1]), probabilities: probs([0.2, 0.7]) },
      { labels: labelsOf([]), probabilities: probs([]) },
    ];
    for (const { labels, probabilities } of cases) {
      const metrics = computeMetrics(labels, probabilities, 0.5);
      expect(metrics.rocAuc).toBeNull();
      expectJsonSafe(metrics);
    }
    expect(computeMetrics(labelsOf([1, 1]), probs([0.2, 0.7]), 0.5)).toMatchObject({
      precision: 1,
      recall: 0.5,
      labelPositiveRate: 1,
    });
  });

  it("accepts Float32Array probabilities", () => {
    const metrics = computeMetrics(sklearnLabels, Float32Array.from(sklearnProbabilities), 0.5);
    expect(metrics.rocAuc).toBe(0.75);
    expect(metrics.logLoss).toBeCloseTo(0.472287953809176, 6);
  });

  it("rejects inputs that would put NaN into stored metrics", () => {
    expect(() => computeMetrics(labelsOf([0, 1]), probs([0.5]), 0.5)).toThrow(RangeError);
    expect(() => rocAuc(labelsOf([0, 2]), probs([0.1, 0.9]))).toThrow(/label 2 at row 1/);
    expect(() => bestF1Threshold(labelsOf([0, 1]), probs([0.1, Number.NaN]))).toThrow(/outside \[0, 1\]/);
    expect(() => confusionAt(labelsOf([0, 1]), probs([0.1, 1.5]), 0.5)).toThrow(RangeError);
  });
});

describe("logLoss", () => {
  it("clips certain mistakes to a finite loss", () => {
    expect(logLoss(labelsOf([1]), probs([0]))).toBeCloseTo(-Math.log(1e-7), 9);
    expect(logLoss(labelsOf([0]), probs([1]))).toBeCloseTo(-Math.log(1e-7), 6);
    expect(logLoss(labelsOf([1, 0]), probs([1, 0]))).toBeCloseTo(1e-7, 12);
  });
});

describe("rocAuc", () => {
  it("gives 0.5 when every probability is the same", () => {
    expect(rocAuc(labelsOf([0, 1, 1, 0, 1]), probs([0.3, 0.3, 0.3, 0.3, 0.3]))).toBe(0.5);
  });

  it("counts a tied positive-negative pair as half right", () => {
    // Pairs (0.5, 0.2), (0.9, 0.2), (0.9, 0.5) are right and (0.5, 0.5) is tied: 3.5 of 4.
    expect(rocAuc(labelsOf([0, 1, 0, 1]), probs([0.2, 0.5, 0.5, 0.9]))).toBe(0.875);
  });

  it("gives 1 for a perfect ranking and 0 for a reversed one", () => {
    expect(rocAuc(labelsOf([0, 0, 1, 1]), probs([0.1, 0.2, 0.3, 0.4]))).toBe(1);
    expect(rocAuc(labelsOf([1, 1, 0, 0]), probs([0.1, 0.2, 0.3, 0.4]))).toBe(0);
  });

  it("equals the pairwise definition on random data with many ties", () => {
    for (const seed of [1, 2, 3]) {
      const { labels, probabilities } = randomCase(seed, 400);
      expect(rocAuc(labels, probabilities)).toBeCloseTo(pairwiseAuc(labels, probabilities), 12);
    }
  });

  it("is null when one class is missing", () => {
    expect(rocAuc(labelsOf([1, 1]), probs([0.1, 0.9]))).toBeNull();
    expect(rocAuc(labelsOf([0]), probs([0.1]))).toBeNull();
  });
});

describe("bestF1Threshold", () => {
  it("finds the optimum, which need not be near 0.5, and sits between the scores that bound it", () => {
    // Scanning down: F1 is 2/5, 4/6, 4/7, 6/8, 6/9, 8/10, 8/11 at 0.9 ... 0.1: best from 0.2, so
    // anything in (0.1, 0.2] gives it; the middle is 0.15.
    const labels = labelsOf([1, 1, 0, 1, 0, 1, 0]);
    const probabilities = probs([0.9, 0.8, 0.7, 0.6, 0.3, 0.2, 0.1]);
    const best = bestF1Threshold(labels, probabilities);
    expect(best.f1).toBe(0.8);
    expect(best.threshold).toBeCloseTo(0.15, 12);
  });

  it("puts the threshold in the middle of the gap of a perfectly separated set", () => {
    // Negatives up to 0.2, positives from 0.9 up: any threshold in (0.2, 0.9] is perfect.
    const best = bestF1Threshold(labelsOf([0, 0, 0, 1, 1, 1]), probs([0.05, 0.1, 0.2, 0.9, 0.95, 0.99]));
    expect(best).toEqual({ threshold: 0.55, f1: 1 });
    // The edge (the lowest positive score) was the old answer: a positive scoring a hair lower
    // on new data was lost.
    expect(computeMetrics(labelsOf([1]), probs([0.89]), best.threshold).f1).toBe(1);
  });

  it("spans neighbouring cut-offs of equal F1, and counts tied scores as one cut-off", () => {
    // At 0.8 (tie of a positive and a negative) F1 = 2/3; at 0.7 F1 = 4/5; at 0.6 (a
    // negative) 4/6; so the plateau is (0.6, 0.7]: the middle 0.65.
    const best = bestF1Threshold(labelsOf([1, 0, 1, 0, 0]), probs([0.8, 0.8, 0.7, 0.6, 0.1]));
    expect(best.f1).toBeCloseTo(0.8, 12);
    expect(best.threshold).toBeCloseTo(0.65, 12);
    // Every score tied: one cut-off, every row positive; its plateau reaches down to 0.
    const tied = bestF1Threshold(labelsOf([1, 0, 1]), probs([0.4, 0.4, 0.4]));
    expect(tied).toEqual({ threshold: 0.2, f1: 0.8 });
    // Two cut-offs of equal F1 side by side make one plateau: at 0.9 F1 = 2/3 (1 tp, 0 fp,
    // 1 fn), at 0.5 (a positive and a negative together) 2*2/(4+1) = 0.8, at 0.3 (a negative)
    // 4/6, at 0.2 (a negative) 4/7: the plateau is (0.3, 0.5].
    const wide = bestF1Threshold(labelsOf([1, 1, 0, 0, 0]), probs([0.9, 0.5, 0.5, 0.3, 0.2]));
    expect(wide.f1).toBeCloseTo(0.8, 12);
    expect(wide.threshold).toBeCloseTo(0.4, 12);
  });

  it("returns threshold 0.5 when validation holds a single class", () => {
    expect(bestF1Threshold(labelsOf([0, 0]), probs([0.2, 0.9]))).toEqual({ threshold: 0.5, f1: 0 });
    expect(bestF1Threshold(labelsOf([1, 1, 1]), probs([0.2, 0.6, 0.9]))).toEqual({ threshold: 0.5, f1: 0.8 });
    expect(bestF1Threshold(labelsOf([]), probs([]))).toEqual({ threshold: 0.5, f1: 0 });
  });

  it("agrees with a brute-force search, and computeMetrics at its threshold gives its F1", () => {
    for (let seed = 1; seed <= 20; seed++) {
      const { labels, probabilities } = randomCase(seed, 300);
      const best = bestF1Threshold(labels, probabilities);
      const expected = bruteForceBestF1(labels, probabilities);
      expect(best.f1).toBeCloseTo(expected.f1, 12);
      // Strictly between two neighbouring observed scores (or below the lowest), never on one.
      expect(new Set(probabilities).has(best.threshold)).toBe(false);
      expect(computeMetrics(labels, probabilities, best.threshold).f1).toBe(best.f1);
    }
  });

  it("returns a threshold that reproduces its F1 on Float32Array probabilities", () => {
    const { labels, probabilities } = randomCase(7, 300);
    const narrow = Float32Array.from(probabilities);
    const best = bestF1Threshold(labels, narrow);
    expect(best.f1).toBeGreaterThan(0);
    expect(computeMetrics(labels, narrow, best.threshold).f1).toBe(best.f1);
  });
});
