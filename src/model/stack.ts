import { boostedScore, fitBoosted, treeInput, type TreeInput } from "./boosting.js";
import { stratifiedFolds } from "./cross-validation.js";
import { labelsOf, type Inputs } from "./fit.js";
import { logLoss } from "./metrics.js";
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
 * on all of them, which is served (as the network's refit is).
 */
export function fitTreeFolds(preprocess: PreprocessParams, inputs: Inputs, rows: Int32Array, folds: number, seed: number): TreeFolds {
  const { X, dim, labels } = inputs;
  const columns = treeColumns(preprocess);
  const foldOf = stratifiedFolds(labelsOf(labels, rows), folds, seed);
  const outOfFold = new Float64Array(rows.length);
  for (let fold = 0; fold < folds; fold += 1) {
    const model = fitBoosted(
      X,
      dim,
      labels,
      rows.filter((_, i) => foldOf[i] !== fold),
      columns,
    );
    rows.forEach((r, i) => foldOf[i] === fold && (outOfFold[i] = boostedScore(model, X, r * dim)));
  }
  return { trees: { models: [fitBoosted(X, dim, labels, rows, columns)] }, outOfFold };
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

/** The served log odds: network x the network's own + trees x the trees' score. */
export interface Blend {
  network: number;
  trees: number;
}

/** Weights the blend may give the trees: 0 (the network alone) to 1 (the trees alone). */
export const BLEND_WEIGHTS = [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1];

/**
 * The blend (1 - w) x the network's log odds + w x the trees', with w the one of BLEND_WEIGHTS
 * whose blend of the out-of-fold scores has the lowest log loss (the lowest w on ties), and
 * that blend's probabilities. Both scores come from models that did not see the row, so a table
 * where the trees rank no better than the network keeps it (w = 0 on wine in bench/real-data.py,
 * 0-0.2 on breast cancer and penguins), and one where they rank better leans on them. One weight,
 * not a fitted pair: a logistic regression of the labels on both scores (two coefficients and a
 * bias) was measured too and lost, giving the trees large weights where the network's
 * out-of-fold scores nearly separate the classes (wine, split 1: 1.000 to 0.917).
 */
export function chooseBlend(labels: Uint8Array, network: Float32Array, trees: Float64Array): Blend & { outOfFold: Float32Array } {
  const logit = Float64Array.from(network, (p) => {
    const q = Math.min(Math.max(p, 1e-7), 1 - 1e-7);
    return Math.log(q / (1 - q));
  });
  const blend = (w: number) => Float32Array.from(logit, (z, i) => 1 / (1 + Math.exp(-((1 - w) * z + w * trees[i]!))));
  let best = { weight: 0, outOfFold: blend(0), loss: Number.POSITIVE_INFINITY };
  for (const weight of BLEND_WEIGHTS) {
    const outOfFold = weight === 0 ? best.outOfFold : blend(weight);
    const loss = logLoss(labels, outOfFold);
    if (loss < best.loss - 1e-9) best = { weight, outOfFold, loss };
  }
  return { network: 1 - best.weight, trees: best.weight, outOfFold: best.outOfFold };
}
