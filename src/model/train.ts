import type { LayersModel } from "@tensorflow/tfjs";
import { DEFAULT_BOOSTED_TREES, DEFAULT_FOLDS, DEFAULT_NUMERIC_BINS, DEFAULT_SMALL_DATA_ROWS, type MlopsConfig } from "../config/schema.js";
import { usageError } from "../errors.js";
import type { Tf } from "./backend.js";
import { trainBaseline } from "./baseline.js";
import { crossValidate, poolOutOfFold, stratifiedFolds, type CrossValidation, type FoldScore, type Spread } from "./cross-validation.js";
import { SPLIT_CODE, type Dataset } from "./dataset.js";
import { labelsOf, predictRows, type EpochRecord, type Inputs } from "./fit.js";
import { fitFixedEpochs, fitWithEarlyStopping, networkLearner, pretrainEncoder, type Learner } from "./learners.js";
import { bestF1Threshold, computeMetrics, type ClassificationMetrics } from "./metrics.js";
import { disposeModel, withBlendedInput, type NetworkShape } from "./network.js";
import { fitPreprocessChunks, transformColumns, type PreprocessParams } from "./preprocess.js";
import { LogisticFits } from "./logistic.js";
import { chooseBlend, fitTreeFolds, withTreeInput, type Blend } from "./stack.js";
import { inMemoryTrainingData, type TrainingData } from "./training-data.js";

export { predict } from "./fit.js";

export interface TrainOptions {
  epochs: number;
  pretrainEpochs: number;
  batchSize: number;
  learningRate: number;
  hidden: number[];
  seed: number;
  pretrain: boolean;
  /** "best" keeps whichever of the network and the baseline has the better validation (or cross-validated) F1. */
  select?: "network" | "best";
  /** Below this many labelled train + validation rows, k-fold cross-validation replaces the validation split. */
  smallDataRows?: number;
  folds?: number;
  /** Piecewise-linear bins per numeric feature when cross-validating (small data); 0 standardises. */
  numericBins?: number;
  /**
   * Blend gradient-boosted trees into the network when cross-validating (stack.ts); the config's
   * default when missing. Named as in the config (model.boostedTrees), so callers that spread
   * the config pass it.
   */
  boostedTrees?: boolean;
}

/** Boosted trees (small data, asked for): each of the fold models and the refit, as fitted. */
export interface TreeProgress {
  stage: "trees";
  model: number;
  models: number;
  elapsedMs: number;
  etaMs: number;
}

export interface TrainProgress {
  stage: "pretrain" | "classifier" | "baseline";
  epoch: number;
  epochs: number;
  /** The cross-validation fold (1-based) being trained, when cross-validating. */
  fold?: number;
  folds?: number;
  loss: number;
  valLoss?: number;
  valF1?: number;
  elapsedMs: number;
  /** Estimated time left for this stage. */
  etaMs: number;
}

/** One trained candidate (the network or the baseline) and how it scored. */
export interface Candidate {
  kind: "network" | "baseline";
  model: LayersModel;
  threshold: number;
  /** On the validation split, or out of fold when cross-validating. */
  validation: ClassificationMetrics;
  test: ClassificationMetrics | null;
  epochs: { run: number; best: number };
  history: EpochRecord[];
  crossValidation: { epochs: number; foldScores: FoldScore[]; f1: Spread; rocAuc: Spread | null } | null;
}

export interface TrainedModel {
  model: LayersModel;
  selected: "network" | "baseline";
  network: Omit<Candidate, "model">;
  baseline: Omit<Candidate, "model">;
  /** The weights of the baseline, kept in the manifest so `evaluate` can score it beside the served model. */
  baselineModel: LayersModel;
  strategy: "holdout" | "cross-validation";
  folds: number | null;
  preprocess: PreprocessParams;
  /** Small data with trees: how the served network blends in their score, chosen out of fold (trees 0: the plain network is served); null without. */
  treeBlend: Blend | null;
  threshold: number;
  metrics: { validation: ClassificationMetrics; test: ClassificationMetrics | null };
  history: { pretrain: EpochRecord[]; classifier: EpochRecord[] };
  rows: { train: number; validation: number; test: number; pretrain: number };
  epochs: { pretrain: number; classifier: number; best: number };
  /** Training samples per second through fit, per stage (the autoencoder is the larger network). */
  samplesPerSecond: { pretrain: number | null; classifier: number };
  effectiveBatchSize: number;
}

/** Below this many labelled training rows a model is guesswork; refuse rather than mislead. */
export const MIN_TRAIN_ROWS = 50;
/** Small data sets still get enough optimiser steps per epoch to learn in the configured epochs. */
const MIN_STEPS_PER_EPOCH = 32;
/**
 * Bin inputs allowed over all numeric features: each Newton step of the logistic regression (the
 * baseline and the network's start) costs rows x inputs^2, 5 s for one fit at 577 inputs on
 * 1,150 rows here against 0.1 s at 73, so a wide table gets fewer bins per feature, and none
 * past 128 binnable features.
 */
const MAX_BIN_INPUTS = 256;
/**
 * Bins only up to this many rows: the fit keeps every training value (8 bytes each) and the
 * inputs grow by one float32 per bin, which only `model.smallDataRows` raised far past its
 * default of 5,000 would reach.
 */
const MAX_BINNED_ROWS = 100_000;

/**
 * Trains the network (a denoising autoencoder pretrained on every row, then the encoder plus a
 * sigmoid head beside a linear term that starts at the logistic regression, fine-tuned with
 * class weights and flattened into one dense network: network.ts) and the logistic-regression
 * baseline on the same inputs. On large data each trains on the training split with early stopping on validation
 * loss and takes its threshold from validation; on small data (fewer labelled train + validation
 * rows than `smallDataRows`) stratified k-fold cross-validation over those rows picks the epoch
 * count and the threshold from out-of-fold predictions, and each model is refitted on all of
 * them. The test split is only scored. Every shuffle and fold comes from the seed, so the same
 * data, seed and backend give the same weights.
 */
export async function trainModel(
  tf: Tf,
  data: Dataset | TrainingData,
  config: MlopsConfig,
  options: TrainOptions,
  onProgress?: (p: TrainProgress | TreeProgress) => void,
): Promise<TrainedModel> {
  const dataset = "chunks" in data ? data : inMemoryTrainingData(config.features, data);
  const labelled = (split: number) => indicesWhere(dataset, (i) => dataset.splits[i] === split && dataset.labels[i]! >= 0);
  const trainIdx = labelled(SPLIT_CODE.train);
  const validationIdx = labelled(SPLIT_CODE.validation);
  const testIdx = labelled(SPLIT_CODE.test);
  checkTrainable(dataset, trainIdx, validationIdx);

  const folds = options.folds ?? DEFAULT_FOLDS;
  const crossValidating = trainIdx.length + validationIdx.length < (options.smallDataRows ?? DEFAULT_SMALL_DATA_ROWS);
  const fitRows = crossValidating ? Int32Array.from([...trainIdx, ...validationIdx]).sort() : trainIdx;
  // Preprocessing sees only rows a model trains on: the training split, or with cross-validation
  // the training and validation splits (no labels are used, like the autoencoder's pretraining).
  const fitMask = new Uint8Array(dataset.rows);
  for (let i = 0; i < dataset.rows; i += 1)
    if (dataset.splits[i] === SPLIT_CODE.train || (crossValidating && dataset.splits[i] === SPLIT_CODE.validation)) fitMask[i] = 1;
  // Raw values are read chunk by chunk (twice to fit, once to transform): the float32 inputs of
  // every row stay in memory, which the shuffled epochs need at random. On small data numeric
  // features are also binned (preprocess.ts, encodeNumeric): a few hundred rows are too few for
  // the network to build a non-monotonic response from a standardised input. The bin edges need
  // every fitted value, which small data affords.
  const binning = crossValidating && dataset.rows <= MAX_BINNED_ROWS;
  const encoding = { bins: binning ? (options.numericBins ?? DEFAULT_NUMERIC_BINS) : 0, maxBinInputs: MAX_BIN_INPUTS };
  const encoded = await fitPreprocessChunks(config.features, () => dataset.chunks(), fitMask, encoding);
  const X = new Float32Array(dataset.rows * encoded.inputDim);
  for await (const { start, columns } of dataset.chunks()) transformColumns(encoded, columns, X, start);
  const inputs: Inputs = { X, dim: encoded.inputDim, labels: dataset.labels };
  // On (model.boostedTrees, true by default; --trees, --no-trees), on small data gradient-boosted
  // trees are cross-validated beside the network on the same folds, so each row has a network
  // score and a tree score from models that never saw it; the served network blends the two
  // refits by a weight chosen on those (stack.ts), and the served inputs gain the trees' score as
  // their last. A weight of 0 (every weight on the trees worse beyond the noise) serves the plain
  // network, which scores no trees a row.
  const treesStarted = Date.now();
  const treeFolds =
    crossValidating && (options.boostedTrees ?? DEFAULT_BOOSTED_TREES)
      ? await fitTreeFolds(encoded, inputs, fitRows, folds, options.seed + 1, (model, models) => {
          const elapsedMs = Date.now() - treesStarted;
          onProgress?.({ stage: "trees", model, models, elapsedMs, etaMs: (elapsedMs / model) * (models - model) });
        })
      : null;
  let served = { preprocess: encoded, inputs };
  const rowsPerStep = crossValidating ? Math.floor((fitRows.length * (folds - 1)) / folds) : fitRows.length;
  const batchSize = Math.max(8, Math.min(options.batchSize, Math.floor(rowsPerStep / MIN_STEPS_PER_EPOCH)));
  const shape: NetworkShape = { inputDim: inputs.dim, hidden: options.hidden, learningRate: options.learningRate, seed: options.seed };
  const pretrainFit = { samples: 0, ms: 0 };
  const classifierFit = { samples: 0, ms: 0 };

  let encoder = null;
  let pretrainHistory: EpochRecord[] = [];
  if (options.pretrain && options.pretrainEpochs > 0) {
    const started = Date.now();
    const all = Int32Array.from({ length: dataset.rows }, (_, i) => i);
    const pretrained = await pretrainEncoder(tf, shape, inputs, all, options.pretrainEpochs, batchSize, options.seed, pretrainFit, (r) =>
      onProgress?.(progress("pretrain", r.epoch, options.pretrainEpochs, r.loss, started)),
    );
    encoder = pretrained.encoder;
    pretrainHistory = pretrained.history;
  }

  const train = async (learner: Learner, seed: number, fitTime: { samples: number; ms: number }): Promise<Candidate> => {
    const stage = "classifier";
    const started = Date.now();
    if (crossValidating) {
      const cv = await crossValidate(tf, learner, inputs, fitRows, folds, seed, fitTime, (fold, r) =>
        onProgress?.({
          ...progress(stage, fold * learner.maxEpochs + r.epoch, folds * learner.maxEpochs, r.loss, started),
          epoch: r.epoch,
          epochs: learner.maxEpochs,
          fold: fold + 1,
          folds,
        }),
      );
      const model = learner.finish(await fitFixedEpochs(tf, learner, inputs, fitRows, cv.epochs, seed, fitTime));
      const y = labelsOf(inputs.labels, fitRows);
      const chosen = treeFolds ? chooseBlend(y, cv.outOfFold, treeFolds.outOfFold) : null;
      // Weight 0: the plain network is served, as the blend says.
      if (chosen)
        treeBlend =
          chosen.weight === 0
            ? { weight: 0, network: 1, trees: 0, bias: 0 }
            : { weight: chosen.weight, network: chosen.network, trees: chosen.trees, bias: chosen.bias };
      if (!treeFolds || !chosen || chosen.weight === 0)
        return candidate(
          learner.kind,
          model,
          cv.threshold,
          computeMetrics(y, cv.outOfFold, cv.threshold),
          { run: cv.epochs, best: cv.epochs },
          cv.history,
          summaryOf(cv),
        );
      const { outOfFold, ...blend } = chosen;
      served = withTreeInput(encoded, inputs, treeFolds.trees);
      const blended = withBlendedInput(tf, model, blend);
      disposeModel(model);
      const pooled = { ...cv, ...poolOutOfFold(y, stratifiedFolds(y, folds, seed), outOfFold, folds) };
      return candidate(
        learner.kind,
        blended,
        pooled.threshold,
        computeMetrics(y, outOfFold, pooled.threshold),
        { run: cv.epochs, best: cv.epochs },
        cv.history,
        summaryOf(pooled),
      );
    }
    const fit = await fitWithEarlyStopping(tf, learner, inputs, trainIdx, validationIdx, seed, fitTime, (r) =>
      onProgress?.({ ...progress(stage, r.epoch, learner.maxEpochs, r.loss, started), valLoss: r.valLoss!, valF1: r.valF1! }),
    );
    const model = learner.finish(fit.model);
    const yValidation = labelsOf(inputs.labels, validationIdx);
    const probabilities = predictRows(tf, model, inputs, validationIdx);
    const { threshold } = bestF1Threshold(yValidation, probabilities);
    return candidate(
      learner.kind,
      model,
      threshold,
      computeMetrics(yValidation, probabilities, threshold),
      { run: fit.epochsRun, best: fit.bestEpoch },
      fit.history,
      null,
    );
  };
  const candidate = (
    kind: Candidate["kind"],
    model: LayersModel,
    threshold: number,
    validation: ClassificationMetrics,
    epochs: Candidate["epochs"],
    history: EpochRecord[],
    cv: Candidate["crossValidation"],
  ): Candidate => {
    const test =
      testIdx.length > 0 ? computeMetrics(labelsOf(inputs.labels, testIdx), predictRows(tf, model, served.inputs, testIdx), threshold) : null;
    return { kind, model, threshold, validation, test, epochs, history, crossValidation: cv };
  };

  let treeBlend: Blend | null = null;
  const linearFits = new LogisticFits(inputs);
  const network = await train(networkLearner(tf, shape, encoder, linearFits, options.epochs, batchSize), options.seed + 1, classifierFit);
  encoder?.forEach((layer) => layer.forEach((w) => w.dispose()));
  const fitted = trainBaseline(
    tf,
    inputs,
    crossValidating ? { rows: fitRows, folds, seed: options.seed + 1 } : { train: trainIdx, validation: validationIdx },
    linearFits,
  );
  // The baseline stays plain logistic regression: on served inputs, the trees' score weighs 0.
  const servedBaseline = served.preprocess.trees ? withBlendedInput(tf, fitted.model, { network: 1, trees: 0 }) : fitted.model;
  if (servedBaseline !== fitted.model) disposeModel(fitted.model);
  const baseline = candidate(
    "baseline",
    servedBaseline,
    fitted.threshold,
    fitted.validation,
    { run: 0, best: 0 },
    [],
    fitted.crossValidation ? summaryOf(fitted.crossValidation) : null,
  );
  const chosen = options.select === "best" && baseline.validation.f1 > network.validation.f1 ? baseline : network;
  if (chosen !== network) disposeModel(network.model);
  const { model: _n, ...networkSummary } = network;
  const { model: baselineModel, ...baselineSummary } = baseline;
  return {
    model: chosen.model,
    selected: chosen.kind,
    network: networkSummary,
    baseline: baselineSummary,
    baselineModel,
    strategy: crossValidating ? "cross-validation" : "holdout",
    folds: crossValidating ? folds : null,
    preprocess: served.preprocess,
    treeBlend,
    threshold: chosen.threshold,
    metrics: { validation: chosen.validation, test: chosen.test },
    history: { pretrain: pretrainHistory, classifier: network.history },
    rows: { train: trainIdx.length, validation: validationIdx.length, test: testIdx.length, pretrain: options.pretrain ? dataset.rows : 0 },
    epochs: { pretrain: pretrainHistory.length, classifier: chosen.epochs.run, best: chosen.epochs.best },
    samplesPerSecond: { pretrain: pretrainFit.ms > 0 ? rate(pretrainFit) : null, classifier: rate(classifierFit) },
    effectiveBatchSize: batchSize,
  };
}

function summaryOf(cv: CrossValidation): NonNullable<Candidate["crossValidation"]> {
  return { epochs: cv.epochs, foldScores: cv.foldScores, f1: cv.f1, rocAuc: cv.rocAuc };
}

function checkTrainable(dataset: Pick<TrainingData, "rows" | "labels">, trainIdx: Int32Array, validationIdx: Int32Array): void {
  if (dataset.rows === 0) {
    throw usageError("NO_DATA", "There is no data to train on.", "Load some first: `mlops seed` or `mlops collect --file data.csv`.");
  }
  if (trainIdx.length < MIN_TRAIN_ROWS) {
    throw usageError(
      "TOO_FEW_ROWS",
      `Only ${trainIdx.length} labelled rows are in the training split; at least ${MIN_TRAIN_ROWS} are needed.`,
      "Collect more labelled data (about 70% of rows land in the training split).",
    );
  }
  const positives = trainIdx.reduce((sum, i) => sum + (dataset.labels[i] === 1 ? 1 : 0), 0);
  if (positives === 0 || positives === trainIdx.length) {
    throw usageError(
      "ONE_CLASS",
      `Every labelled training row has the same label (${positives === 0 ? "negative" : "positive"}): a classifier needs both classes.`,
      "Check the label column and its positive/negative values in mlops.config.json, and collect rows of the other class.",
    );
  }
  if (validationIdx.length < 10) {
    throw usageError("TOO_FEW_ROWS", `Only ${validationIdx.length} labelled rows are in the validation split.`, "Collect more labelled data.");
  }
}

/** Counted first, then filled: 4 bytes an index, where a growing JS array of numbers holds 8 or more and copies as it grows. */
function indicesWhere(dataset: Pick<TrainingData, "rows">, keep: (i: number) => boolean): Int32Array {
  let n = 0;
  for (let i = 0; i < dataset.rows; i += 1) if (keep(i)) n += 1;
  const out = new Int32Array(n);
  for (let i = 0, k = 0; i < dataset.rows; i += 1) if (keep(i)) out[k++] = i;
  return out;
}

const rate = (fit: { samples: number; ms: number }) => (fit.ms > 0 ? Math.round((fit.samples / fit.ms) * 1000) : 0);

function progress(stage: TrainProgress["stage"], epoch: number, epochs: number, loss: number, started: number): TrainProgress {
  const elapsedMs = Date.now() - started;
  return { stage, epoch, epochs, loss, elapsedMs, etaMs: (elapsedMs / epoch) * (epochs - epoch) };
}
