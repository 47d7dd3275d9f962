// Peak memory of reading a JSON array against the same rows as JSON Lines, in one run.
// Each reader runs in its own process and reports its peak RSS (getrusage maxrss). "whole" is
// the way JSON arrays were read before (the document read into one string, then JSON.parse),
// kept here as the reference the streaming reader is measured against.
//   npm run build && node bench/json-array-memory.mjs        (ROWS=500000 for the size)
import { spawnSync } from "node:child_process";
import { createWriteStream, mkdtempSync, rmSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const ROWS = Number(process.env.ROWS ?? 200_000);
const OPEN = pathToFileURL(fileURLToPath(new URL("../dist/src/data/sources/open.js", import.meta.url))).href;
const dir = mkdtempSync(path.join(os.tmpdir(), "mlops-bench-json-"));

async function write(file, rows, array) {
  const out = createWriteStream(file);
  if (array) out.write("[\n");
  for (let i = 0; i < rows; i++) {
    const row = { id: `r${i}`, label: i % 2 };
    for (let f = 1; f <= 20; f++) row[`x${String(f).padStart(2, "0")}`] = Math.round(Math.sin(i * f) * 1e6) / 1e4;
    row.segment = "abcd"[i % 4];
    const text = JSON.stringify(row);
    if (!out.write(array ? `${i ? ",\n" : ""}${text}` : `${text}\n`)) await new Promise((r) => out.once("drain", r));
  }
  if (array) out.write("\n]\n");
  await new Promise((r) => out.end(r));
}

const reader = (mode, file) => `
  const { openSource } = await import(${JSON.stringify(OPEN)});
  let rows = 0;
  if (${JSON.stringify(mode)} === "whole") {
    const { readFileSync } = await import("node:fs");
    rows = JSON.parse(readFileSync(${JSON.stringify(file)}, "utf8")).length;
  } else {
    const source = await openSource({ kind: "file", path: ${JSON.stringify(file)}, format: ${JSON.stringify(mode === "jsonl" ? "jsonl" : "json")} });
    for await (const records of source.records) rows += records.length;
  }
  console.log(JSON.stringify({ rows, maxRssMb: process.resourceUsage().maxRSS / 1024 }));
`;

function measure(mode, file) {
  const started = Date.now();
  const result = spawnSync(process.execPath, ["--input-type=module", "-e", reader(mode, file)], { encoding: "utf8", maxBuffer: 1 << 20 });
  if (result.status !== 0) throw new Error(`${mode}: ${result.stderr}`);
  return { ...JSON.parse(result.stdout), seconds: (Date.now() - started) / 1000 };
}

try {
  const jsonl = path.join(dir, "rows.jsonl");
  const json = path.join(dir, "rows.json");
  await write(jsonl, ROWS, false);
  await write(json, ROWS, true);
  console.log(
    `${ROWS.toLocaleString("en-US")} rows: JSON array ${(statSync(json).size / 1e6).toFixed(0)} MB, JSON Lines ${(statSync(jsonl).size / 1e6).toFixed(0)} MB`,
  );
  const reference = measure("jsonl", jsonl);
  for (const [name, mode, file] of [
    ["JSON Lines (reference)", "jsonl", jsonl],
    ["JSON array, streamed", "json", json],
    ["JSON array, read whole (before)", "whole", json],
  ]) {
    const m = mode === "jsonl" ? reference : measure(mode, file);
    console.log(
      `${name.padEnd(34)} peak RSS ${m.maxRssMb.toFixed(0).padStart(5)} MB  (${(m.maxRssMb / reference.maxRssMb).toFixed(2)}x JSON Lines)  ${m.seconds.toFixed(1)} s  rows ${m.rows}`,
    );
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
