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
import { fitLogistic, predictLogistic } from "../../src/model/logistic.js";
import { createClassifier } from "../../src/model/network.js";
import { fitPreprocess, transformColumns, transformRow, type NumericParams } from "../../src/model/preprocess.js";
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
