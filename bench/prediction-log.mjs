// The serve log's write path with and without the hourly rollups' trigger, side by side: the
// server's PredictionLogWriter (built, from dist/) flushing COPY batches of 1,000 rows (5,000
// requests a second at its 200 ms interval) into a scratch database, rounds alternating between
// the trigger on and off so the machine's load falls on both alike. Prints rows a second and
// their ratio. Needs `npm run build` and a PostgreSQL server that lets its user create databases.
// DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres ROWS=200000 ROUNDS=6 node bench/prediction-log.mjs
import { randomBytes, randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { summarize } from "./lib.mjs";

const ADMIN_URL = process.env.DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres";
const ROWS = Number(process.env.ROWS ?? 200_000);
const ROUNDS = Number(process.env.ROUNDS ?? 6);
const PER_FLUSH = 1000;
const { applyMigrations } = await import("../dist/src/db/migrate.js");
const { MIGRATIONS_DIR } = await import("../dist/src/package-root.js");
const { PredictionLogWriter } = await import("../dist/src/server/prediction-log.js");

const name = `mlops_bench_log_${randomBytes(4).toString("hex")}`;
const admin = new pg.Client({ connectionString: ADMIN_URL });
await admin.connect();
await admin.query(`CREATE DATABASE ${name}`);
const url = new URL(ADMIN_URL);
url.pathname = `/${name}`;
const connect = async () => {
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  return client;
};
const spillDir = mkdtempSync(path.join(os.tmpdir(), "mlops-bench-log-"));
const db = await connect();
try {
  await applyMigrations(db, MIGRATIONS_DIR);
  await db.query(`INSERT INTO model_versions (version, path, manifest, metrics, threshold, backend, data_fingerprint)
                  SELECT 'v' || i, 'models/v' || i, '{}', '{}', 0.5, 'cpu', '{}' FROM generate_series(1, 2) i`);
  const features = JSON.stringify(Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`x${i + 1}`, Math.random()])));
  const rate = { on: [], off: [] };
  for (let round = 0; round < ROUNDS; round += 1) {
    for (const mode of round % 2 === 0 ? ["on", "off"] : ["off", "on"]) {
      await db.query(`ALTER TABLE predictions ${mode === "on" ? "ENABLE" : "DISABLE"} TRIGGER prediction_rollup_add`);
      const writer = new PredictionLogWriter({ connect, spillDir });
      await writer.flush();
      const started = process.hrtime.bigint();
      for (let i = 0; i < ROWS; i += 1) {
        const probability = Math.random();
        writer.add({
          id: randomUUID(),
          versionId: 1 + (i % 2),
          requestId: null,
          featuresJson: features,
          probability,
          label: probability >= 0.5 ? 1 : 0,
          latencyMs: 0.3 + Math.random() * 4,
          createdAt: new Date(),
        });
        if ((i + 1) % PER_FLUSH === 0) await writer.flush();
      }
      await writer.flush();
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      await writer.close();
      if (writer.snapshot().written !== ROWS) throw new Error(`wrote ${writer.snapshot().written} of ${ROWS} rows`);
      rate[mode].push(ROWS / seconds);
      console.log(`round ${round + 1}, trigger ${mode.padEnd(3)} ${(ROWS / seconds).toFixed(0).padStart(7)} rows/s`);
    }
  }
  const rollup = await db.query("SELECT sum(predictions)::int AS n FROM prediction_rollup");
  const on = summarize(rate.on).median;
  const off = summarize(rate.off).median;
  console.log(
    `\nmedian with the rollups' trigger ${on.toFixed(0)} rows/s, without ${off.toFixed(0)} rows/s: ${((on / off) * 100).toFixed(0)}% (rollups counted ${rollup.rows[0].n} rows of the rounds with the trigger on)`,
  );
} finally {
  await db.end();
  await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.end();
  rmSync(spillDir, { recursive: true, force: true });
}
