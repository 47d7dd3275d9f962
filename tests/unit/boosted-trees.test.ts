import { beforeAll, describe, expect, it } from "vitest";
import { loadTf, type Tf } from "../../src/model/backend.js";
import { BOOSTING, boostedScore, fitBoosted, treeInput } from "../../src/model/boosting.js";
import { stratifiedFolds } from "../../src/model/cross-validation.js";
import { predict } from "../../src/model/fit.js";
import {
  createLogisticRegression,
  createWideAndDeep,
  flattenWideAndDeep,
  setDenseWeights,
  setWide,
  withBlendedInput,
} from "../../src/model/network.js";
import { fitPreprocess, transformColumns, transformRow } from "../../src/model/preprocess.js";
import { seededRandom } from "../../src/model/random.js";
import { logLoss, rocAuc } from "../../src/model/metrics.js";
import { BLEND_WEIGHTS, chooseBlend, fitTreeFolds, platt, treeColumns, withTreeInput, type TreeFolds } from "../../src/model/stack.js";

/** Rows of two features whose label is their signs' agreement (XOR): no linear function ranks it. */
function xor(rows: number, seed: number) {
  const random = seededRandom(seed);
  const X = new Float32Array(rows * 2);
  const labels = new Int8Array(rows);
  for (let r = 0; r < rows; r += 1) {
    X[r * 2] = random() * 2 - 1;
    X[r * 2 + 1] = random() * 2 - 1;
    labels[r] = X[r * 2]! * X[r * 2 + 1]! > 0 ? 1 : 0;
  }
  return { X, labels };
}

describe("gradient-boosted trees", () => {
  it("learn an interaction no linear score can rank, and rank unseen rows by it", () => {
    const train = xor(400, 1);
    const model = fitBoosted(
      train.X,
      2,
      train.labels,
      Int32Array.from({ length: 400 }, (_, i) => i),
      [0, 1],
    );
    expect(model.trees).toHaveLength(BOOSTING.trees);
    const test = xor(200, 2);
    let correct = 0;
    for (let r = 0; r < 200; r += 1) correct += (boostedScore(model, test.X, r * 2) > 0 ? 1 : 0) === test.labels[r] ? 1 : 0;
    expect(correct / 200).toBeGreaterThan(0.9);
  });

  it("split a separable feature in the middle of the gap between the classes, and start from the log odds", () => {
    const X = Float32Array.of(1, 2, 3, 10, 11, 12, 13);
    const labels = Int8Array.of(0, 0, 0, 1, 1, 1, 1);
    const model = fitBoosted(X, 1, labels, Int32Array.of(0, 1, 2, 3, 4, 5, 6), [0]);
    expect(model.init).toBeCloseTo(Math.log(4 / 3), 12);
    expect(model.trees[0]!.column[0]).toBe(0);
    expect(model.trees[0]!.value[0]).toBe(6.5);
  });

  it("are the same model for the same rows, and read only the columns given", () => {
    const { X, labels } = xor(300, 3);
    const rows = Int32Array.from({ length: 300 }, (_, i) => i);
    expect(JSON.stringify(fitBoosted(X, 2, labels, rows, [0, 1]))).toBe(JSON.stringify(fitBoosted(X, 2, labels, rows, [0, 1])));
    const onlySecond = fitBoosted(X, 2, labels, rows, [1]);
    expect(new Set(onlySecond.trees.flatMap((t) => t.column))).toEqual(new Set([1, -1]));
  });
});

describe("boosted trees blended with the network (small data)", () => {
  let tf: Tf;
  beforeAll(async () => {
    ({ tf } = await loadTf("wasm"));
  });
  const features = [
    { name: "a", type: "numeric" as const, nullable: true },
    { name: "b", type: "numeric" as const, nullable: false },
    { name: "colour", type: "categorical" as const, nullable: false, values: ["red", "blue"] },
  ];
  const rows = 300;
  const random = seededRandom(5);
  const a = Float64Array.from({ length: rows }, (_, i) => (i % 17 === 0 ? NaN : random() * 2 - 1));
  const b = Float64Array.from({ length: rows }, () => random() * 2 - 1);
  const colour = Int32Array.from({ length: rows }, (_, i) => i % 2);
  const labels = Int8Array.from({ length: rows }, (_, i) => ((Number.isNaN(a[i]!) ? 0.5 : a[i]!) * b[i]! > 0 ? 1 : 0));
  const columns = {
    rows,
    numeric: new Map([
      ["a", a],
      ["b", b],
    ]),
    categorical: new Map([["colour", colour]]),
  };
  const fitMask = new Uint8Array(rows).fill(1, 0, 250);
  const encoded = fitPreprocess(features, columns, fitMask, { bins: 4, maxBinInputs: 256 });
  const X = transformColumns(encoded, columns);
  const fitRows = Int32Array.from({ length: 250 }, (_, i) => i);
  const inputs = { X, dim: encoded.inputDim, labels };
  let folds: TreeFolds;
  let served: ReturnType<typeof withTreeInput>;
  let dim: number;
  const progress: Array<[number, number]> = [];
  beforeAll(async () => {
    folds = await fitTreeFolds(encoded, inputs, fitRows, 5, 7, (fitted, models) => progress.push([fitted, models]));
    served = withTreeInput(encoded, inputs, folds.trees);
    dim = served.preprocess.inputDim;
  });

  it("split on values, missing indicators and categories, not on bin inputs", () => {
    // a: value, 4 bins, indicator; b: value, 4 bins; colour: red, blue, other.
    expect(treeColumns(encoded)).toEqual([0, 5, 6, 11, 12, 13]);
    expect(dim).toBe(encoded.inputDim + 1);
  });

  it("score each fitted row with a fold model that did not see it, and serve the refit on all of them", () => {
    expect(progress).toEqual([
      [1, 6],
      [2, 6],
      [3, 6],
      [4, 6],
      [5, 6],
      [6, 6],
    ]);
    const foldOf = stratifiedFolds(
      Uint8Array.from(fitRows, (r) => labels[r]!),
      5,
      7,
    );
    for (const r of [0, 1, 120, 249]) {
      const fold = fitBoosted(
        X,
        encoded.inputDim,
        labels,
        fitRows.filter((_, i) => foldOf[i] !== foldOf[r]),
        treeColumns(encoded),
      );
      expect(folds.outOfFold[r]).toBe(boostedScore(fold, X, r * encoded.inputDim));
    }
    const refit = fitBoosted(X, encoded.inputDim, labels, fitRows, treeColumns(encoded));
    expect(folds.trees.models).toEqual([refit]);
    for (const r of [0, 250, 299]) {
      // The served form (complete trees) scores as the model does.
      expect(treeInput(folds.trees, X, r * encoded.inputDim)).toBeCloseTo(boostedScore(refit, X, r * encoded.inputDim), 10);
      expect(served.inputs.X[r * dim + dim - 1]).toBe(Math.fround(treeInput(folds.trees, X, r * encoded.inputDim)));
    }
    // Out of fold they rank the interaction that no linear score of the inputs can.
    let agree = 0;
    for (const r of fitRows) agree += (folds.outOfFold[r]! > 0 ? 1 : 0) === labels[r] ? 1 : 0;
    expect(agree / fitRows.length).toBeGreaterThan(0.8);
  });

  it("give serve and evaluate the same inputs, row by row or by columns", () => {
    const byColumns = transformColumns(served.preprocess, columns);
    expect(Array.from(byColumns)).toEqual(Array.from(served.inputs.X));
    const row = new Float32Array(dim);
    for (const r of [3, 17, 260]) {
      transformRow(served.preprocess, { a: Number.isNaN(a[r]!) ? null : a[r], b: b[r], colour: colour[r] === 0 ? "red" : "blue" }, row);
      expect(Array.from(row)).toEqual(Array.from(byColumns.subarray(r * dim, (r + 1) * dim)));
    }
  });

  it("calibrate a score out of fold: Platt scaling recovers the scale and bias of a logistic rule", () => {
    const r = seededRandom(21);
    const x = Float64Array.from({ length: 20_000 }, () => r() * 6 - 3);
    const y = Uint8Array.from(x, (v) => (r() < 1 / (1 + Math.exp(-(2 * v - 1))) ? 1 : 0));
    const fitted = platt(y, x);
    expect(fitted.scale).toBeCloseTo(2, 1);
    expect(fitted.bias).toBeCloseTo(-1, 1);
    // Scores that separate the classes get a finite scale.
    const separated = platt(Uint8Array.of(0, 0, 1, 1), Float64Array.of(-2, -1, 1, 2));
    expect(Number.isFinite(separated.scale) && separated.scale > 1).toBe(true);
  });

  const logit = (p: number) => Math.log(p / (1 - p));
  const blendOf = (blend: { network: number; trees: number; bias: number }, p: number, t: number) =>
    1 / (1 + Math.exp(-(blend.network * logit(Math.min(Math.max(p, 1e-7), 1 - 1e-7)) + blend.trees * t + blend.bias)));

  it("are weighed by the out-of-fold log loss of the calibrated blend: not at all when they add nothing, most when they alone rank", () => {
    const y = Uint8Array.from(fitRows, (r) => labels[r]!);
    const informed = Float32Array.from(y, (v) => (v ? 0.8 : 0.2));
    expect(
      chooseBlend(
        y,
        informed,
        Float64Array.from(y, () => 0),
      ).weight,
    ).toBe(0);
    // A network that ranks nothing: the trees alone (the product rule is theirs to find).
    const chance = Float32Array.from(y, () => 0.5);
    const alone = chooseBlend(y, chance, folds.outOfFold);
    expect(alone.weight).toBeGreaterThan(0.5);
    for (const i of [0, 7, 100]) expect(alone.outOfFold[i]).toBeCloseTo(blendOf(alone, chance[i]!, folds.outOfFold[i]!), 5);
    // A network that ranks by a noisy copy of the label, blended with the trees, ranks better than either.
    const r = seededRandom(13);
    const noisy = Float32Array.from(y, (v) => 1 / (1 + Math.exp(-((v ? 1 : -1) + 4 * (r() - 0.5)))));
    const mixed = chooseBlend(y, noisy, folds.outOfFold);
    expect(mixed.weight).toBeGreaterThan(0);
    expect(mixed.weight).toBeLessThan(1);
    for (const i of [0, 7, 100]) expect(mixed.outOfFold[i]).toBeCloseTo(blendOf(mixed, noisy[i]!, folds.outOfFold[i]!), 5);
    expect(rocAuc(y, mixed.outOfFold)!).toBeGreaterThan(
      Math.max(
        rocAuc(y, noisy)!,
        rocAuc(
          y,
          Float32Array.from(folds.outOfFold, (s) => 1 / (1 + Math.exp(-s))),
        )!,
      ),
    );
  });

  it("buy no confidence by blending: two overconfident scores of labels drawn at random blend evenly into the base rate", () => {
    // Averaging two independent noisy scores lowers the log loss of either (it shrinks them):
    // uncalibrated, the lowest loss would be at a weight on trees that rank nothing. Calibrated,
    // neither score ranks, no weight is better beyond the noise, and the even blend is near
    // the base rate on every row.
    const r = seededRandom(17);
    const y = Uint8Array.from({ length: 400 }, () => (r() < 0.4 ? 1 : 0));
    const network = Float32Array.from(y, () => 1 / (1 + Math.exp(-(6 * r() - 3))));
    const trees = Float64Array.from(y, () => 6 * r() - 3);
    const raw = (w: number) =>
      logLoss(
        y,
        Float32Array.from(network, (p, i) => 1 / (1 + Math.exp(-((1 - w) * logit(p) + w * trees[i]!)))),
      );
    expect(raw(0.5)).toBeLessThan(raw(0) - 0.1);
    const blend = chooseBlend(y, network, trees);
    expect(blend.weight).toBe(0.5);
    const base = y.reduce((a, v) => a + v, 0) / y.length;
    expect(Math.max(...Array.from(blend.outOfFold, (p) => Math.abs(p - base)))).toBeLessThan(0.1);
  });

  it("blend evenly when the weights' out-of-fold log losses are within one standard error, and follow a gain beyond it", () => {
    // The trees agree with a noisy network on every row but two positives: one they get right
    // where it is wrong, one the other way round. Averaging the two rows' scores lowers the loss,
    // so the lowest is at a weight above 0; but two rows are noise, and the blend is even.
    const r = seededRandom(3);
    const y = Uint8Array.from({ length: 200 }, (_, i) => (i % 2 === 0 ? 1 : 0));
    const z = Float64Array.from(y, (v) => (v ? 1 : -1) + 3 * (r() - 0.5));
    const trees = Float64Array.from(z);
    [z[0], trees[0], z[2], trees[2]] = [-2, 2, 2, -2];
    const network = Float32Array.from(z, (v) => 1 / (1 + Math.exp(-v)));
    const [n, t] = [platt(y, z), platt(y, trees)];
    const calibrated = (w: number) =>
      logLoss(
        y,
        Float32Array.from(z, (v, i) => 1 / (1 + Math.exp(-((1 - w) * (n.scale * v + n.bias) + w * (t.scale * trees[i]! + t.bias))))),
      );
    expect(Math.min(...BLEND_WEIGHTS.map(calibrated))).toBeLessThan(calibrated(0));
    expect(chooseBlend(y, network, trees).weight).toBe(0.5);
    // One right where the other is confidently wrong on a tenth of the rows is beyond the noise:
    // the weight leans to the one that is right.
    const leaning = (right: "network" | "trees") => {
      const [n, t] = [Float32Array.from(network), Float64Array.from(trees)];
      for (let i = 0; i < 200; i += 10) {
        n[i] = 1 / (1 + Math.exp((right === "network") === (y[i] === 1) ? -2 : 2));
        t[i] = (right === "trees") === (y[i] === 1) ? 2 : -2;
      }
      return chooseBlend(y, n, t).weight;
    };
    expect(leaning("trees")).toBeGreaterThan(0.5);
    expect(leaning("network")).toBeLessThan(0.5);
  });

  it.each([[{ network: 1, trees: 0, bias: 0 }], [{ network: 0.7, trees: 0.4, bias: -0.3 }], [{ network: 0, trees: 1, bias: 0.5 }]])(
    "serve the blend %j as one plain network one input wider, and the baseline unchanged",
    (blend) => {
      const shape = { inputDim: 7, hidden: [6, 4], learningRate: 0.01, seed: 3 };
      const model = createWideAndDeep(tf, shape);
      const r = seededRandom(9);
      model.setWeights(
        model.getWeights().map((w) =>
          tf.tensor(
            Float32Array.from({ length: w.size }, () => r() - 0.5),
            w.shape,
          ),
        ),
      );
      setWide(tf, model, [0.5, -1, 2, 0, 0.3, -0.7, 1.1], -0.4);
      const flat = flattenWideAndDeep(tf, model, shape);
      const x = Float32Array.from({ length: 40 * 7 }, () => r() * 6 - 3);
      const s = Float32Array.from({ length: 40 }, () => r() * 8 - 4);
      const widened = Float32Array.from({ length: 40 * 8 }, (_, i) => (i % 8 === 7 ? s[Math.floor(i / 8)]! : x[Math.floor(i / 8) * 7 + (i % 8)]!));
      const before = predict(tf, flat, x, 40, 7);
      const after = predict(tf, withBlendedInput(tf, flat, blend), widened, 40, 8);
      for (let i = 0; i < 40; i++) expect(logit(after[i]!)).toBeCloseTo(blend.network * logit(before[i]!) + blend.trees * s[i]! + blend.bias, 3);
      const baseline = createLogisticRegression(tf, 7);
      setDenseWeights(
        tf,
        baseline,
        "head",
        Float32Array.from({ length: 7 }, () => r() - 0.5),
        [7, 1],
        Float32Array.of(0.2),
      );
      const plain = predict(tf, baseline, x, 40, 7);
      const padded = predict(tf, withBlendedInput(tf, baseline, { network: 1, trees: 0 }), widened, 40, 8);
      for (let i = 0; i < 40; i++) expect(padded[i]).toBeCloseTo(plain[i]!, 6);
    },
  );
});
