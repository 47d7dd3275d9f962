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

export function gatherRows(X: Float32Array, dim: number, rows: Int32Array): Float32Array {
  const out = new Float32Array(rows.length * dim);
  for (let r = 0; r < rows.length; r += 1) out.set(X.subarray(rows[r]! * dim, rows[r]! * dim + dim), r * dim);
  return out;
}

export function labelsOf(labels: Int8Array, rows: Int32Array): Uint8Array {
  const out = new Uint8Array(rows.length);
  for (let r = 0; r < rows.length; r += 1) out[r] = labels[rows[r]!]!;
  return out;
}

/**
 * One pass over packed rows, already in the order wanted, as our own loop of optimiser steps
 * rather than `model.fit`: fit awaits callbacks and reads the loss back after every batch,
 * which dominated small batches (bench/train.mjs measures both). The loss is the compiled one
 * (binary cross-entropy or mean squared error, as tfjs computes them), weighted per row by class
 * when class weights are given, as fit's classWeight does. Returns the epoch's mean loss.
 */
export async function fitOneEpoch(
  tf: Tf,
  model: LayersModel,
  x: Float32Array,
  y: Float32Array,
  rows: number,
  inDim: number,
  outDim: number,
  batchSize: number,
  classWeight?: Record<number, number>,
): Promise<number> {
  const optimizer = model.optimizer;
  const variables = model.trainableWeights.map((w) => w.read() as Variable);
  const crossEntropy = model.loss === "binaryCrossentropy";
  let total = tf.scalar(0);
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
      return tf.add(total, tf.mul(cost, n)) as Scalar;
    });
    total.dispose();
    total = next;
  }
  const loss = (await total.data())[0]! / rows;
  total.dispose();
  return loss;
}

/** Probabilities for packed rows, in large batches (predict batches by 32 unless told). */
export function predict(tf: Tf, model: LayersModel, x: Float32Array, rows: number, dim: number): Float32Array {
  if (rows === 0) return new Float32Array(0);
  return tf.tidy(() => {
    // Large batches: 8192 took four times as long as 65536 over a million rows on wasm.
    const output = model.predict(tf.tensor2d(x, [rows, dim]), { batchSize: 65_536 }) as Tensor;
    return output.dataSync() as Float32Array;
  });
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
  const xValidation = loop.validation ? gatherRows(inputs.X, inputs.dim, loop.validation) : null;
  const yValidation = loop.validation ? labelsOf(inputs.labels, loop.validation) : null;
  let run = 0;
  for (let epoch = 1; epoch <= loop.epochs; epoch += 1) {
    const order = shuffled(train, random);
    const t0 = Date.now();
    const loss = await fitOneEpoch(
      tf,
      model,
      gatherRows(inputs.X, inputs.dim, order),
      Float32Array.from(labelsOf(inputs.labels, order)),
      order.length,
      inputs.dim,
      1,
      batchSize,
      classWeight,
    );
    if (loop.fitTime) {
      loop.fitTime.ms += Date.now() - t0;
      loop.fitTime.samples += order.length;
    }
    run = epoch;
    let probabilities: Float32Array | null = null;
    const record: EpochRecord = { epoch, loss };
    if (xValidation && yValidation) {
      probabilities = predict(tf, model, xValidation, yValidation.length, inputs.dim);
      record.valLoss = logLoss(yValidation, probabilities);
      record.valF1 = bestF1Threshold(yValidation, probabilities).f1;
    }
    if (loop.onEpoch?.(record, probabilities)) break;
  }
  return run;
}
