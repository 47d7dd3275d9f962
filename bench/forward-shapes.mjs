// What the wide-and-deep network and the bins cost the server's forward pass (src/model/forward.ts,
// the WebAssembly pass /predict runs), rows scored per second one at a time, side by side in one run:
//   - 20-64-32-1: the network before both (what a 20-feature model served until then);
//   - 20-66-34-1: wide and deep on large data (the linear term rides in two extra units a layer);
//   - 180-66-34-1: small data with 8 bins on each of 20 numeric features (20 + 160 inputs).
// Run: `npm run build && node bench/forward-shapes.mjs`. The figures are for the pass alone; a
// request also parses JSON, validates, logs and answers, which the serve bench measures.
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

const ROWS = 200_000;
function rowsPerSecond(sizes) {
  const forward = new DenseForward(layersOf(sizes));
  const x = Float32Array.from({ length: 1000 * sizes[0] }, random);
  let sink = 0;
  const pass = (n) => {
    for (let i = 0; i < n; i++) {
      forward.row.set(x.subarray((i % 1000) * sizes[0], (i % 1000) * sizes[0] + sizes[0]));
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
];
// Alternating rounds, so both see the same machine load; the median of three per shape.
const results = shapes.map(() => []);
for (let round = 0; round < 3; round++) shapes.forEach(([, sizes], i) => results[i].push(rowsPerSecond(sizes)));
const median = (values) => values.sort((a, b) => a - b)[1];
const reference = median([...results[0]]);
shapes.forEach(([name], i) => {
  const rate = median(results[i]);
  console.log(`${name.padEnd(52)} ${Math.round(rate).toLocaleString("en-US").padStart(11)} rows/s  ${(rate / reference).toFixed(2)}x`);
});
