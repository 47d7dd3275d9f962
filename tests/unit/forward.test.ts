import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DenseForward, denseLayersOf, type DenseLayerWeights } from "../../src/model/forward.js";

const ROWS = 502;

/** Seeded initializers, and a non-zero bias so the bias term is part of what is compared. */
const seeded = (seed: number) => ({
  kernelInitializer: tf.initializers.glorotUniform({ seed }),
  biasInitializer: tf.initializers.randomUniform({ minval: -0.5, maxval: 0.5, seed: seed + 100 }),
});

/** Uniform rows in [-3, 3) from a seeded generator, with every seventh value exactly zero. */
function randomRows(rows: number, columns: number, seed: number): Float32Array {
  let state = seed >>> 0;
  const X = new Float32Array(rows * columns);
  for (let i = 0; i < X.length; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    X[i] = i % 7 === 0 ? 0 : (state / 2 ** 32) * 6 - 3;
  }
  return X;
}

/** The first output unit of `model.predict` for each row. */
function tfjsFirstUnit(model: tf.LayersModel, X: Float32Array, columns: number): Float32Array {
  return tf.tidy(() => {
    const output = model.predict(tf.tensor2d(X, [X.length / columns, columns])) as tf.Tensor;
    return output.slice([0, 0], [-1, 1]).dataSync() as Float32Array;
  });
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}

/** Checks predictOne, predictBatch and predictRow against tfjs, and that the outputs are not degenerate. */
function expectMatchesTfjs(model: tf.LayersModel, columns: number, seed: number) {
  const X = randomRows(ROWS, columns, seed);
  const expected = tfjsFirstUnit(model, X, columns);
  const forward = new DenseForward(denseLayersOf(model));
  expect(forward.inputs).toBe(columns);

  const one = Array.from({ length: ROWS }, (_, row) => forward.predictOne(X, row * columns));
  const batch = forward.predictBatch(X, ROWS);
  const inPlace = Array.from({ length: ROWS }, (_, row) => {
    forward.row.set(X.subarray(row * columns, (row + 1) * columns));
    return forward.predictRow();
  });
  expect(maxAbsDiff(one, expected)).toBeLessThan(1e-6);
  expect(inPlace).toEqual(one);
  expect(maxAbsDiff(batch, expected)).toBeLessThan(1e-6);
  expect(Math.max(...expected) - Math.min(...expected)).toBeGreaterThan(0.1);
}

const models: tf.LayersModel[] = [];
function track<M extends tf.LayersModel>(model: M): M {
  models.push(model);
  return model;
}

beforeAll(async () => {
  // IS_TEST silences the banner that suggests installing tfjs-node.
  tf.env().set("IS_TEST", true);
  await tf.setBackend("cpu");
});

afterAll(() => {
  for (const model of models) model.dispose();
});

describe("DenseForward equals the tfjs model", () => {
  it("for the 30 -> 64 relu -> 32 relu -> 1 sigmoid classifier", () => {
    const model = track(
      tf.sequential({
        layers: [
          tf.layers.dense({ inputShape: [30], units: 64, activation: "relu", ...seeded(1) }),
          tf.layers.dense({ units: 32, activation: "relu", ...seeded(2) }),
          tf.layers.dense({ units: 1, activation: "sigmoid", ...seeded(3) }),
        ],
      }),
    );
    expectMatchesTfjs(model, 30, 11);
  });

  it("skipping Dropout layers, which are the identity at inference", () => {
    const model = track(
      tf.sequential({
        layers: [
          tf.layers.dense({ inputShape: [21], units: 24, activation: "relu", ...seeded(4) }),
          tf.layers.dropout({ rate: 0.5 }),
          tf.layers.dense({ units: 1, activation: "sigmoid", ...seeded(5) }),
        ],
      }),
    );
    expect(denseLayersOf(model).map((layer) => [layer.inputs, layer.units])).toEqual([
      [21, 24],
      [24, 1],
    ]);
    expectMatchesTfjs(model, 21, 12);
  });

  it("for layers whose weights span several WebAssembly pages", () => {
    const model = track(
      tf.sequential({
        layers: [
          tf.layers.dense({ inputShape: [203], units: 130, activation: "relu", ...seeded(9) }),
          tf.layers.dense({ units: 1, activation: "sigmoid", ...seeded(10) }),
        ],
      }),
    );
    expectMatchesTfjs(model, 203, 14);
  });

  it("for a functional chain of tanh and linear layers, one without a bias", () => {
    const input = tf.input({ shape: [12] });
    const hidden = tf.layers.dense({ units: 16, activation: "tanh", ...seeded(6) }).apply(input);
    const linear = tf.layers.dense({ units: 8, activation: "linear", useBias: false, ...seeded(7) }).apply(hidden);
    const output = tf.layers.dense({ units: 3, activation: "tanh", ...seeded(8) }).apply(linear);
    const model = track(tf.model({ inputs: input, outputs: output as tf.SymbolicTensor }));
    expectMatchesTfjs(model, 12, 13);
  });
});

describe("denseLayersOf", () => {
  it("names an unsupported layer type", () => {
    const model = track(
      tf.sequential({
        layers: [
          tf.layers.dense({ inputShape: [4], units: 8, activation: "relu" }),
          tf.layers.batchNormalization(),
          tf.layers.dense({ units: 1, activation: "sigmoid" }),
        ],
      }),
    );
    expect(() => denseLayersOf(model)).toThrow(/is a BatchNormalization; .*only Dense/);
  });

  it("names an unsupported activation", () => {
    const model = track(tf.sequential({ layers: [tf.layers.dense({ inputShape: [4], units: 2, activation: "softmax" })] }));
    expect(() => denseLayersOf(model)).toThrow(/activation "softmax"/);
  });

  it("rejects a model that branches instead of chaining", () => {
    const input = tf.input({ shape: [4] });
    const left = tf.layers.dense({ units: 3 }).apply(input) as tf.SymbolicTensor;
    const right = tf.layers.dense({ units: 3 }).apply(input) as tf.SymbolicTensor;
    const merged = tf.layers.concatenate().apply([left, right]) as tf.SymbolicTensor;
    const model = track(tf.model({ inputs: input, outputs: merged }));
    expect(() => denseLayersOf(model)).toThrow(/does not take exactly one input/);
  });
});

describe("DenseForward", () => {
  const layer = (inputs: number, units: number, activation: DenseLayerWeights["activation"]) => ({
    kernel: new Float32Array(inputs * units).fill(1),
    bias: new Float32Array(units),
    inputs,
    units,
    activation,
  });

  it("rejects layers whose shapes do not chain", () => {
    expect(() => new DenseForward([layer(30, 64, "relu"), layer(32, 1, "sigmoid")])).toThrow("layer 1 takes 32 inputs but layer 0 outputs 64");
    expect(() => new DenseForward([{ ...layer(3, 2, "relu"), kernel: new Float32Array(5) }])).toThrow("layer 0 kernel holds 5 values, not 3 x 2");
    expect(() => new DenseForward([])).toThrow(/at least one Dense layer/);
  });

  it("rejects a row or batch that runs past the end of the input", () => {
    const forward = new DenseForward([layer(3, 1, "sigmoid")]);
    expect(() => forward.predictOne(new Float32Array(5), 3)).toThrow(RangeError);
    expect(() => forward.predictBatch(new Float32Array(5), 2)).toThrow(RangeError);
    expect(() => forward.predictBatch(new Float32Array(6), 2, new Float32Array(1))).toThrow(RangeError);
  });

  it("writes into the given output array and keeps sigmoid finite at extreme inputs", () => {
    const forward = new DenseForward([layer(1, 1, "sigmoid")]);
    const out = new Float32Array(5);
    expect(forward.predictBatch(new Float32Array([-1000, 0, 1000, -1e30, 1e30]), 5, out)).toBe(out);
    expect(Array.from(out)).toEqual([0, 0.5, 1, 0, 1]);
    expect(forward.predictOne(new Float32Array([-1e30]))).toBe(0);
  });

  it("passes NaN through relu and sigmoid, as tfjs does, without leaking it into the next row", () => {
    const forward = new DenseForward([layer(3, 2, "relu"), layer(2, 1, "sigmoid")]);
    expect(forward.predictOne(new Float32Array([1, Number.NaN, 1]))).toBeNaN();
    expect(forward.predictOne(new Float32Array([0, 0, 0]))).toBe(0.5);
  });
});
