// Sends the labelled rows of a CSV file (from `mlops seed N --out rows.csv`) to a running
// server in batches and writes feedback.csv (prediction_id,label) with their true labels, so that
// `mlops collect --feedback feedback.csv` gives the report live F1. Used by report-demo.sh.
// Usage: node report-demo-traffic.mjs URL rows.csv feedback.csv [batch size]
import { appendFileSync, existsSync, readFileSync, writeFileSync } from "node:fs";

const [url, rowsFile, feedbackFile, batchArg] = process.argv.slice(2);
const batch = Number(batchArg ?? 1);
const [header, ...lines] = readFileSync(rowsFile, "utf8").trim().split("\n");
const columns = header.split(",");
const labelAt = columns.indexOf("label");
if (!existsSync(feedbackFile)) writeFileSync(feedbackFile, "prediction_id,label\n");
for (let i = 0; i < lines.length; i += batch) {
  const chunk = lines.slice(i, i + batch).map((line) => line.split(","));
  const instances = chunk.map((cells) =>
    Object.fromEntries(columns.map((c, j) => [c, /^-?[\d.]+(e-?\d+)?$/.test(cells[j]) ? Number(cells[j]) : cells[j]]).filter(([c]) => c !== "label")),
  );
  const response = await fetch(`${url}/predict`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ instances }),
  });
  const body = await response.json();
  if (!response.ok) throw new Error(`${response.status}: ${JSON.stringify(body)}`);
  appendFileSync(feedbackFile, body.predictions.map((p, k) => `${p.prediction_id},${chunk[k][labelAt]}\n`).join(""));
}
