// What the nesting scan in front of JSON.parse costs a /predict request: the scan of a typical
// one-row body against JSON.parse of the same text, in one run (the ratio is the figure).
// Run after `npm run build`: node bench/json-depth.mjs
import { nestedDeeperThan } from "../dist/src/server/json-depth.js";

const features = Object.fromEntries(
  Array.from({ length: 20 }, (_, i) => [`x${String(i + 1).padStart(2, "0")}`, Math.round(Math.random() * 1e6) / 1e3]),
);
const body = JSON.stringify({ features: { ...features, segment: "b", channel: "app" }, request_id: "req-0001" });
const ROUNDS = 50_000;

function time(fn) {
  for (let i = 0; i < 20_000; i += 1) fn();
  const start = process.hrtime.bigint();
  for (let i = 0; i < ROUNDS; i += 1) fn();
  return Number(process.hrtime.bigint() - start) / ROUNDS;
}

let sink = 0;
const parse = time(() => (sink += JSON.parse(body).features.x01));
const scan = time(() => (sink += nestedDeeperThan(body, 64) ? 1 : 0));
console.log(
  `body ${body.length} bytes: JSON.parse ${parse.toFixed(0)} ns, depth scan ${scan.toFixed(0)} ns, scan/parse ${(scan / parse).toFixed(2)}${sink === -1 ? "" : ""}`,
);
const batch = JSON.stringify({ instances: Array.from({ length: 100 }, () => ({ ...features, segment: "b", channel: "app" })) });
const parseBatch = time(() => (sink += JSON.parse(batch).instances.length));
const scanBatch = time(() => (sink += nestedDeeperThan(batch, 64) ? 1 : 0));
console.log(
  `batch of 100, ${batch.length} bytes: JSON.parse ${parseBatch.toFixed(0)} ns, depth scan ${scanBatch.toFixed(0)} ns, scan/parse ${(scanBatch / parseBatch).toFixed(2)}`,
);
