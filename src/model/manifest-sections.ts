import type { LayersModel } from "@tensorflow/tfjs";
import type { BaselineSection } from "./artifacts.js";
import type { Tf } from "./backend.js";
import { predict } from "./fit.js";
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
