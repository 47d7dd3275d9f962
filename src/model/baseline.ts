import type { LayersModel } from "@tensorflow/tfjs";
import type { Tf } from "./backend.js";
import { poolOutOfFold, stratifiedFolds, type CrossValidation } from "./cross-validation.js";
import { labelsOf, type Inputs } from "./fit.js";
import { predictLogistic, type LogisticFits } from "./logistic.js";
import { bestF1Threshold, computeMetrics, type ClassificationMetrics } from "./metrics.js";
import { createLogisticRegression, setDenseWeights } from "./network.js";

export interface BaselineFit {
  model: LayersModel;
  threshold: number;
  validation: ClassificationMetrics;
  crossValidation: CrossValidation | null;
}

/** Weights rounded to float32 as the saved Dense layer holds them, so chosen thresholds match what is served. */
function fitRounded(fits: LogisticFits, rows: Int32Array) {
  const fit = fits.of(rows);
  return { kernel: Float32Array.from(fit.kernel), bias: Math.fround(fit.bias) };
}

/**
 * The logistic-regression baseline on the same inputs and rows as the network: fitted on the
 * training split with its threshold from validation, or cross-validated on the same stratified
 * folds (same seed) and refitted on all of them. Returned as a one-Dense-layer tfjs model so the
 * same artifacts and forward pass serve it.
 */
export function trainBaseline(
  tf: Tf,
  inputs: Inputs,
  plan: { train: Int32Array; validation: Int32Array } | { rows: Int32Array; folds: number; seed: number },
  fits: LogisticFits,
): BaselineFit {
  let threshold: number;
  let validation: ClassificationMetrics;
  let crossValidation: CrossValidation | null = null;
  let fitRows: Int32Array;
  let trained: ReturnType<typeof fitRounded> | null = null;
  if ("rows" in plan) {
    const y = labelsOf(inputs.labels, plan.rows);
    const foldOf = stratifiedFolds(y, plan.folds, plan.seed);
    const outOfFold = new Float32Array(plan.rows.length);
    for (let fold = 0; fold < plan.folds; fold += 1) {
      const kept = plan.rows.filter((_, i) => foldOf[i] !== fold);
      const held = Int32Array.from(foldOf.keys()).filter((i) => foldOf[i] === fold);
      const probabilities = predictLogistic(
        fitRounded(fits, kept),
        inputs.X,
        inputs.dim,
        held.map((i) => plan.rows[i]!),
      );
      held.forEach((i, j) => (outOfFold[i] = probabilities[j]!));
    }
    crossValidation = { epochs: 0, history: [], ...poolOutOfFold(y, foldOf, outOfFold, plan.folds) };
    threshold = crossValidation.threshold;
    validation = computeMetrics(y, outOfFold, threshold);
    fitRows = plan.rows;
  } else {
    const y = labelsOf(inputs.labels, plan.validation);
    trained = fitRounded(fits, plan.train);
    const probabilities = predictLogistic(trained, inputs.X, inputs.dim, plan.validation);
    ({ threshold } = bestF1Threshold(y, probabilities));
    validation = computeMetrics(y, probabilities, threshold);
    fitRows = plan.train;
  }
  const final = trained ?? fitRounded(fits, fitRows);
  const model = createLogisticRegression(tf, inputs.dim);
  setDenseWeights(tf, model, "head", final.kernel, [inputs.dim, 1], Float32Array.of(final.bias));
  return { model, threshold, validation, crossValidation };
}
