import type { LayersModel, Tensor } from "@tensorflow/tfjs";
import type { Tf } from "./backend.js";

export interface NetworkShape {
  inputDim: number;
  hidden: number[];
  learningRate: number;
  seed: number;
}

/**
 * The encoder layers shared by the autoencoder and the classifier; named so that the
 * classifier can take over the pretrained weights by name. Seeded initialisers make a run
 * reproducible.
 */
function encoderLayers(tf: Tf, shape: NetworkShape) {
  return shape.hidden.map((units, i) =>
    tf.layers.dense({
      units,
      activation: "relu",
      name: `encoder_${i}`,
      kernelInitializer: tf.initializers.glorotUniform({ seed: shape.seed + i }),
      biasInitializer: "zeros",
    }),
  );
}

/** A denoising autoencoder: encoder, a mirrored decoder, and a linear reconstruction. Compiled. */
export function createAutoencoder(tf: Tf, shape: NetworkShape): LayersModel {
  const model = tf.sequential({ name: "autoencoder" });
  const encoder = encoderLayers(tf, shape);
  model.add(tf.layers.inputLayer({ inputShape: [shape.inputDim] }));
  for (const layer of encoder) model.add(layer);
  const mirrored = shape.hidden.slice(0, -1).reverse();
  mirrored.forEach((units, i) =>
    model.add(
      tf.layers.dense({
        units,
        activation: "relu",
        name: `decoder_${i}`,
        kernelInitializer: tf.initializers.glorotUniform({ seed: shape.seed + 100 + i }),
      }),
    ),
  );
  model.add(
    tf.layers.dense({
      units: shape.inputDim,
      activation: "linear",
      name: "reconstruction",
      kernelInitializer: tf.initializers.glorotUniform({ seed: shape.seed + 200 }),
    }),
  );
  model.compile({ optimizer: tf.train.adam(shape.learningRate), loss: "meanSquaredError" });
  return model;
}

/** The classifier: the encoder plus a sigmoid head. Compiled. */
export function createClassifier(tf: Tf, shape: NetworkShape): LayersModel {
  const model = tf.sequential({ name: "classifier" });
  model.add(tf.layers.inputLayer({ inputShape: [shape.inputDim] }));
  for (const layer of encoderLayers(tf, shape)) model.add(layer);
  model.add(
    tf.layers.dense({ units: 1, activation: "sigmoid", name: "head", kernelInitializer: tf.initializers.glorotUniform({ seed: shape.seed + 300 }) }),
  );
  model.compile({ optimizer: tf.train.adam(shape.learningRate), loss: "binaryCrossentropy" });
  return model;
}

/** Copies the pretrained encoder's weights into the classifier (same layer names). */
export function transferEncoder(from: LayersModel, to: LayersModel, layers: number): void {
  for (let i = 0; i < layers; i += 1) to.getLayer(`encoder_${i}`).setWeights(from.getLayer(`encoder_${i}`).getWeights());
}

/** A fitted encoder's weights, layer by layer, kept apart from any model so several classifiers can start from them. */
export type EncoderWeights = Tensor[][];

export function copyEncoder(from: LayersModel, layers: number): EncoderWeights {
  return Array.from({ length: layers }, (_, i) =>
    from
      .getLayer(`encoder_${i}`)
      .getWeights()
      .map((w) => w.clone()),
  );
}

export function applyEncoder(weights: EncoderWeights, to: LayersModel): void {
  weights.forEach((layer, i) => to.getLayer(`encoder_${i}`).setWeights(layer));
}

/**
 * The baseline's shape: logistic regression is a single Dense sigmoid unit, so the same
 * artifacts and the same forward pass serve it. Its weights are fitted outside tfjs
 * (logistic.ts) and set on this model; it is never trained with an optimiser.
 */
export function createLogisticRegression(tf: Tf, inputDim: number): LayersModel {
  const model = tf.sequential({ name: "logistic_regression" });
  model.add(tf.layers.inputLayer({ inputShape: [inputDim] }));
  model.add(tf.layers.dense({ units: 1, activation: "sigmoid", name: "head", kernelInitializer: "zeros", biasInitializer: "zeros" }));
  return model;
}
