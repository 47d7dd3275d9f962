// What the wide-and-deep network and the bins cost the server's forward pass (src/model/forward.ts,
// the WebAssembly pass /predict runs), rows scored per second one at a time, side by side in one run:
//   - 20-64-32-1: the network before both (what a 20-feature model served until then);
//   - 20-66-34-1: wide and deep on large data (the linear term rides in two extra units a layer);
//   - 180-66-34-1: small data with 8 bins on each of 20 numeric features (20 + 160 inputs);
//   - 181-66-34-1 with 100 boosted trees of depth 3 scored into the last input (small data now,
//     src/model/stack.ts), the trees walked as preprocessing does (treeInput: complete trees in
//     flat arrays, branch-free steps), and once more walked node by node (boostedScore), the
//     plain form it replaced.
// Run: `npm run build && node bench/forward-shapes.mjs`. The figures are for the pass alone; a
// request also parses JSON, validates, logs and answers, which the serve bench measures.
import { boostedScore, fitBoosted, treeInput } from "../dist/src/model/boosting.js";
import { DenseForward } from "../dist/src/model/forward.js";

let state = 7;
const random = () => (state = (state * 1103515245 + 12345) >>> 0) / 4294967296 - 0.5;
const layersOf = (sizes) =>
  sizes.slice(1).map((units, i) => ({
    inputs: sizes[i],
    units,
    kernel: Float32Array.from({ length: sizes[i] * units }, random),
    bias: Float32Array.from({ length: units }, random),
    activation: i === sizes.length - 2 ? "sigmoid" : "relu",
  }));

// Trees fitted on 1,000 rows whose label mixes a threshold, an interaction and noise, so they
// split as they do on real tables rather than stopping early.
const TREE_ROWS = 1000;
const treeX = Float32Array.from({ length: TREE_ROWS * 181 }, random);
const treeLabels = Int8Array.from({ length: TREE_ROWS }, (_, r) =>
  treeX[r * 181] * treeX[r * 181 + 1] + 0.3 * treeX[r * 181 + 2] + 0.2 * random() > 0 ? 1 : 0,
);
const trees = {
  models: [
    fitBoosted(
      treeX,
      181,
      treeLabels,
      Int32Array.from({ length: TREE_ROWS }, (_, i) => i),
      Array.from({ length: 20 }, (_, i) => i * 9),
    ),
  ],
};
const scorers = {
  flat: (x, at) => treeInput(trees, x, at),
  nested: (x, at) => boostedScore(trees.models[0], x, at),
};

const ROWS = 200_000;
function rowsPerSecond(sizes, scorer) {
  const forward = new DenseForward(layersOf(sizes));
  const x = Float32Array.from({ length: 1000 * sizes[0] }, random);
  const score = scorers[scorer];
  let sink = 0;
  const pass = (n) => {
    for (let i = 0; i < n; i++) {
      const at = (i % 1000) * sizes[0];
      forward.row.set(x.subarray(at, at + sizes[0]));
      if (score) forward.row[sizes[0] - 1] = score(forward.row, 0);
      sink += forward.predictRow();
    }
  };
  pass(20_000); // warm-up
  const started = performance.now();
  pass(ROWS);
  if (Number.isNaN(sink)) throw new Error("unreachable");
  return ROWS / ((performance.now() - started) / 1000);
}

const shapes = [
  ["20-64-32-1 (before)", [20, 64, 32, 1]],
  ["20-66-34-1 (wide and deep, large data)", [20, 66, 34, 1]],
  ["180-66-34-1 (and 8 bins x 20 numerics, small data)", [180, 66, 34, 1]],
  ["181-66-34-1 + 100 trees (small data now)", [181, 66, 34, 1], "flat"],
  ["181-66-34-1 + 100 trees walked node by node", [181, 66, 34, 1], "nested"],
];
// Alternating rounds, so both see the same machine load; the median of three per shape.
const results = shapes.map(() => []);
for (let round = 0; round < 3; round++) shapes.forEach(([, sizes, scorer], i) => results[i].push(rowsPerSecond(sizes, scorer)));
const median = (values) => values.sort((a, b) => a - b)[1];
const reference = median([...results[0]]);
shapes.forEach(([name], i) => {
  const rate = median(results[i]);
  console.log(`${name.padEnd(52)} ${Math.round(rate).toLocaleString("en-US").padStart(11)} rows/s  ${(rate / reference).toFixed(2)}x`);
});
