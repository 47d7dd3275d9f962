import type { LayersModel } from "@tensorflow/tfjs";
import type { Feature } from "../config/schema.js";
import { ProfileAccumulator } from "../data/profile.js";
import type { BaselineSection } from "./artifacts.js";
import type { Tf } from "./backend.js";
import { predict } from "./fit.js";
import type { FeatureColumns } from "./preprocess.js";
import { seededRandom } from "./random.js";
import type { TrainedModel } from "./train.js";

/** Rows in the stored forward-pass reference: enough to exercise every unit, small in the manifest. */
const REFERENCE_ROWS = 16;

/** The baseline's scores and its weights (a kernel of inputDim values and a bias). */
export function baselineSection(trained: TrainedModel): BaselineSection {
  const [kernel, bias] = trained.baselineModel.getLayer("head").getWeights();
  return {
    kind: "logistic-regression",
    validationF1: trained.baseline.validation.f1,
    threshold: trained.baseline.threshold,
    metrics: { validation: trained.baseline.validation, test: trained.baseline.test },
    weights: { kernel: Array.from(kernel!.dataSync()), bias: bias!.dataSync()[0]! },
  };
}

/**
 * Seeded inputs in the range standardised features take, and the probabilities tfjs gives for
 * them: at load, the WebAssembly forward pass must reproduce these, so a server checks its
 * arithmetic without loading tfjs.
 */
export function forwardReference(tf: Tf, model: LayersModel, dim: number, seed: number): { inputs: number[][]; outputs: number[] } {
  const random = seededRandom(seed + 7);
  const x = Float32Array.from({ length: REFERENCE_ROWS * dim }, () => random() * 4 - 2);
  const outputs = Array.from(predict(tf, model, x, REFERENCE_ROWS, dim));
  const inputs = Array.from({ length: REFERENCE_ROWS }, (_, r) => Array.from(x.subarray(r * dim, (r + 1) * dim)));
  return { inputs, outputs };
}

/** The training rows' profile, the drift reference of later batches while this version is active. */
export function trainingProfile(features: readonly Feature[], dataset: FeatureColumns) {
  const accumulator = new ProfileAccumulator(features);
  addToProfile(accumulator, features, dataset);
  return accumulator.profile();
}

/** Adds the rows of one chunk of raw columns to a profile (training data is profiled chunk by chunk as it is read). */
export function addToProfile(accumulator: ProfileAccumulator, features: readonly Feature[], columns: FeatureColumns): void {
  const values: Array<number | string | null> = new Array(features.length);
  for (let r = 0; r < columns.rows; r += 1) {
    features.forEach((f, i) => {
      if (f.type === "numeric") {
        const x = columns.numeric.get(f.name)![r]!;
        values[i] = Number.isNaN(x) ? null : x;
      } else {
        const index = columns.categorical.get(f.name)![r]!;
        values[i] = index < 0 ? null : f.values[index]!;
      }
    });
    accumulator.add(values);
  }
}
