import type { LayersModel, SymbolicTensor, Tensor } from "@tensorflow/tfjs";
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

/**
 * The classifier as it is saved and served: the encoder plus a sigmoid head. Compiled. Training
 * builds createWideAndDeep and flattens it into this shape, two units wider per hidden layer.
 */
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

/**
 * The classifier as it trains: the encoder and its head (the "deep" logit) plus a linear
 * function of the inputs (the "wide" logit), summed under one sigmoid (Cheng et al., "Wide &
 * Deep Learning", 2016). The learner starts the wide part at the logistic-regression fit of
 * the same rows and the head's kernel at zero, so training starts from logistic regression and
 * the deep part learns what it leaves: on a near-linear table of a few hundred rows the network
 * then keeps the fit a linear model gets, where an MLP alone had to find it from random weights.
 * Served as one Sequential network (flattenWideAndDeep), so the artifacts and forward pass are
 * those of createClassifier.
 */
export function createWideAndDeep(tf: Tf, shape: NetworkShape): LayersModel {
  const input = tf.input({ shape: [shape.inputDim] });
  let hidden: SymbolicTensor = input;
  for (const layer of encoderLayers(tf, shape)) hidden = layer.apply(hidden) as SymbolicTensor;
  const deep = tf.layers.dense({ units: 1, name: "head", kernelInitializer: "zeros" }).apply(hidden) as SymbolicTensor;
  const wide = tf.layers.dense({ units: 1, name: "wide", kernelInitializer: "zeros" }).apply(input) as SymbolicTensor;
  const logit = tf.layers.add({ name: "logit" }).apply([deep, wide]) as SymbolicTensor;
  const output = tf.layers.activation({ activation: "sigmoid", name: "probability" }).apply(logit) as SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: output, name: "classifier" });
  model.compile({ optimizer: tf.train.adam(shape.learningRate), loss: "binaryCrossentropy" });
  return model;
}

/** Sets the wide part's kernel (one weight per input) and bias. */
export function setWide(tf: Tf, model: LayersModel, kernel: ArrayLike<number>, bias: number): void {
  setDenseWeights(tf, model, "wide", Float32Array.from(kernel), [kernel.length, 1], Float32Array.of(bias));
}

/**
 * The same function as a Sequential ReLU network, two units wider per hidden layer: the first
 * hidden layer gains relu(w.x) and relu(-w.x), every later one passes both on unchanged (they
 * are never negative, so ReLU keeps them), and the head adds the first and subtracts the second,
 * which is w.x; the wide bias joins the head's. Exact up to float32 rounding of the sums.
 */
export function flattenWideAndDeep(tf: Tf, model: LayersModel, shape: NetworkShape): LayersModel {
  const read = (name: string) =>
    model
      .getLayer(name)
      .getWeights()
      .map((w) => w.dataSync() as Float32Array);
  const widened = shape.hidden.map((units) => units + 2);
  const flat = createClassifier(tf, { ...shape, hidden: widened });
  const [wideKernel, wideBias] = read("wide");
  let inputs = shape.inputDim;
  let carried = -1; // where the previous layer keeps relu(w.x); -1 before the first hidden layer
  shape.hidden.forEach((units, layer) => {
    const [kernel, bias] = read(`encoder_${layer}`);
    const out = widened[layer]!;
    const rows = carried < 0 ? inputs : inputs + 2;
    const k = new Float32Array(rows * out);
    for (let r = 0; r < inputs; r += 1) for (let c = 0; c < units; c += 1) k[r * out + c] = kernel![r * units + c]!;
    if (carried < 0) {
      for (let r = 0; r < inputs; r += 1) {
        k[r * out + units] = wideKernel![r]!;
        k[r * out + units + 1] = -wideKernel![r]!;
      }
    } else {
      k[carried * out + units] = 1;
      k[(carried + 1) * out + units + 1] = 1;
    }
    const b = new Float32Array(out);
    b.set(bias!);
    setDenseWeights(tf, flat, `encoder_${layer}`, k, [rows, out], b);
    inputs = units;
    carried = units;
  });
  const [headKernel, headBias] = read("head");
  const k = new Float32Array(inputs + 2);
  k.set(headKernel!);
  k[inputs] = 1;
  k[inputs + 1] = -1;
  setDenseWeights(tf, flat, "head", k, [inputs + 2, 1], Float32Array.of(headBias![0]! + wideBias![0]!));
  return flat;
}

/**
 * A served network (flattenWideAndDeep's shape, or the baseline's single Dense unit) one input
 * wider, whose log odds are blend.network times its own plus blend.trees times that new last
 * input (the trees' score, stack.ts) plus blend.bias. The linear path carries it: the first
 * layer's relu(w.x) and relu(-w.x) units (the last two) take a w.x + b s and its negation, and
 * the head scales the hidden units' part and its bias by a and adds the blend's bias. Exact up
 * to float32 rounding.
 */
export function withBlendedInput(tf: Tf, model: LayersModel, blend: { network: number; trees: number; bias?: number }): LayersModel {
  const dense = model.layers.filter((layer) => layer.getWeights().length === 2);
  const weights = dense.map((layer) => layer.getWeights().map((w) => w.dataSync() as Float32Array));
  const inputs = (dense[0]!.getWeights()[0]!.shape[0] as number) + 1;
  const hidden = dense.slice(0, -1).map((layer) => layer.getWeights()[1]!.shape[0] as number);
  const keep = blend.network;
  const weight = blend.trees;
  const blended =
    hidden.length === 0 ? createLogisticRegression(tf, inputs) : createClassifier(tf, { inputDim: inputs, hidden, learningRate: 0.001, seed: 0 });
  dense.forEach((_, i) => {
    const [kernel, bias] = weights[i]!;
    const units = bias!.length;
    const rows = kernel!.length / units + (i === 0 ? 1 : 0);
    const k = new Float32Array(rows * units);
    k.set(kernel!);
    const b = Float32Array.from(bias!);
    const last = i === dense.length - 1;
    if (i === 0 && !last) {
      // The first hidden layer: only the linear path's two units (the last two) change.
      for (let r = 0; r < rows - 1; r += 1) {
        k[r * units + units - 2]! *= keep;
        k[r * units + units - 1]! *= keep;
      }
      k[(rows - 1) * units + units - 2] = weight;
      k[(rows - 1) * units + units - 1] = -weight;
    } else if (last) {
      // The head: the hidden units' part scaled; the linear path's two units (already scaled in
      // the first layer) pass unchanged. The baseline has no hidden layer: all of it scales.
      const passed = hidden.length === 0 ? 0 : 2;
      for (let r = 0; r < rows - passed; r += 1) k[r]! *= keep;
      if (hidden.length === 0) k[rows - 1] = weight;
      b[0] = b[0]! * keep + (blend.bias ?? 0);
    }
    setDenseWeights(tf, blended, blended.layers.filter((l) => l.getWeights().length === 2)[i]!.name, k, [rows, units], b);
  });
  return blended;
}

/** Sets a Dense layer's kernel ([inputs, units], row-major) and bias. */
export function setDenseWeights(tf: Tf, model: LayersModel, name: string, kernel: Float32Array, shape: [number, number], bias: Float32Array): void {
  const weights = [tf.tensor2d(kernel, shape), tf.tensor1d(bias)];
  model.getLayer(name).setWeights(weights);
  weights.forEach((w) => w.dispose());
}

/**
 * Frees a trained model and its optimiser: compile() leaves the optimiser unowned, so
 * model.dispose() alone keeps Adam's moment tensors (about 20 per model) for the process's life.
 */
export function disposeModel(model: LayersModel): void {
  model.optimizer?.dispose();
  model.dispose();
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
