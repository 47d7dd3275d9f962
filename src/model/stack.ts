import { boostedScore, fitBoosted, treeInput, type TreeInput } from "./boosting.js";
import { stratifiedFolds } from "./cross-validation.js";
import { labelsOf, type Inputs } from "./fit.js";
import { fitLogistic } from "./logistic.js";
import { LOG_LOSS_EPSILON } from "./metrics.js";
import { numericWidth, type PreprocessParams } from "./preprocess.js";

/**
 * The encoded columns trees split on: each numeric's standardised value and missing indicator,
 * and each category's slot. Bin inputs are left out: each is a monotone function of its
 * feature's value, so a split on one is a split on the value, and they would multiply the
 * search's work by up to nine.
 */
export function treeColumns(preprocess: PreprocessParams): number[] {
  const columns: number[] = [];
  let offset = 0;
  for (const feature of preprocess.features) {
    if (feature.type === "numeric") {
      const width = numericWidth(feature);
      columns.push(offset);
      if (feature.indicator) columns.push(offset + width);
      offset += width + (feature.indicator ? 1 : 0);
    } else {
      for (let v = 0; v <= feature.values.length; v += 1) columns.push(offset + v);
      offset += feature.values.length + 1;
    }
  }
  return columns;
}

export interface TreeFolds {
  /** The model refitted on all of `rows`: what is served. */
  trees: TreeInput;
  /** Each of `rows`' score from the fold model that did not see it (log odds). */
  outOfFold: Float64Array;
}

/**
 * Boosted trees cross-validated like the network: one model per fold of `rows` (the folds
 * cross-validation uses: same labels, k and seed) for the out-of-fold scores, then one refitted
 * on all of them, which is served (as the network's refit is). A model takes up to seconds
 * (5,000 rows of 60 columns: about 1.2 s on a quiet machine), so the event loop turns between
 * models and `onModel` reports each one fitted, for progress.
 */
export async function fitTreeFolds(
  preprocess: PreprocessParams,
  inputs: Inputs,
  rows: Int32Array,
  folds: number,
  seed: number,
  onModel?: (fitted: number, models: number) => void,
): Promise<TreeFolds> {
  const { X, dim, labels } = inputs;
  const columns = treeColumns(preprocess);
  const foldOf = stratifiedFolds(labelsOf(labels, rows), folds, seed);
  const outOfFold = new Float64Array(rows.length);
  const fit = async (fitRows: Int32Array, index: number) => {
    await new Promise((resolve) => setImmediate(resolve));
    const model = fitBoosted(X, dim, labels, fitRows, columns);
    onModel?.(index + 1, folds + 1);
    return model;
  };
  for (let fold = 0; fold < folds; fold += 1) {
    const model = await fit(
      rows.filter((_, i) => foldOf[i] !== fold),
      fold,
    );
    rows.forEach((r, i) => foldOf[i] === fold && (outOfFold[i] = boostedScore(model, X, r * dim)));
  }
  return { trees: { models: [await fit(rows, folds)] }, outOfFold };
}

/** The preprocessing with the trees' score as its last input, and every row's inputs widened by it. */
export function withTreeInput(preprocess: PreprocessParams, inputs: Inputs, trees: TreeInput): { preprocess: PreprocessParams; inputs: Inputs } {
  const { X, dim, labels } = inputs;
  const wide = dim + 1;
  const rows = X.length / dim;
  const widened = new Float32Array(rows * wide);
  for (let r = 0; r < rows; r += 1) {
    widened.set(X.subarray(r * dim, (r + 1) * dim), r * wide);
    widened[r * wide + dim] = treeInput(trees, X, r * dim);
  }
  return { preprocess: { ...preprocess, inputDim: wide, trees }, inputs: { X: widened, dim: wide, labels } };
}

/**
 * The served log odds: network x the network's own + trees x the trees' score + bias, where
 * network = (1 - weight) a, trees = weight b and bias = (1 - weight) c + weight d, with a z + c
 * and b t + d each score's calibration out of fold.
 */
export interface Blend {
  weight: number;
  network: number;
  trees: number;
  bias: number;
}

/** Weights the blend may give the trees: 0 (the network alone) to 1 (the trees alone). */
export const BLEND_WEIGHTS = [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1];

/**
 * The blend of the network's and the trees' out-of-fold log odds (each row scored by models
 * that did not see it), and that blend's probabilities.
 *
 * Each score is first calibrated on those rows (Platt scaling: a logistic regression of the
 * labels on it, a z + c and b t + d), then blended as (1 - w) x the one + w x the other. Without
 * calibration the blend also shrinks overconfident scores: averaging two noisy scores lowers the
 * log loss even when neither ranks anything (labels drawn at random: w 0.7), so a weight bought
 * calibration rather than the trees' ranking. Calibrated, weights differ only in how well they
 * rank.
 *
 * w is the weight nearest the even blend (0.5) among those whose mean log loss is within one
 * standard error of the best weight's (the error of the mean per-row difference, paired, so what
 * both get right or wrong cancels): the evidence bounds w, and within its noise the two models
 * are averaged. Equal weights are the known hedge when weights must be read off few rows (the
 * "forecast combination puzzle"): a few hundred out-of-fold rows can prefer the network while the
 * held-out rows prefer the trees (glass, README). Against the lowest weight within the standard
 * error, which kept the network alone whenever the trees' gain was noise: over 27 real tables,
 * four splits and two training seeds, the same mean test F1 with two tables short of gradient
 * boosting instead of three, and +0.012 on five tables scored only afterwards (README). The
 * lowest loss alone followed the noise (0.6 on Mroz, where logistic regression does as well as
 * anything). One weight, not a fitted pair: a logistic regression of the labels on both scores
 * (two coefficients and a bias) lost, giving the trees large weights where the network's
 * out-of-fold scores nearly separate the classes (wine, split 1: 1.000 to 0.917).
 */
export function chooseBlend(labels: Uint8Array, network: Float32Array, trees: Float64Array): Blend & { outOfFold: Float32Array } {
  const n = labels.length;
  const z = Float64Array.from(network, (p) => {
    const q = Math.min(Math.max(p, LOG_LOSS_EPSILON), 1 - LOG_LOSS_EPSILON);
    return Math.log(q / (1 - q));
  });
  const net = platt(labels, z);
  const tree = platt(labels, trees);
  const logOdds = (w: number, i: number) => (1 - w) * (net.scale * z[i]! + net.bias) + w * (tree.scale * trees[i]! + tree.bias);
  const candidates = BLEND_WEIGHTS.map((weight) => {
    const outOfFold = Float32Array.from(z, (_, i) => 1 / (1 + Math.exp(-logOdds(weight, i))));
    const losses = Float64Array.from(outOfFold, (q, i) => -Math.log(Math.max(labels[i] === 1 ? q : 1 - q, LOG_LOSS_EPSILON)));
    return { weight, outOfFold, losses, loss: losses.reduce((a, b) => a + b, 0) / n };
  });
  const best = candidates.reduce((a, b) => (b.loss < a.loss - 1e-12 ? b : a));
  const withinNoise = candidates.filter((c) => {
    if (c === best) return true;
    let sum = 0;
    let squares = 0;
    for (let i = 0; i < n; i += 1) {
      const d = c.losses[i]! - best.losses[i]!;
      sum += d;
      squares += d * d;
    }
    const mean = sum / n;
    const standardError = n > 1 ? Math.sqrt(Math.max(squares / n - mean * mean, 0) / (n - 1)) : 0;
    return mean <= standardError;
  });
  // The nearest to 0.5; of two as near, the lower.
  const chosen = withinNoise.reduce((a, b) => (Math.abs(b.weight - 0.5) < Math.abs(a.weight - 0.5) - 1e-9 ? b : a));
  const w = chosen.weight;
  return {
    weight: w,
    network: (1 - w) * net.scale,
    trees: w * tree.scale,
    bias: (1 - w) * net.bias + w * tree.bias,
    outOfFold: chosen.outOfFold,
  };
}

/**
 * Platt scaling: the logistic regression of the labels on one score, scale x score + bias
 * (fitLogistic, every row weighing 1; the scale carries its unit L2 penalty, so a score that
 * separates the classes still gets a finite one).
 */
export function platt(labels: Uint8Array, score: ArrayLike<number>): { scale: number; bias: number } {
  const fit = fitLogistic(Float32Array.from(score), 1, labels, Int32Array.from(labels.keys()), 1, false);
  return { scale: fit.kernel[0]!, bias: fit.bias };
}
