import type { LayersModel, Scalar, Tensor, Variable } from "@tensorflow/tfjs";
import type { Tf } from "./backend.js";
import { bestF1Threshold, logLoss } from "./metrics.js";
import { permutation } from "./random.js";

/** The preprocessed inputs of every row (rows x dim) and the labels (-1 unlabelled). */
export interface Inputs {
  X: Float32Array;
  dim: number;
  labels: Int8Array;
}

/** One epoch of the classifier (or baseline): training loss, and validation figures when there is validation. */
export interface EpochRecord {
  epoch: number;
  loss: number;
  valLoss?: number;
  valF1?: number;
}

/** Balanced class weights: each class contributes half of the loss. */
export function classWeightOf(labels: Uint8Array): Record<number, number> {
  const positives = labels.reduce((sum, y) => sum + y, 0);
  return { 0: labels.length / (2 * (labels.length - positives)), 1: labels.length / (2 * positives) };
}

export function shuffled(indices: Int32Array, random: () => number): Int32Array {
  const order = permutation(indices.length, random);
  return order.map((i) => indices[i]!);
}

function gatherRows(X: Float32Array, dim: number, rows: Int32Array): Float32Array {
  const out = new Float32Array(rows.length * dim);
  for (let r = 0; r < rows.length; r += 1) out.set(X.subarray(rows[r]! * dim, rows[r]! * dim + dim), r * dim);
  return out;
}

export function labelsOf(labels: Int8Array, rows: Int32Array): Uint8Array {
  const out = new Uint8Array(rows.length);
  for (let r = 0; r < rows.length; r += 1) out[r] = labels[rows[r]!]!;
  return out;
}

/** Rows packed for training, in the order wanted: `rows` inputs of `inDim` floats and their `outDim` targets. */
export interface PackedRows {
  x: Float32Array;
  y: Float32Array;
  rows: number;
  inDim: number;
  outDim: number;
}

/**
 * One pass over packed rows as our own loop of optimiser steps rather than `model.fit`: fit
 * awaits callbacks and reads the loss back after every batch, which dominated small batches
 * (bench/train.mjs measures both). The loss is the compiled one (binary cross-entropy or mean
 * squared error, as tfjs computes them), weighted per row by class when class weights are given,
 * as fit's classWeight does. Returns the epoch's mean loss.
 */
export async function fitOneEpoch(
  tf: Tf,
  model: LayersModel,
  packed: PackedRows,
  batchSize: number,
  classWeight?: Record<number, number>,
): Promise<number> {
  const total = fitBatches(tf, model, packed, batchSize, classWeight, tf.scalar(0));
  const loss = (await total.data())[0]! / packed.rows;
  total.dispose();
  return loss;
}

/** Optimiser steps over packed rows; adds each batch's summed loss to `total` (disposed) and returns the new total. */
function fitBatches(
  tf: Tf,
  model: LayersModel,
  { x, y, rows, inDim, outDim }: PackedRows,
  batchSize: number,
  classWeight: Record<number, number> | undefined,
  total: Scalar,
): Scalar {
  const optimizer = model.optimizer;
  const variables = model.trainableWeights.map((w) => w.read() as Variable);
  const crossEntropy = model.loss === "binaryCrossentropy";
  let sum = total;
  for (let start = 0; start < rows; start += batchSize) {
    const n = Math.min(batchSize, rows - start);
    const next = tf.tidy(() => {
      const xb = tf.tensor2d(x.subarray(start * inDim, (start + n) * inDim), [n, inDim]);
      const yb = tf.tensor2d(y.subarray(start * outDim, (start + n) * outDim), [n, outDim]);
      const wb = classWeight ? tf.tensor1d(Float32Array.from(y.subarray(start, start + n), (label) => classWeight[label]!)) : null;
      const cost = optimizer.minimize(
        () => {
          const predicted = model.apply(xb, { training: true }) as Tensor;
          const perRow = crossEntropy ? tf.metrics.binaryCrossentropy(yb, predicted) : tf.metrics.meanSquaredError(yb, predicted);
          return tf.mean(wb ? tf.mul(perRow, wb) : perRow) as Scalar;
        },
        true,
        variables,
      )!;
      return tf.add(sum, tf.mul(cost, n)) as Scalar;
    });
    sum.dispose();
    sum = next;
  }
  return sum;
}

/**
 * Rows gathered per step of a streamed epoch: 65,536 rows of twenty float32 inputs are 5 MB,
 * where gathering a whole shuffled epoch at once held a second copy of every input (400 MB for
 * five million rows of twenty features, twice that for the autoencoder's clean and noisy copies).
 */
const EPOCH_CHUNK_ROWS = 65_536;

/**
 * One epoch over `order` (row indices into inputs.X), gathered chunk by chunk. Chunks hold whole
 * batches and the loss sum runs on across them, so the batches, their order, the noise and the
 * loss are exactly those of gathering the whole epoch first. Targets are the labels (with class
 * weights), or with `noise` the clean inputs themselves while the model sees them plus seeded
 * Gaussian noise of that scale (the denoising autoencoder), drawn row by row in epoch order.
 */
export async function fitEpochInChunks(
  tf: Tf,
  model: LayersModel,
  inputs: Inputs,
  order: Int32Array,
  batchSize: number,
  target: { classWeight: Record<number, number> } | { noise: number; normal: () => number },
): Promise<number> {
  const dim = inputs.dim;
  const chunkRows = Math.max(1, Math.floor(EPOCH_CHUNK_ROWS / batchSize)) * batchSize;
  let total = tf.scalar(0);
  for (let start = 0; start < order.length; start += chunkRows) {
    const rows = order.subarray(start, Math.min(order.length, start + chunkRows));
    const x = gatherRows(inputs.X, dim, rows);
    if ("noise" in target) {
      const noisy = x.slice();
      for (let i = 0; i < noisy.length; i += 1) noisy[i]! += target.noise * target.normal();
      total = fitBatches(tf, model, { x: noisy, y: x, rows: rows.length, inDim: dim, outDim: dim }, batchSize, undefined, total);
    } else {
      const y = Float32Array.from(labelsOf(inputs.labels, rows));
      total = fitBatches(tf, model, { x, y, rows: rows.length, inDim: dim, outDim: 1 }, batchSize, target.classWeight, total);
    }
  }
  const loss = (await total.data())[0]! / order.length;
  total.dispose();
  return loss;
}

/** Large batches: 8192 rows took four times as long as 65536 over a million rows on wasm. */
const PREDICT_BATCH_ROWS = 65_536;

/**
 * Probabilities for packed rows, a batch of PREDICT_BATCH_ROWS at a time. Each batch is its own
 * tensor, so the backend holds one batch of inputs rather than all of them; the batches are the
 * ones model.predict would cut, so the results are too. Each call says its batch size: predict
 * batches by 32 unless told, which made 150k rows take 3-9 s instead of 0.2 s on wasm.
 */
export function predict(tf: Tf, model: LayersModel, x: Float32Array, rows: number, dim: number): Float32Array {
  const out = new Float32Array(rows);
  for (let start = 0; start < rows; start += PREDICT_BATCH_ROWS) {
    const n = Math.min(PREDICT_BATCH_ROWS, rows - start);
    out.set(
      tf.tidy(
        () =>
          (model.predict(tf.tensor2d(x.subarray(start * dim, (start + n) * dim), [n, dim]), { batchSize: n }) as Tensor).dataSync() as Float32Array,
      ),
      start,
    );
  }
  return out;
}

/** Probabilities for rows `rows` of inputs.X, gathered a batch at a time rather than all at once. */
export function predictRows(tf: Tf, model: LayersModel, inputs: Pick<Inputs, "X" | "dim">, rows: Int32Array): Float32Array {
  const out = new Float32Array(rows.length);
  for (let start = 0; start < rows.length; start += PREDICT_BATCH_ROWS) {
    const batch = rows.subarray(start, Math.min(rows.length, start + PREDICT_BATCH_ROWS));
    out.set(predict(tf, model, gatherRows(inputs.X, inputs.dim, batch), batch.length, inputs.dim), start);
  }
  return out;
}

export interface EpochLoop {
  model: LayersModel;
  inputs: Inputs;
  train: Int32Array;
  epochs: number;
  batchSize: number;
  random: () => number;
  /** Rows scored after every epoch, if any. */
  validation?: Int32Array;
  /** Called after each epoch with the validation probabilities; returning true stops. */
  onEpoch?: (record: EpochRecord, probabilities: Float32Array | null) => boolean | undefined;
  fitTime?: { samples: number; ms: number };
}

/** Trains for up to `epochs` epochs with class weights, scoring the validation rows after each. */
export async function runEpochs(tf: Tf, loop: EpochLoop): Promise<number> {
  const { model, inputs, train, batchSize, random } = loop;
  const classWeight = classWeightOf(labelsOf(inputs.labels, train));
  const yValidation = loop.validation ? labelsOf(inputs.labels, loop.validation) : null;
  let run = 0;
  for (let epoch = 1; epoch <= loop.epochs; epoch += 1) {
    const order = shuffled(train, random);
    const t0 = Date.now();
    const loss = await fitEpochInChunks(tf, model, inputs, order, batchSize, { classWeight });
    if (loop.fitTime) {
      loop.fitTime.ms += Date.now() - t0;
      loop.fitTime.samples += order.length;
    }
    run = epoch;
    let probabilities: Float32Array | null = null;
    const record: EpochRecord = { epoch, loss };
    if (loop.validation && yValidation) {
      probabilities = predictRows(tf, model, inputs, loop.validation);
      record.valLoss = logLoss(yValidation, probabilities);
      record.valF1 = bestF1Threshold(yValidation, probabilities).f1;
    }
    if (loop.onEpoch?.(record, probabilities)) break;
  }
  return run;
}
