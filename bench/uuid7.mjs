// Prediction ids: the `uuid` package's v7 beside the hand-written generator the server used
// before (48 bits of milliseconds, then bytes from a 4 KiB pool of random bytes), in one process,
// rounds interleaved. Prints ids/s of each and the ratio; no build needed.
import { randomFillSync } from "node:crypto";
import { v7 } from "uuid";

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));
const pool = Buffer.alloc(4096);
let offset = pool.length;
function handWritten(now = Date.now()) {
  if (offset + 10 > pool.length) {
    randomFillSync(pool);
    offset = 0;
  }
  const bytes = new Uint8Array(16);
  let ms = now;
  for (let i = 5; i >= 0; i -= 1) {
    bytes[i] = ms % 256;
    ms = Math.floor(ms / 256);
  }
  for (let i = 6; i < 16; i += 1) bytes[i] = pool[offset++];
  bytes[6] = (bytes[6] & 0x0f) | 0x70;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  let out = "";
  for (let i = 0; i < 16; i += 1) {
    out += HEX[bytes[i]];
    if (i === 3 || i === 5 || i === 7 || i === 9) out += "-";
  }
  return out;
}

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
