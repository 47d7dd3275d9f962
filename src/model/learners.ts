import type { LayersModel, Tensor } from "@tensorflow/tfjs";
import type { Tf } from "./backend.js";
import { fitEpochInChunks, runEpochs, shuffled, type EpochRecord, type Inputs } from "./fit.js";
import type { LogisticFits } from "./logistic.js";
import {
  applyEncoder,
  copyEncoder,
  createAutoencoder,
  createWideAndDeep,
  disposeModel,
  flattenWideAndDeep,
  setWide,
  type EncoderWeights,
  type NetworkShape,
} from "./network.js";
import { normal, seededRandom } from "./random.js";

/** What trains a model: a fresh compiled model for the rows it will train on, and how long it may train. */
export interface Learner {
  kind: "network";
  create: (rows: Int32Array) => LayersModel;
  /** The model as it is saved and served (a training graph may differ in form, not in function). */
  finish: (model: LayersModel) => LayersModel;
  maxEpochs: number;
  batchSize: number;
}

/** Gaussian noise added to the standardised inputs while pretraining (denoising autoencoder). */
const PRETRAIN_NOISE = 0.2;
/** Epochs without a better validation loss before training stops (the best epoch's weights are kept). */
export const EARLY_STOPPING_PATIENCE = 6;
/**
 * The network: wide and deep (network.ts), its encoder from pretraining when there was any and
 * its wide part from the logistic regression of the rows it trains on (each fold's own rows
 * when cross-validating, so no held-out row shapes its start).
 */
export function networkLearner(
  tf: Tf,
  shape: NetworkShape,
  encoder: EncoderWeights | null,
  linear: LogisticFits,
  epochs: number,
  batchSize: number,
): Learner {
  return {
    kind: "network",
    create: (rows) => {
      const model = createWideAndDeep(tf, shape);
      if (encoder) applyEncoder(encoder, model);
      const fit = linear.of(rows);
      setWide(tf, model, fit.kernel, fit.bias);
      return model;
    },
    finish: (model) => {
      const flat = flattenWideAndDeep(tf, model, shape);
      disposeModel(model);
      return flat;
    },
    maxEpochs: epochs,
    batchSize,
  };
}

export interface PretrainResult {
  encoder: EncoderWeights;
  history: EpochRecord[];
}

/**
 * A denoising autoencoder on the given rows (labels not needed): returns the encoder's weights,
 * from which each classifier starts. Noise and shuffles come from the seed.
 */
export async function pretrainEncoder(
  tf: Tf,
  shape: NetworkShape,
  inputs: Inputs,
  rows: Int32Array,
  epochs: number,
  batchSize: number,
  seed: number,
  fitTime: { samples: number; ms: number },
  onEpoch?: (record: EpochRecord) => void,
): Promise<PretrainResult> {
  const autoencoder = createAutoencoder(tf, shape);
  const random = seededRandom(seed);
  const history: EpochRecord[] = [];
  try {
    for (let epoch = 1; epoch <= epochs; epoch += 1) {
      const order = shuffled(rows, random);
      const t0 = Date.now();
      const loss = await fitEpochInChunks(tf, autoencoder, inputs, order, batchSize, { noise: PRETRAIN_NOISE, normal: () => normal(random) });
      fitTime.ms += Date.now() - t0;
      fitTime.samples += order.length;
      history.push({ epoch, loss });
      onEpoch?.({ epoch, loss });
    }
    return { encoder: copyEncoder(autoencoder, shape.hidden.length), history };
  } finally {
    disposeModel(autoencoder);
  }
}

export interface HoldoutFit {
  model: LayersModel;
  bestEpoch: number;
  epochsRun: number;
  history: EpochRecord[];
}

/** Trains on `train` with early stopping on the validation rows' loss; keeps the best epoch's weights. */
export async function fitWithEarlyStopping(
  tf: Tf,
  learner: Learner,
  inputs: Inputs,
  train: Int32Array,
  validation: Int32Array,
  seed: number,
  fitTime: { samples: number; ms: number },
  onEpoch?: (record: EpochRecord) => void,
): Promise<HoldoutFit> {
  const model = learner.create(train);
  const history: EpochRecord[] = [];
  let best = { loss: Infinity, epoch: 0, weights: [] as Tensor[] };
  const epochsRun = await runEpochs(tf, {
    model,
    inputs,
    train,
    validation,
    epochs: learner.maxEpochs,
    batchSize: learner.batchSize,
    random: seededRandom(seed),
    fitTime,
    onEpoch: (record) => {
      history.push(record);
      onEpoch?.(record);
      if (record.valLoss! < best.loss - 1e-5) {
        best.weights.forEach((w) => w.dispose());
        best = { loss: record.valLoss!, epoch: record.epoch, weights: model.getWeights().map((w) => w.clone()) };
        return false;
      }
      return record.epoch - best.epoch >= EARLY_STOPPING_PATIENCE;
    },
  });
  model.setWeights(best.weights);
  best.weights.forEach((w) => w.dispose());
  return { model, bestEpoch: best.epoch, epochsRun, history };
}

/** Trains for exactly `epochs` epochs on `rows` (the refit after cross-validation). */
export async function fitFixedEpochs(
  tf: Tf,
  learner: Learner,
  inputs: Inputs,
  rows: Int32Array,
  epochs: number,
  seed: number,
  fitTime: { samples: number; ms: number },
): Promise<LayersModel> {
  const model = learner.create(rows);
  await runEpochs(tf, { model, inputs, train: rows, epochs, batchSize: learner.batchSize, random: seededRandom(seed), fitTime });
  return model;
}
