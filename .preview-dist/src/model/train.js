import { usageError } from "../errors.js";
import { SPLIT_CODE } from "./dataset.js";
import { bestF1Threshold, computeMetrics } from "./metrics.js";
import { createAutoencoder, createClassifier, transferEncoder } from "./network.js";
import { fitPreprocess, transformColumns } from "./preprocess.js";
import { normal, permutation, seededRandom } from "./random.js";
/** Below this many labelled training rows a model is guesswork; refuse rather than mislead. */
export const MIN_TRAIN_ROWS = 50;
const EARLY_STOPPING_PATIENCE = 6;
/** Small data sets still get enough optimiser steps per epoch to learn in the configured epochs. */
const MIN_STEPS_PER_EPOCH = 32;
/** Gaussian noise added to the standardised inputs while pretraining (denoising autoencoder). */
const PRETRAIN_NOISE = 0.2;
/**
 * Trains the classifier: preprocessing fitted on the training split, a denoising autoencoder
 * pretrained on every row (labelled or not), then the pretrained encoder plus a sigmoid head
 * fine-tuned with class weights and early stopping on validation loss (the best epoch's weights
 * are kept), and the decision threshold chosen on validation for F1. Shuffles and noise come
 * from the seed, so the same data, seed and backend give the same weights.
 */
export async function trainModel(tf, dataset, config, options, onProgress) {
    const trainIdx = indicesWhere(dataset, (i) => dataset.splits[i] === SPLIT_CODE.train && dataset.labels[i] >= 0);
    const validationIdx = indicesWhere(dataset, (i) => dataset.splits[i] === SPLIT_CODE.validation && dataset.labels[i] >= 0);
    const testIdx = indicesWhere(dataset, (i) => dataset.splits[i] === SPLIT_CODE.test && dataset.labels[i] >= 0);
    checkTrainable(dataset, trainIdx, validationIdx);
    const trainMask = new Uint8Array(dataset.rows);
    for (let i = 0; i < dataset.rows; i += 1)
        if (dataset.splits[i] === SPLIT_CODE.train)
            trainMask[i] = 1;
    const preprocess = fitPreprocess(config.features, dataset, trainMask);
    const X = transformColumns(preprocess, dataset);
    const dim = preprocess.inputDim;
    const shape = { inputDim: dim, hidden: options.hidden, learningRate: options.learningRate, seed: options.seed };
    const random = seededRandom(options.seed);
    const batchSize = Math.max(8, Math.min(options.batchSize, Math.floor(trainIdx.length / MIN_STEPS_PER_EPOCH)));
    const pretrainFit = { samples: 0, ms: 0 };
    const classifierFit = { samples: 0, ms: 0 };
    const classifier = createClassifier(tf, shape);
    let pretrainEpochs = 0;
    if (options.pretrain && options.pretrainEpochs > 0) {
        const autoencoder = createAutoencoder(tf, shape);
        const all = Int32Array.from({ length: dataset.rows }, (_, i) => i);
        const started = Date.now();
        for (let epoch = 1; epoch <= options.pretrainEpochs; epoch += 1) {
            const order = shuffled(all, random);
            const clean = gatherRows(X, dim, order);
            const noisy = clean.slice();
            for (let i = 0; i < noisy.length; i += 1)
                noisy[i] += PRETRAIN_NOISE * normal(random);
            const t0 = Date.now();
            const loss = await fitOneEpoch(tf, autoencoder, noisy, clean, order.length, dim, dim, batchSize);
            pretrainFit.ms += Date.now() - t0;
            pretrainFit.samples += order.length;
            pretrainEpochs = epoch;
            onProgress?.(progress("pretrain", epoch, options.pretrainEpochs, loss, started));
        }
        transferEncoder(autoencoder, classifier, options.hidden.length);
        autoencoder.dispose();
    }
    const yTrain = labelsOf(dataset, trainIdx);
    const positives = yTrain.reduce((sum, y) => sum + y, 0);
    const classWeight = { 0: yTrain.length / (2 * (yTrain.length - positives)), 1: yTrain.length / (2 * positives) };
    const xValidation = gatherRows(X, dim, validationIdx);
    const yValidation = labelsOf(dataset, validationIdx);
    let best = { loss: Infinity, epoch: 0, weights: [] };
    let epochsRun = 0;
    const started = Date.now();
    for (let epoch = 1; epoch <= options.epochs; epoch += 1) {
        const order = shuffled(trainIdx, random);
        const t0 = Date.now();
        const loss = await fitOneEpoch(tf, classifier, gatherRows(X, dim, order), Float32Array.from(labelsOf(dataset, order)), order.length, dim, 1, batchSize, classWeight);
        classifierFit.ms += Date.now() - t0;
        classifierFit.samples += order.length;
        epochsRun = epoch;
        const probabilities = predict(tf, classifier, xValidation, validationIdx.length, dim);
        const valLoss = computeMetrics(yValidation, probabilities, 0.5).logLoss;
        const valF1 = bestF1Threshold(yValidation, probabilities).f1;
        onProgress?.({ ...progress("classifier", epoch, options.epochs, loss, started), valLoss, valF1 });
        if (valLoss < best.loss - 1e-5) {
            best.weights.forEach((w) => w.dispose());
            best = { loss: valLoss, epoch, weights: classifier.getWeights().map((w) => w.clone()) };
        }
        else if (epoch - best.epoch >= EARLY_STOPPING_PATIENCE)
            break;
    }
    classifier.setWeights(best.weights);
    best.weights.forEach((w) => w.dispose());
    const validationProbabilities = predict(tf, classifier, xValidation, validationIdx.length, dim);
    const { threshold } = bestF1Threshold(yValidation, validationProbabilities);
    const test = testIdx.length > 0 ? computeMetrics(labelsOf(dataset, testIdx), predict(tf, classifier, gatherRows(X, dim, testIdx), testIdx.length, dim), threshold) : null;
    return {
        model: classifier,
        preprocess,
        threshold,
        metrics: { validation: computeMetrics(yValidation, validationProbabilities, threshold), test },
        rows: { train: trainIdx.length, validation: validationIdx.length, test: testIdx.length, pretrain: options.pretrain ? dataset.rows : 0 },
        epochs: { pretrain: pretrainEpochs, classifier: epochsRun, best: best.epoch },
        samplesPerSecond: { pretrain: pretrainFit.ms > 0 ? rate(pretrainFit) : null, classifier: rate(classifierFit) },
        effectiveBatchSize: batchSize,
    };
}
function checkTrainable(dataset, trainIdx, validationIdx) {
    if (dataset.rows === 0) {
        throw usageError("NO_DATA", "There is no data to train on.", "Load some first: `mlops seed` or `mlops collect --file data.csv`.");
    }
    if (trainIdx.length < MIN_TRAIN_ROWS) {
        throw usageError("TOO_FEW_ROWS", `Only ${trainIdx.length} labelled rows are in the training split; at least ${MIN_TRAIN_ROWS} are needed.`, "Collect more labelled data (about 70% of rows land in the training split).");
    }
    const positives = trainIdx.reduce((sum, i) => sum + (dataset.labels[i] === 1 ? 1 : 0), 0);
    if (positives === 0 || positives === trainIdx.length) {
        throw usageError("ONE_CLASS", `Every labelled training row has the same label (${positives === 0 ? "negative" : "positive"}): a classifier needs both classes.`, "Check the label column and its positive/negative values in mlops.config.json, and collect rows of the other class.");
    }
    if (validationIdx.length < 10) {
        throw usageError("TOO_FEW_ROWS", `Only ${validationIdx.length} labelled rows are in the validation split.`, "Collect more labelled data.");
    }
}
function indicesWhere(dataset, keep) {
    const out = [];
    for (let i = 0; i < dataset.rows; i += 1)
        if (keep(i))
            out.push(i);
    return Int32Array.from(out);
}
function shuffled(indices, random) {
    const order = permutation(indices.length, random);
    return order.map((i) => indices[i]);
}
function gatherRows(X, dim, rows) {
    const out = new Float32Array(rows.length * dim);
    for (let r = 0; r < rows.length; r += 1)
        out.set(X.subarray(rows[r] * dim, rows[r] * dim + dim), r * dim);
    return out;
}
function labelsOf(dataset, rows) {
    const out = new Uint8Array(rows.length);
    for (let r = 0; r < rows.length; r += 1)
        out[r] = dataset.labels[rows[r]];
    return out;
}
async function fitOneEpoch(tf, model, x, y, rows, inDim, outDim, batchSize, classWeight) {
    const xs = tf.tensor2d(x, [rows, inDim]);
    const ys = tf.tensor2d(y, [rows, outDim]);
    try {
        const history = await model.fit(xs, ys, { epochs: 1, batchSize, shuffle: false, verbose: 0, ...(classWeight ? { classWeight } : {}) });
        return Number(history.history.loss?.[0] ?? NaN);
    }
    finally {
        xs.dispose();
        ys.dispose();
    }
}
/** Probabilities for packed rows, in large batches (predict batches by 32 unless told). */
export function predict(tf, model, x, rows, dim) {
    if (rows === 0)
        return new Float32Array(0);
    return tf.tidy(() => {
        // Large batches: 8192 took four times as long as 65536 over a million rows on wasm.
        const output = model.predict(tf.tensor2d(x, [rows, dim]), { batchSize: 65_536 });
        return output.dataSync();
    });
}
const rate = (fit) => (fit.ms > 0 ? Math.round((fit.samples / fit.ms) * 1000) : 0);
function progress(stage, epoch, epochs, loss, started) {
    const elapsedMs = Date.now() - started;
    return { stage, epoch, epochs, loss, elapsedMs, etaMs: (elapsedMs / epoch) * (epochs - epoch) };
}
//# sourceMappingURL=train.js.map