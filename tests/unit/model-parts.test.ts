import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { readModelFiles, saveModelFolder } from "../../src/model/artifacts.js";
import { loadTf, type Tf } from "../../src/model/backend.js";
import { stratifiedFolds } from "../../src/model/cross-validation.js";
import { denseLayersFromFiles } from "../../src/model/dense-files.js";
import { predict } from "../../src/model/fit.js";
import { DenseForward } from "../../src/model/forward.js";
import { fitLogistic, LogisticFits, predictLogistic } from "../../src/model/logistic.js";
import { networkLearner } from "../../src/model/learners.js";
import { createClassifier, createWideAndDeep, flattenWideAndDeep, setWide } from "../../src/model/network.js";
import { binEdges, fitPreprocess, transformColumns, transformRow, type NumericParams } from "../../src/model/preprocess.js";
import { seededRandom } from "../../src/model/random.js";

let tf: Tf;
beforeAll(async () => {
  ({ tf } = await loadTf("wasm"));
});

describe("robust preprocessing", () => {
  it("clips to the training split's 0.1% / 99.9% quantiles before standardising, the same way for columns and rows", () => {
    const rows = 2000;
    const values = Float64Array.from({ length: rows }, (_, i) => (i % 100) / 10);
    values[5] = 1e30; // one extreme row
    const columns = { rows, numeric: new Map([["x", values]]), categorical: new Map() };
    const params = fitPreprocess([{ name: "x", type: "numeric", nullable: false }], columns, new Uint8Array(rows).fill(1));
    const feature = params.features[0] as NumericParams;
    expect(feature.clip![1]).toBeLessThan(10);
    // Without the clip the mean would be about 5e26 and every other row would standardise to ~0.
    expect(feature.mean).toBeGreaterThan(4.5);
    expect(feature.mean).toBeLessThan(5.5);
    const x = transformColumns(params, columns);
    expect(x[5]).toBeCloseTo((feature.clip![1] - feature.mean) / feature.std, 5);
    expect(transformRow(params, { x: 1e30 }, new Float32Array(1))[0]).toBe(x[5]);
    expect(transformRow(params, { x: -1e30 }, new Float32Array(1))[0]).toBeCloseTo((feature.clip![0] - feature.mean) / feature.std, 5);
  });

  it("standardises as before for manifests written without a clip", () => {
    const params = { inputDim: 1, features: [{ name: "x", type: "numeric" as const, mean: 1, std: 2, indicator: false }] };
    expect(transformRow(params, { x: 1e6 }, new Float32Array(1))[0]).toBeCloseTo((1e6 - 1) / 2, 0);
  });
});

describe("stratified folds", () => {
  it("deals each class evenly over the folds, the same way for the same seed", () => {
    const labels = Uint8Array.from({ length: 103 }, (_, i) => (i % 10 < 3 ? 1 : 0));
    const folds = stratifiedFolds(labels, 5, 11);
    for (let f = 0; f < 5; f++) {
      const members = [...folds.keys()].filter((i) => folds[i] === f);
      const positives = members.filter((i) => labels[i] === 1).length;
      expect(members.length === 20 || members.length === 21).toBe(true);
      expect(positives === 6 || positives === 7).toBe(true);
    }
    expect(Array.from(stratifiedFolds(labels, 5, 11))).toEqual(Array.from(folds));
    expect(Array.from(stratifiedFolds(labels, 5, 12))).not.toEqual(Array.from(folds));
  });
});

describe("logistic regression baseline", () => {
  it("reaches the optimum of the L2-regularised, class-weighted log loss (gradient zero)", () => {
    const random = seededRandom(3);
    const n = 600;
    const dim = 3;
    const X = Float32Array.from({ length: n * dim }, () => random() * 2 - 1);
    const labels = Int8Array.from({ length: n }, (_, i) => (X[i * dim]! * 2 - X[i * dim + 1]! + 0.5 * (random() - 0.5) > 0.3 ? 1 : 0));
    const rows = Int32Array.from({ length: n }, (_, i) => i);
    const fit = fitLogistic(X, dim, labels, rows);
    const positives = labels.reduce((a, b) => a + b, 0);
    const weight = [n / (2 * (n - positives)), n / (2 * positives)];
    const gradient = [...fit.kernel, 0];
    const p = predictLogistic(fit, X, dim, rows);
    for (let i = 0; i < n; i++) {
      const g = weight[labels[i]!]! * (p[i]! - labels[i]!);
      for (let j = 0; j < dim; j++) gradient[j]! += g * X[i * dim + j]!;
      gradient[dim]! += g;
    }
    // float32 probabilities bound how close to zero this can be read back.
    for (const g of gradient) expect(Math.abs(g)).toBeLessThan(1e-3);
    expect(fit.kernel[0]).toBeGreaterThan(1);
    expect(fit.kernel[1]).toBeLessThan(-0.5);
  });
});

describe("piecewise-linear encoding (small data)", () => {
  const edgesOf = (values: number[], bins: number) => binEdges(Float64Array.from(values).sort(), bins);
  it("takes equal-frequency bin edges from the training values, ties merged, and none for a binary or constant feature", () => {
    expect(edgesOf([1, 2, 3, 4, 5, 6, 7, 8, 9], 4)).toEqual([1, 3, 5, 7, 9]);
    // 1-12 by month: from the first month to the last, no edge repeated.
    const months = Array.from({ length: 120 }, (_, i) => (i % 12) + 1);
    const edges = edgesOf(months, 8)!;
    expect(edges[0]).toBe(1);
    expect(edges[edges.length - 1]).toBe(12);
    for (let i = 1; i < edges.length; i++) expect(edges[i]).toBeGreaterThan(edges[i - 1]!);
    expect(edgesOf([0, 1, 1, 0, 1, 0, 0], 8)).toBeNull();
    expect(edgesOf([0, 0, 0, 0, 0, 0, 5, 9], 4)).toEqual([0, 1.25, 9]); // three values: bins, ties merged
    expect(edgesOf([3, 3, 3], 8)).toBeNull();
    expect(edgesOf([], 8)).toBeNull();
  });

  it("shares a budget of bin inputs among the features bins can help, and gives none below two bins each", () => {
    const rows = 300;
    const features = Array.from({ length: 40 }, (_, i) => ({ name: `x${i}`, type: "numeric" as const, nullable: false }));
    const flags = Array.from({ length: 10 }, (_, i) => ({ name: `flag${i}`, type: "numeric" as const, nullable: false }));
    const numeric = new Map<string, Float64Array>();
    for (const f of features)
      numeric.set(
        f.name,
        Float64Array.from({ length: rows }, (_, r) => (r * 7919) % 101),
      );
    for (const f of flags)
      numeric.set(
        f.name,
        Float64Array.from({ length: rows }, (_, r) => r % 2),
      );
    const columns = { rows, numeric, categorical: new Map() };
    const all = new Uint8Array(rows).fill(1);
    const binsOf = (params: ReturnType<typeof fitPreprocess>) => (params.features as NumericParams[]).map((f) => (f.edges ? f.edges.length - 1 : 0));
    // 256 bin inputs over 40 binnable features: 6 each; the flags count for nothing and get none.
    const shared = fitPreprocess([...features, ...flags], columns, all, { bins: 8, maxBinInputs: 256 });
    expect(binsOf(shared)).toEqual([...Array(40).fill(6), ...Array(10).fill(0)]);
    expect(shared.inputDim).toBe(40 * 7 + 10);
    expect(binsOf(fitPreprocess(features.slice(0, 4), columns, all, { bins: 8, maxBinInputs: 256 }))).toEqual([8, 8, 8, 8]);
    expect(binsOf(fitPreprocess(features, columns, all, { bins: 8, maxBinInputs: 60 }))).toEqual(Array(40).fill(0));
    expect(binsOf(fitPreprocess(features, columns, all, { bins: 0, maxBinInputs: 256 }))).toEqual(Array(40).fill(0));
  });

  it("encodes a value as its standardised form plus one input per bin, in [0, 1]; a missing value as the mean; rows and columns alike", () => {
    const rows = 1000;
    const x = Float64Array.from({ length: rows }, (_, i) => (i % 2 === 0 ? i : NaN));
    const flag = Float64Array.from({ length: rows }, (_, i) => i % 2);
    const columns = {
      rows,
      numeric: new Map([
        ["x", x],
        ["flag", flag],
      ]),
      categorical: new Map(),
    };
    const features = [
      { name: "x", type: "numeric" as const, nullable: true },
      { name: "flag", type: "numeric" as const, nullable: false },
    ];
    const params = fitPreprocess(features, columns, new Uint8Array(rows).fill(1), { bins: 4, maxBinInputs: 256 });
    const [feature, binary] = params.features as NumericParams[];
    expect(feature!.edges).toHaveLength(5);
    expect(binary!.edges).toBeUndefined();
    // x: its standardised value, 4 bins, its missing indicator; flag: its standardised value.
    expect(params.inputDim).toBe(1 + 4 + 1 + 1);
    const [e0, e1, e2] = feature!.edges!;
    const middle = (e1! + e2!) / 2; // halfway through the second bin
    const encoded = transformRow(params, { x: middle, flag: 1 }, new Float32Array(params.inputDim));
    expect(encoded[0]).toBeCloseTo((middle - feature!.mean) / feature!.std, 5);
    expect(Array.from(encoded.subarray(1, 5))).toEqual([1, 0.5, 0, 0]);
    expect(encoded[5]).toBe(0);
    // Outside the clip bounds every bin input stays in [0, 1].
    expect(Array.from(transformRow(params, { x: -1e9, flag: 0 }, new Float32Array(params.inputDim)).subarray(1, 5))).toEqual([0, 0, 0, 0]);
    expect(Array.from(transformRow(params, { x: 1e9, flag: 0 }, new Float32Array(params.inputDim)).subarray(1, 5))).toEqual([1, 1, 1, 1]);
    expect(e0).toBe(feature!.clip![0]);
    // A missing value takes the mean's inputs: 0 standardised, the mean's bins, the indicator set.
    const missing = transformRow(params, { x: null, flag: 0 }, new Float32Array(params.inputDim));
    const atMean = transformRow(params, { x: feature!.mean, flag: 0 }, new Float32Array(params.inputDim));
    expect(missing[0]).toBe(0);
    expect(Array.from(missing.subarray(1, 5))).toEqual(Array.from(atMean.subarray(1, 5)));
    expect(missing[5]).toBe(1);
    // Training and evaluate (columns) and serve (rows) give the same inputs, bit for bit.
    const all = transformColumns(params, columns);
    for (const r of [0, 1, 2, 501, 998, 999]) {
      const row = transformRow(params, { x: Number.isNaN(x[r]!) ? null : x[r], flag: flag[r] }, new Float32Array(params.inputDim));
      expect(Array.from(all.subarray(r * params.inputDim, (r + 1) * params.inputDim))).toEqual(Array.from(row));
    }
  });
});

describe("wide and deep network", () => {
  const shape = { inputDim: 7, hidden: [6, 4], learningRate: 0.01, seed: 3 };

  it.each([[[6, 4]], [[5]], [[7, 3, 5]]])(
    "serves as one Sequential ReLU network, two units wider per hidden layer (%j), with the same predictions",
    (hidden) => {
      const shape = { inputDim: 7, hidden, learningRate: 0.01, seed: 3 };
      const model = createWideAndDeep(tf, shape);
      const random = seededRandom(5);
      // Random weights everywhere, including the head (zero at the start of training).
      model.setWeights(
        model.getWeights().map((w) =>
          tf.tensor(
            Float32Array.from({ length: w.size }, () => random() - 0.5),
            w.shape,
          ),
        ),
      );
      setWide(tf, model, [0.5, -1, 2, 0, 0.3, -0.7, 1.1], -0.4);
      const x = Float32Array.from({ length: 50 * 7 }, () => random() * 6 - 3);
      const expected = predict(tf, model, x, 50, 7);
      const flat = flattenWideAndDeep(tf, model, shape);
      expect(flat.getClassName()).toBe("Sequential");
      const dense = flat.layers.filter((l) => l.getClassName() === "Dense");
      expect(dense.map((l) => (l.getConfig() as { units: number }).units)).toEqual([...hidden.map((u) => u + 2), 1]);
      const viaTfjs = predict(tf, flat, x, 50, 7);
      for (let i = 0; i < 50; i++) expect(Math.abs(viaTfjs[i]! - expected[i]!)).toBeLessThan(1e-5);
      model.dispose();
      flat.dispose();
    },
  );

  it("starts from the logistic regression of the rows it trains on", () => {
    const rows = 300;
    const random = seededRandom(11);
    const X = Float32Array.from({ length: rows * 7 }, () => random() * 2 - 1);
    const labels = Int8Array.from({ length: rows }, (_, i) => (X[i * 7]! - X[i * 7 + 1]! + 0.3 * (random() - 0.5) > 0 ? 1 : 0));
    const inputs = { X, dim: 7, labels };
    const train = Int32Array.from({ length: 200 }, (_, i) => i);
    const fits = new LogisticFits(inputs);
    const model = networkLearner(tf, shape, null, fits, 1, 32).create(train);
    const linear = fitLogistic(X, 7, labels, train);
    // The baseline asks for the same rows (the same folds) and reads the same fit; other rows get their own.
    expect(fits.of(train.slice())).toBe(fits.of(train));
    expect(fits.of(train.subarray(0, 150))).not.toBe(fits.of(train));
    expect(Array.from(fits.of(train).kernel)).toEqual(Array.from(linear.kernel));
    const all = Int32Array.from({ length: rows }, (_, i) => i);
    const expected = predictLogistic({ kernel: Float32Array.from(linear.kernel), bias: Math.fround(linear.bias) }, X, 7, all);
    const actual = predict(tf, model, X, rows, 7);
    for (let i = 0; i < rows; i++) expect(Math.abs(actual[i]! - expected[i]!)).toBeLessThan(1e-5);
    model.dispose();
  });
});

describe("model files without tfjs", () => {
  it("reads the Dense layers from model.json and weights.bin exactly as tfjs holds them, and refuses damaged files with exit 2", async () => {
    const model = createClassifier(tf, { inputDim: 6, hidden: [5, 3], learningRate: 0.01, seed: 4 });
    const dir = path.join(mkdtempSync(path.join(os.tmpdir(), "mlops-files-")), "v1");
    try {
      const base = {
        version: "v1",
        createdAt: "",
        toolkitVersion: "test",
        backend: "wasm",
        seed: 1,
        hyperparameters: {},
        featureSchema: [],
        label: {},
        metrics: {},
        dataFingerprint: {},
        profile: {},
        threshold: 0.5,
        preprocess: { features: [], inputDim: 6 },
      };
      const manifest = await saveModelFolder(tf, model, dir, base);
      const files = await readModelFiles(dir, manifest as never);
      const forward = new DenseForward(denseLayersFromFiles(files));
      const random = seededRandom(9);
      const x = Float32Array.from({ length: 40 * 6 }, () => random() * 4 - 2);
      const expected = predict(tf, model, x, 40, 6);
      const actual = forward.predictBatch(x, 40);
      for (let i = 0; i < 40; i++) expect(Math.abs(actual[i]! - expected[i]!)).toBeLessThan(1e-6);

      // The registry's checksums win over a manifest rewritten on disk.
      const weightsPath = path.join(dir, "weights.bin");
      const original = readFileSync(weightsPath);
      const flipped = Buffer.from(original);
      flipped[3] = flipped[3]! ^ 1;
      writeFileSync(weightsPath, flipped);
      await expect(readModelFiles(dir, manifest as never)).rejects.toMatchObject({
        code: "MODEL_CHECKSUM_MISMATCH",
        exitCode: 2,
        message: expect.stringContaining("in the registry"),
      });
      writeFileSync(weightsPath, original);
      const manifestPath = path.join(dir, "manifest.json");
      const manifestText = readFileSync(manifestPath);
      writeFileSync(manifestPath, "{ not json");
      await expect(readModelFiles(dir)).rejects.toMatchObject({ code: "MODEL_FILES_DAMAGED", exitCode: 2 });
      writeFileSync(manifestPath, manifestText);
      rmSync(weightsPath);
      await expect(readModelFiles(dir, manifest as never)).rejects.toMatchObject({ code: "MODEL_FILES_MISSING", exitCode: 2 });
    } finally {
      model.dispose();
      rmSync(path.dirname(dir), { recursive: true, force: true });
    }
  });
});
