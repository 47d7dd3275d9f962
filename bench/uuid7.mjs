// Prediction ids: the `uuid` package's v7 beside the server's own generator (src/server/uuid7.ts:
// 48 bits of milliseconds, then bytes from a 4 KiB pool of random bytes), in one process, rounds
// interleaved. Prints ids/s of each and the ratio. Needs `npm run build`.
import { v7 } from "uuid";
import { uuidv7 as handWritten } from "../dist/src/server/uuid7.js";

const N = Number(process.env.IDS ?? 1_000_000);
const ROUNDS = Number(process.env.ROUNDS ?? 5);
function rate(generate) {
  let sink = 0;
  const started = process.hrtime.bigint();
  for (let i = 0; i < N; i += 1) sink += generate().length;
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (sink !== N * 36) throw new Error("an id was not 36 characters");
  return N / seconds;
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

rate(v7);
rate(handWritten);
const packaged = [];
const ours = [];
for (let r = 0; r < ROUNDS; r += 1) {
  packaged.push(rate(() => v7()));
  ours.push(rate(() => handWritten()));
}
let ordered = true;
let previous = v7();
for (let i = 0; i < 100_000; i += 1) {
  const next = v7();
  if (next <= previous) ordered = false;
  previous = next;
}
const f = (x) => `${(x / 1e6).toFixed(2)}M ids/s`;
console.log(`node ${process.version}, ${N.toLocaleString("en-US")} ids x ${ROUNDS} rounds, medians`);
console.log(`uuid v7 (package)      ${f(median(packaged))}`);
console.log(`hand-written v7        ${f(median(ours))}`);
console.log(`package / hand-written ${(median(packaged) / median(ours)).toFixed(2)}x`);
console.log(`package ids strictly increasing over 100,000 calls in one process: ${ordered}`);
console.log(`one id costs ${(1e6 / median(packaged)).toFixed(2)} µs with the package`);
