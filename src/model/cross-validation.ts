import type { Tf } from "./backend.js";
import { labelsOf, runEpochs, type EpochRecord, type Inputs } from "./fit.js";
import type { Learner } from "./learners.js";
import { bestF1Threshold, computeMetrics, logLoss, rocAuc } from "./metrics.js";
import { disposeModel } from "./network.js";
import { permutation, seededRandom } from "./random.js";

export interface FoldScore {
  fold: number;
  rows: number;
  f1: number;
  rocAuc: number | null;
}

export interface Spread {
  mean: number;
  std: number;
}

export interface CrossValidation {
  folds: number;
  /** The epoch count with the lowest out-of-fold log loss: the refit trains this long. */
  epochs: number;
  /** Best-F1 threshold on the pooled out-of-fold probabilities at that epoch. */
  threshold: number;
  /** Probabilities of each row from the fold model that did not see it, at that epoch. */
  outOfFold: Float32Array;
  foldScores: FoldScore[];
  f1: Spread;
  rocAuc: Spread | null;
  /** Per epoch: mean training loss over folds; log loss and best F1 of the pooled out-of-fold probabilities. */
  history: EpochRecord[];
}

/**
 * The fold (0..k-1) of each row, stratified: each class is shuffled with the seed and dealt
 * round the folds in turn, continuing from where the other class stopped, so folds differ in
 * size by at most one and in positives by at most one.
 */
export function stratifiedFolds(labels: Uint8Array, k: number, seed: number): Uint8Array {
  const random = seededRandom(seed);
  const folds = new Uint8Array(labels.length);
  let next = 0;
  for (const cls of [1, 0]) {
    const members: number[] = [];
    labels.forEach((y, i) => y === cls && members.push(i));
    for (const j of permutation(members.length, random)) folds[members[j]!] = next++ % k;
  }
  return folds;
}

/**
 * k-fold cross-validation of a learner on `rows`: each fold model trains for the learner's
 * maximum epochs on the other folds and scores its own fold after every epoch. The epoch count
 * and the threshold are then read off the pooled out-of-fold probabilities, which cover every
 * row once; no row ever scores a model that trained on it.
 */
export async function crossValidate(
  tf: Tf,
  learner: Learner,
  inputs: Inputs,
  rows: Int32Array,
  k: number,
  seed: number,
  fitTime: { samples: number; ms: number },
  onEpoch?: (fold: number, record: EpochRecord) => void,
): Promise<CrossValidation> {
  const y = labelsOf(inputs.labels, rows);
  const foldOf = stratifiedFolds(y, k, seed);
  const epochs = learner.maxEpochs;
  const outOfFold = Array.from({ length: epochs }, () => new Float32Array(rows.length));
  const trainLoss = new Float64Array(epochs);
  for (let fold = 0; fold < k; fold += 1) {
    const held: number[] = [];
    const kept: number[] = [];
    foldOf.forEach((f, i) => (f === fold ? held : kept).push(i));
    const train = Int32Array.from(kept, (i) => rows[i]!);
    const model = learner.create(train);
    try {
      await runEpochs(tf, {
        model,
        inputs,
        train,
        validation: Int32Array.from(held, (i) => rows[i]!),
        epochs,
        batchSize: learner.batchSize,
        random: seededRandom(seed + 1 + fold),
        fitTime,
        onEpoch: (record, probabilities) => {
          trainLoss[record.epoch - 1]! += record.loss / k;
          held.forEach((i, j) => (outOfFold[record.epoch - 1]![i] = probabilities![j]!));
          onEpoch?.(fold, record);
        },
      });
    } finally {
      disposeModel(model);
    }
  }

  const history: EpochRecord[] = outOfFold.map((p, e) => ({
    epoch: e + 1,
    loss: trainLoss[e]!,
    valLoss: logLoss(y, p),
    valF1: bestF1Threshold(y, p).f1,
  }));
  let best = history[0]!;
  for (const record of history) if (record.valLoss! < best.valLoss! - 1e-5) best = record;
  const chosen = outOfFold[best.epoch - 1]!;
  return { epochs: best.epoch, history, ...poolOutOfFold(y, foldOf, chosen, k) };
}

/** Threshold, per-fold scores and their spread from pooled out-of-fold probabilities. */
export function poolOutOfFold(y: Uint8Array, foldOf: Uint8Array, outOfFold: Float32Array, k: number): Omit<CrossValidation, "epochs" | "history"> {
  const { threshold } = bestF1Threshold(y, outOfFold);
  const foldScores: FoldScore[] = Array.from({ length: k }, (_, fold) => {
    const members = Int32Array.from(foldOf.keys()).filter((i) => foldOf[i] === fold);
    const labels = Uint8Array.from(members, (i) => y[i]!);
    const probabilities = Float32Array.from(members, (i) => outOfFold[i]!);
    return { fold: fold + 1, rows: members.length, f1: computeMetrics(labels, probabilities, threshold).f1, rocAuc: rocAuc(labels, probabilities) };
  });
  const aucs = foldScores.map((s) => s.rocAuc).filter((a): a is number => a !== null);
  return { folds: k, threshold, outOfFold, foldScores, f1: spreadOf(foldScores.map((s) => s.f1)), rocAuc: aucs.length > 0 ? spreadOf(aucs) : null };
}

/** Mean and sample standard deviation. */
export function spreadOf(values: number[]): Spread {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const variance = values.length > 1 ? values.reduce((a, b) => a + (b - mean) ** 2, 0) / (values.length - 1) : 0;
  return { mean, std: Math.sqrt(variance) };
}
