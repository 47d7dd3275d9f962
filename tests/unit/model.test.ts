import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { sampleConfig } from "../../src/config/sample.js";
import { configSchema, type MlopsConfig } from "../../src/config/schema.js";
import { generateRows } from "../../src/data/synthetic.js";
import { splitOf, hash64 } from "../../src/data/row-hash.js";
import { loadModelFolder, saveModelFolder } from "../../src/model/artifacts.js";
import { loadTf, type Tf } from "../../src/model/backend.js";
import { SPLIT_CODE, type Dataset } from "../../src/model/dataset.js";
import { createAutoencoder, createClassifier } from "../../src/model/network.js";
import { fitPreprocess, transformColumns } from "../../src/model/preprocess.js";
import { predict, trainModel, type TrainOptions } from "../../src/model/train.js";
import { seededRandom } from "../../src/model/random.js";
import { MlopsError } from "../../src/errors.js";

const config: MlopsConfig = configSchema.parse(sampleConfig());
let tf: Tf;

beforeAll(async () => {
  ({ tf } = await loadTf("wasm"));
});

/** A data set straight from the generator, split by row hash as ingest would. */
function syntheticDataset(rows: number, seed: number): Dataset {
  const numeric = new Map(config.features.filter((f) => f.type === "numeric").map((f) => [f.name, new Float64Array(rows)]));
  const categorical = new Map(config.features.filter((f) => f.type === "categorical").map((f) => [f.name, new Int32Array(rows)]));
  const labels = new Int8Array(rows);
  const splits = new Uint8Array(rows);
  let r = 0;
  for (const row of generateRows(config, { rows, seed, drift: 0, unlabeledFraction: 0 })) {
    for (const f of config.features) {
      if (f.type === "numeric") numeric.get(f.name)![r] = Number(row[f.name]);
      else categorical.get(f.name)![r] = f.values.indexOf(String(row[f.name]));
    }
    labels[r] = row.label === 1 ? 1 : 0;
    splits[r] = SPLIT_CODE[splitOf(hash64(JSON.stringify(row)))];
    r += 1;
  }
  return { rows, numeric, categorical, labels, splits, batches: new Int32Array(rows).fill(1) };
}

const quick: TrainOptions = { epochs: 8, pretrainEpochs: 2, batchSize: 64, learningRate: 0.003, hidden: [16, 8], seed: 7, pretrain: true };

describe("network", () => {
  it("has the shapes the schema implies", () => {
    const dataset = syntheticDataset(200, 1);
    const params = fitPreprocess(config.features, dataset, new Uint8Array(dataset.rows).fill(1));
    // 20 numerics + (4 + 1) + (3 + 1) one-hot slots.
    expect(params.inputDim).toBe(29);
    const classifier = createClassifier(tf, { inputDim: 29, hidden: [64, 32], learningRate: 0.001, seed: 1 });
    expect(classifier.outputs[0]!.shape).toEqual([null, 1]);
    const autoencoder = createAutoencoder(tf, { inputDim: 29, hidden: [64, 32], learningRate: 0.001, seed: 1 });
    expect(autoencoder.outputs[0]!.shape).toEqual([null, 29]);
    const x = transformColumns(params, dataset);
    expect(x.length).toBe(200 * 29);
    const probabilities = predict(tf, classifier, x, 200, 29);
    expect(Math.min(...probabilities)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...probabilities)).toBeLessThanOrEqual(1);
  });
});

describe("training", () => {
  it("lowers the loss and learns the rule", async () => {
    const losses: number[] = [];
    const trained = await trainModel(tf, syntheticDataset(3000, 2), config, { ...quick, smallDataRows: 100 }, (p) => {
      if (p.stage === "classifier") losses.push(p.loss);
    });
    expect(losses.at(-1)!).toBeLessThan(losses[0]!);
    expect(trained.metrics.validation.f1).toBeGreaterThan(0.8);
    expect(trained.threshold).toBeGreaterThan(0);
    expect(trained.threshold).toBeLessThan(1);
  }, 300_000);

  it("gives identical weights for the same data, seed and backend, with cross-validation on", async () => {
    const dataset = syntheticDataset(1500, 3);
    const digest = async () => {
      const hash = createHash("sha256");
      const trained = await trainModel(tf, dataset, config, { ...quick, epochs: 4, smallDataRows: 5000, folds: 3, boostedTrees: true });
      expect(trained.strategy).toBe("cross-validation");
      for (const w of trained.baselineModel.getWeights()) hash.update(Buffer.from((await w.data()).buffer));
      for (const w of trained.model.getWeights()) hash.update(Buffer.from((await w.data()).buffer));
      hash.update(JSON.stringify(trained.preprocess));
      return hash.digest("hex");
    };
    expect(await digest()).toBe(await digest());
  }, 300_000);

  it("cross-validates small data: epochs and threshold out of fold, fold scores, a refit on train + validation", async () => {
    const dataset = syntheticDataset(1200, 8);
    const trained = await trainModel(tf, dataset, config, { ...quick, epochs: 5, folds: 4, boostedTrees: true });
    expect(trained.strategy).toBe("cross-validation");
    const cv = trained.network.crossValidation!;
    expect(cv.foldScores.map((f) => f.fold)).toEqual([1, 2, 3, 4]);
    // Every train + validation row is scored once, out of fold.
    expect(cv.foldScores.reduce((sum, f) => sum + f.rows, 0)).toBe(trained.rows.train + trained.rows.validation);
    expect(trained.metrics.validation.rows).toBe(trained.rows.train + trained.rows.validation);
    expect(cv.epochs).toBeGreaterThanOrEqual(1);
    expect(cv.epochs).toBeLessThanOrEqual(5);
    expect(trained.history.classifier.map((e) => e.epoch)).toEqual([1, 2, 3, 4, 5]);
    expect(cv.f1.mean).toBeGreaterThan(0.7);
    expect(trained.baseline.crossValidation!.foldScores).toHaveLength(4);
    expect(trained.metrics.test!.rows).toBe(trained.rows.test);
    // Boosted trees beside the network (asked for): their score is the served inputs' last, blended in by a
    // weight chosen out of fold; the baseline's weight on it is 0.
    expect(trained.preprocess.trees!.models).toHaveLength(1);
    expect(trained.treeBlend).toEqual({
      weight: expect.any(Number),
      network: expect.any(Number),
      trees: expect.any(Number),
      bias: expect.any(Number),
    });
    expect(trained.treeBlend!.weight).toBeGreaterThan(0);
    expect(trained.model.inputs[0]!.shape).toEqual([null, trained.preprocess.inputDim]);
    const baselineKernel = await trained.baselineModel.getLayer("head").getWeights()[0]!.data();
    expect(baselineKernel).toHaveLength(trained.preprocess.inputDim);
    expect(baselineKernel[trained.preprocess.inputDim - 1]).toBe(0);
    const plain = await trainModel(tf, dataset, config, { ...quick, epochs: 5, folds: 4, boostedTrees: false });
    expect(plain.preprocess.trees).toBeUndefined();
    expect(plain.treeBlend).toBeNull();
    expect(plain.preprocess.inputDim).toBe(trained.preprocess.inputDim - 1);
  }, 300_000);

  it("blends evenly and serves the base rate when neither the network nor the trees rank anything (labels at random)", async () => {
    const dataset = syntheticDataset(1000, 5);
    // Labels independent of the inputs: whatever either model fits out of fold is noise, so
    // calibration shrinks both scores and no weight is better beyond the noise.
    const r = seededRandom(11);
    for (let i = 0; i < dataset.rows; i += 1) dataset.labels[i] = r() < 0.4 ? 1 : 0;
    const trained = await trainModel(tf, dataset, config, { ...quick, epochs: 5, folds: 4, boostedTrees: true });
    expect(trained.treeBlend!.weight).toBe(0.5);
    expect(trained.preprocess.trees).toBeDefined();
    expect(trained.model.inputs[0]!.shape).toEqual([null, trained.preprocess.inputDim]);
    expect(trained.baselineModel.inputs[0]!.shape).toEqual([null, trained.preprocess.inputDim]);
    const served = predict(tf, trained.model, transformColumns(trained.preprocess, dataset), dataset.rows, trained.preprocess.inputDim);
    const base = dataset.labels.reduce((a, v) => a + v, 0) / dataset.rows;
    expect(Math.max(...Array.from(served, (p) => Math.abs(p - base)))).toBeLessThan(0.15);
  }, 300_000);

  it("holds out validation on larger data, and --select best keeps the better of network and baseline", async () => {
    const dataset = syntheticDataset(1200, 9);
    const holdout = await trainModel(tf, dataset, config, { ...quick, epochs: 3, smallDataRows: 100 });
    expect(holdout.strategy).toBe("holdout");
    expect(holdout.network.crossValidation).toBeNull();
    expect(holdout.history.classifier[0]).toMatchObject({ epoch: 1 });
    expect(holdout.history.classifier[0]!.valF1).toBeGreaterThan(0);
    // The network starts from the logistic regression (wide and deep); one epoch at a far too
    // high learning rate throws it off that start, so the baseline scores better.
    const weak = await trainModel(tf, dataset, config, {
      ...quick,
      epochs: 1,
      pretrain: false,
      hidden: [2],
      learningRate: 0.5,
      smallDataRows: 100,
      select: "best",
    });
    expect(weak.baseline.validation.f1).toBeGreaterThan(weak.network.validation.f1);
    expect(weak.selected).toBe("baseline");
    expect(weak.model.layers.filter((l) => l.getClassName() === "Dense")).toHaveLength(1);
    expect(weak.threshold).toBe(weak.baseline.threshold);
  }, 300_000);

  it("refuses one class only, and too few rows, with clear errors", async () => {
    const oneClass = syntheticDataset(500, 4);
    oneClass.labels.fill(0);
    await expect(trainModel(tf, oneClass, config, quick)).rejects.toMatchObject({ code: "ONE_CLASS" });
    await expect(trainModel(tf, syntheticDataset(40, 5), config, quick)).rejects.toBeInstanceOf(MlopsError);
  });
});

describe("artifacts", () => {
  it("round-trips through save and load with exactly equal predictions, and refuses a tampered file", async () => {
    const dataset = syntheticDataset(800, 6);
    const trained = await trainModel(tf, dataset, config, { ...quick, epochs: 2, pretrainEpochs: 1 });
    const dir = path.join(mkdtempSync(path.join(os.tmpdir(), "mlops-model-")), "v1");
    const base = {
      version: "v1",
      createdAt: "",
      toolkitVersion: "test",
      backend: "wasm",
      seed: 7,
      hyperparameters: {},
      featureSchema: [],
      label: {},
      metrics: {},
      dataFingerprint: {},
      profile: {},
    };
    await saveModelFolder(tf, trained.model, dir, { ...base, preprocess: trained.preprocess, threshold: trained.threshold });
    const x = transformColumns(trained.preprocess, dataset);
    const before = predict(tf, trained.model, x, dataset.rows, trained.preprocess.inputDim);
    const { model, manifest } = await loadModelFolder(tf, dir);
    const after = predict(tf, model, x, dataset.rows, manifest.preprocess.inputDim);
    expect(Array.from(after)).toEqual(Array.from(before));

    const weights = path.join(dir, "weights.bin");
    const bytes = readFileSync(weights);
    bytes[10] = bytes[10]! ^ 0xff;
    writeFileSync(weights, bytes);
    await expect(loadModelFolder(tf, dir)).rejects.toMatchObject({ code: "MODEL_CHECKSUM_MISMATCH" });
  });
});
