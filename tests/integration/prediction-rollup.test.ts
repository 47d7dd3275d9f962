import { copyFileSync, cpSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { configSchema } from "../../src/config/schema.js";
import { sampleConfig } from "../../src/config/sample.js";
import { createBackup, restoreBackup } from "../../src/db/backup.js";
import { applyMigrations } from "../../src/db/migrate.js";
import { collectFeedback } from "../../src/data/feedback.js";
import { MIGRATIONS_DIR } from "../../src/package-root.js";
import { BatchPredictionLog } from "../../src/pipeline/predict/batch-log.js";
import { readLogAggregates, readRollupAggregates, readTraffic } from "../../src/report/traffic.js";
import { PredictionLogWriter, type LoggedPrediction } from "../../src/server/prediction-log.js";
import { uuidv7 } from "../../src/server/uuid7.js";
import { connect, createScratchDatabase, type ScratchDatabase } from "../helpers/database.js";

const HOUR = 3600_000;
const config = configSchema.parse(sampleConfig());
let db: ScratchDatabase;
let client: pg.Client;
let work: string;
// Fixed "now", on a minute that is not a whole hour, so the rows span partial hours at both ends.
const now = new Date(Date.UTC(2026, 10, 30, 12, 17, 0));

/** A deterministic generator (mulberry32): the same rows on every run. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const next = random(7);
/** A served prediction some time in the 40 hours before `now`, latencies from below 0.01 ms to above 60 s. */
function served(versionId: number): LoggedPrediction {
  const probability = next();
  const latencyMs = [0.001, 70_000][Math.floor(next() * 40)] ?? 0.05 + next() * next() * 30;
  const createdAt = new Date(now.getTime() - next() * 40 * HOUR);
  return {
    id: uuidv7(createdAt.getTime()),
    versionId,
    requestId: null,
    featuresJson: "{}",
    probability,
    label: probability >= 0.5 ? 1 : 0,
    latencyMs,
    createdAt,
  };
}

/** The log's own aggregates, written independently of the triggers (only the latency bin is shared: it defines the bins). */
async function fromLog(db: pg.ClientBase) {
  const counts = await db.query(
    `SELECT date_trunc('hour', created_at, 'UTC') AS hour, version_id, count(*)::int AS n, sum(label)::int AS positive FROM predictions GROUP BY 1, 2 ORDER BY 1, 2`,
  );
  const latency = await db.query(
    `SELECT date_trunc('hour', created_at, 'UTC') AS hour, mlops_latency_bin(latency_ms)::int AS bin, count(*)::int AS n FROM predictions GROUP BY 1, 2 ORDER BY 1, 2`,
  );
  const feedback = await db.query(
    `SELECT date_trunc('hour', p.created_at, 'UTC') AS hour, p.version_id, p.label AS predicted, f.label AS actual, count(*)::int AS n
       FROM (SELECT DISTINCT ON (prediction_id) prediction_id, label FROM feedback ORDER BY prediction_id, id DESC) f JOIN predictions p ON p.id = f.prediction_id
      GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4`,
  );
  return { counts: counts.rows, latency: latency.rows, feedback: feedback.rows };
}

async function fromRollups(db: pg.ClientBase) {
  const counts = await db.query(
    `SELECT hour, version_id, predictions::int AS n, positive::int AS positive FROM prediction_rollup WHERE predictions > 0 ORDER BY 1, 2`,
  );
  const latency = await db.query(
    `SELECT hour, bin::int AS bin, predictions::int AS n FROM prediction_latency_rollup WHERE predictions > 0 ORDER BY 1, 2`,
  );
  const feedback = await db.query(
    `SELECT hour, version_id, predicted, actual, n FROM (
       SELECT hour, version_id, 1 AS predicted, 1 AS actual, feedback_tp::int AS n FROM prediction_rollup
       UNION ALL SELECT hour, version_id, 1, 0, feedback_fp::int FROM prediction_rollup
       UNION ALL SELECT hour, version_id, 0, 1, feedback_fn::int FROM prediction_rollup
       UNION ALL SELECT hour, version_id, 0, 0, feedback_tn::int FROM prediction_rollup) cells
      WHERE n <> 0 ORDER BY 1, 2, 3, 4`,
  );
  return { counts: counts.rows, latency: latency.rows, feedback: feedback.rows };
}

beforeAll(async () => {
  db = await createScratchDatabase();
  client = await connect(db.url);
  await applyMigrations(client, MIGRATIONS_DIR);
  await client.query(`INSERT INTO model_versions (version, path, manifest, metrics, threshold, backend, data_fingerprint)
                      SELECT 'v' || i, 'models/v' || i, '{}', '{}', 0.5, 'cpu', '{}' FROM generate_series(1, 2) i`);
  work = mkdtempSync(path.join(os.tmpdir(), "mlops-rollup-"));
});
afterAll(async () => {
  await client?.end();
  await db?.drop();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe("the prediction log's hourly rollups", () => {
  it("equal the log's own aggregates after the server's writer, a spill replayed twice, predict --log and feedback", async () => {
    const spillDir = path.join(work, "spill");
    // A writer whose session is not in UTC: the rollups' hours are UTC hours all the same.
    const writer = new PredictionLogWriter({
      connect: async () => {
        const c = await connect(db.url);
        await c.query("SET TIME ZONE 'Asia/Kolkata'");
        return c;
      },
      spillDir,
    });
    for (let i = 0; i < 3000; i += 1) writer.add(served(1 + (i % 2)));
    await writer.close();

    // The database "down": rows go to a spill file, which is then found twice (a copy of it).
    const down = new PredictionLogWriter({ connect: () => Promise.reject(new Error("connect ECONNREFUSED")), spillDir });
    for (let i = 0; i < 500; i += 1) down.add(served(2));
    await down.close();
    const [spilled] = readdirSync(spillDir).filter((f) => f.endsWith(".tuples"));
    copyFileSync(path.join(spillDir, spilled!), path.join(spillDir, `${spilled!.replace(".tuples", "")}-again.tuples`));
    const replayer = new PredictionLogWriter({ connect: () => connect(db.url), spillDir });
    expect(await replayer.replaySpills()).toBe(500);
    await replayer.close();

    const session = await connect(db.url);
    try {
      const batch = await BatchPredictionLog.begin(session, 1);
      for (let i = 0; i < 300; i += 1) await batch.add({ ...served(1), rowKey: `k${i}` });
      await batch.commit();
      // A failed run logs nothing, and counts nothing.
      const failed = await BatchPredictionLog.begin(session, 2);
      for (let i = 0; i < 50; i += 1) await failed.add({ ...served(2), rowKey: null });
      await failed.rollback();
    } finally {
      await session.end();
    }
    const sources = await client.query("SELECT source, count(*)::int AS n, count(request_id)::int AS keyed FROM predictions GROUP BY 1 ORDER BY 1");
    expect(sources.rows).toEqual([
      { source: "batch", n: 300, keyed: 300 },
      { source: "live", n: 3500, keyed: 0 },
    ]);

    // Feedback on 600 predictions, then a second file that changes the label of 150 of them and repeats 50 unchanged.
    const ids = (await client.query<{ id: string }>("SELECT id FROM predictions ORDER BY id LIMIT 600")).rows.map((r) => r.id);
    const first = path.join(work, "feedback-1.csv");
    writeFileSync(first, `prediction_id,label\n${ids.map((id, i) => `${id},${i % 3 === 0 ? 1 : 0}`).join("\n")}\n`);
    expect(await collectFeedback(client, config, first, work)).toMatchObject({ status: "accepted", attached: 600 });
    const second = path.join(work, "feedback-2.csv");
    const changed = ids.slice(0, 150).map((id, i) => `${id},${i % 3 === 0 ? 0 : 1}`);
    const same = ids.slice(300, 350).map((id, i) => `${id},${(i + 300) % 3 === 0 ? 1 : 0}`);
    writeFileSync(second, `prediction_id,label\n${[...changed, ...same].join("\n")}\n`);
    expect(await collectFeedback(client, config, second, work)).toMatchObject({ status: "accepted", attached: 150, alreadyAttached: 50 });

    const log = await fromLog(client);
    expect(log.feedback.reduce((n, r) => n + r.n, 0)).toBe(600);
    expect(await fromRollups(client)).toEqual(log);

    // Rebuilding from the log (what the migration does for a log that predates the rollups) agrees.
    await client.query("SELECT mlops_prediction_rollup_rebuild()");
    expect(await fromRollups(client)).toEqual(log);
  });

  it("stay exact when two writers (server workers) write the same hours at once", async () => {
    const writers = [1, 2].map(() => new PredictionLogWriter({ connect: () => connect(db.url), spillDir: path.join(work, "spill-concurrent") }));
    for (let round = 0; round < 5; round += 1) {
      for (const [w, writer] of writers.entries()) for (let i = 0; i < 400; i += 1) writer.add(served(1 + ((i + w) % 2)));
      await Promise.all(writers.map((writer) => writer.flush()));
    }
    await Promise.all(writers.map((writer) => writer.close()));
    expect(writers.map((writer) => writer.snapshot())).toEqual(
      writers.map(() => expect.objectContaining({ written: 2000, rejected: 0, databaseUp: true })),
    );
    expect(await fromRollups(client)).toEqual(await fromLog(client));
  });

  it("give the report the same traffic as reading the log, by hour and by day, with and without --since", async () => {
    for (const bucket of ["hour", "day"] as const) {
      for (const from of [null, new Date(now.getTime() - 20 * HOUR - (now.getTime() % HOUR))]) {
        expect(await readRollupAggregates(client, bucket, from), `${bucket} from ${from?.toISOString()}`).toEqual(
          await readLogAggregates(client, bucket, from),
        );
      }
    }
    // --since 20h: hour buckets from the whole hour that holds its start.
    const since = new Date(now.getTime() - 20 * HOUR);
    const traffic = await readTraffic(client, since, now);
    const hourStart = new Date(Math.floor(since.getTime() / HOUR) * HOUR);
    expect(traffic).toMatchObject({ bucket: "hour", from: hourStart.toISOString() });
    const exact = await client.query("SELECT count(*)::int AS n FROM predictions WHERE created_at >= $1", [hourStart]);
    expect(traffic.total).toBe(exact.rows[0].n);
    expect(traffic.versions).toEqual(["v1", "v2"]);
    expect(traffic.feedback.reduce((n, f) => n + f.labelled, 0)).toBeGreaterThan(0);
    // --since 2h: few enough rows to read the log itself by minute, exact to the instant.
    const recent = new Date(now.getTime() - 2 * HOUR);
    const minutes = await readTraffic(client, recent, now);
    const inRange = await client.query("SELECT count(*)::int AS n FROM predictions WHERE created_at >= $1", [recent]);
    expect(minutes).toMatchObject({ bucket: "minute", from: recent.toISOString(), total: inRange.rows[0].n });
  });

  it("are rebuilt by a restore from the rows it loads (backups leave them out)", async () => {
    const backup = await createBackup(client, { dir: path.join(work, "backups"), database: db.name });
    expect(backup.manifest.tables.map((t) => t.name)).not.toContain("prediction_rollup");
    const target = await createScratchDatabase();
    const restored = await connect(target.url);
    try {
      expect(await restoreBackup(restored, backup, MIGRATIONS_DIR)).toMatchObject({ committed: true });
      expect(await fromRollups(restored)).toEqual(await fromRollups(client));
    } finally {
      await restored.end();
      await target.drop();
    }
  });

  it("are backfilled by their migration from a log written before it", async () => {
    const older = mkdtempSync(path.join(work, "migrations-"));
    cpSync(MIGRATIONS_DIR, older, { recursive: true });
    const rollupMigration = readdirSync(older).find((name) => name.endsWith("_prediction_rollup"))!;
    rmSync(path.join(older, rollupMigration), { recursive: true });
    const target = await createScratchDatabase();
    const before = await connect(target.url);
    try {
      await applyMigrations(before, older);
      await before.query(`INSERT INTO predictions (id, version_id, features, probability, label, latency_ms, created_at)
                          SELECT gen_random_uuid(), 1 + i % 3, '{}', 0.5, i % 2, i * 0.37, now() - i * interval '7 minutes' FROM generate_series(1, 2000) i`);
      await before.query("INSERT INTO feedback (prediction_id, label) SELECT id, label FROM predictions WHERE latency_ms < 100");
      await before.query("INSERT INTO feedback (prediction_id, label) SELECT id, 1 - label FROM predictions WHERE latency_ms < 30");
      expect((await applyMigrations(before, MIGRATIONS_DIR)).applied).toEqual([rollupMigration]);
      const log = await fromLog(before);
      expect(log.counts.length).toBeGreaterThan(100);
      expect(await fromRollups(before)).toEqual(log);
    } finally {
      await before.end();
      await target.drop();
    }
  });
});
