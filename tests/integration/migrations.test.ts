import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applyMigrations, migrationStatus, readMigrations } from "../../src/db/migrate.js";
import { MlopsError } from "../../src/errors.js";
import { MIGRATIONS_DIR } from "../../src/package-root.js";
import { connect, createScratchDatabase, type ScratchDatabase } from "../helpers/database.js";

let db: ScratchDatabase;
let client: pg.Client;

beforeAll(async () => {
  db = await createScratchDatabase();
  client = await connect(db.url);
});
afterAll(async () => {
  await client?.end();
  await db?.drop();
});

const EXPECTED_TABLES = [
  "batches",
  "examples",
  "quarantined_rows",
  "model_versions",
  "evaluations",
  "promotions",
  "predictions",
  "feedback",
  "pipeline_runs",
  "stage_runs",
  "checklist_signoffs",
  "prediction_rollup",
  "prediction_latency_rollup",
];

describe("applyMigrations against PostgreSQL", () => {
  it("creates every table and index, recording Prisma's bookkeeping", async () => {
    const { applied, status } = await applyMigrations(client, MIGRATIONS_DIR);
    expect(applied).toEqual(readMigrations(MIGRATIONS_DIR).map((m) => m.name));
    expect(status.pending).toEqual([]);

    const tables = await client.query<{ table_name: string }>("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'");
    expect(tables.rows.map((r) => r.table_name)).toEqual(expect.arrayContaining([...EXPECTED_TABLES, "_prisma_migrations"]));

    const indexes = await client.query<{ indexname: string }>("SELECT indexname FROM pg_indexes WHERE schemaname = 'public'");
    expect(indexes.rows.map((r) => r.indexname)).toEqual(
      expect.arrayContaining(["examples_row_hash_idx", "examples_batch_id_idx", "predictions_created_at_idx", "batches_checksum_idx"]),
    );

    const rows = await client.query("SELECT migration_name, checksum, finished_at, applied_steps_count, logs FROM _prisma_migrations");
    for (const [index, file] of readMigrations(MIGRATIONS_DIR).entries()) {
      expect(rows.rows[index]).toMatchObject({ migration_name: file.name, checksum: file.checksum, applied_steps_count: 1, logs: null });
      expect(rows.rows[index].finished_at).toBeInstanceOf(Date);
    }
  });

  it("leaves a history that Prisma's own schema engine calls in sync", async () => {
    // @ts-expect-error: a plain ESM script without types.
    const { diagnoseMigrations } = await import("../../scripts/schema-engine.mjs");
    const diagnosis = await diagnoseMigrations(db.url, MIGRATIONS_DIR);
    expect(diagnosis).toMatchObject({ editedMigrationNames: [], failedMigrationNames: [], hasMigrationsTable: true, history: null });
  });

  it("is a no-op the second time", async () => {
    const { applied } = await applyMigrations(client, MIGRATIONS_DIR);
    expect(applied).toEqual([]);
    const count = await client.query("SELECT count(*)::int AS n FROM _prisma_migrations");
    expect(count.rows[0].n).toBe(readMigrations(MIGRATIONS_DIR).length);
  });

  it("lets concurrent runs apply each migration once", async () => {
    const scratch = await createScratchDatabase();
    const clients = await Promise.all([connect(scratch.url), connect(scratch.url), connect(scratch.url)]);
    try {
      const results = await Promise.all(clients.map((c) => applyMigrations(c, MIGRATIONS_DIR)));
      expect(results.flatMap((r) => r.applied)).toEqual(readMigrations(MIGRATIONS_DIR).map((m) => m.name));
    } finally {
      await Promise.all(clients.map((c) => c.end()));
      await scratch.drop();
    }
  });

  it("rolls a failing migration back whole and reports which one failed", async () => {
    const scratch = await createScratchDatabase();
    const dir = mkdtempSync(path.join(os.tmpdir(), "mlops-bad-mig-"));
    mkdirSync(path.join(dir, "20260101000000_ok"));
    writeFileSync(path.join(dir, "20260101000000_ok", "migration.sql"), "CREATE TABLE ok (id int);\n");
    mkdirSync(path.join(dir, "20260102000000_bad"));
    writeFileSync(path.join(dir, "20260102000000_bad", "migration.sql"), "CREATE TABLE half (id int);\nSELECT 1/0;\n");
    const c = await connect(scratch.url);
    try {
      await expect(applyMigrations(c, dir)).rejects.toThrowError(/Migration 20260102000000_bad failed and was rolled back/);
      const half = await c.query("SELECT to_regclass('half') IS NULL AS gone");
      expect(half.rows[0].gone).toBe(true);
      expect(await migrationStatus(c, dir)).toMatchObject({ applied: ["20260101000000_ok"], pending: ["20260102000000_bad"], failed: [] });
    } finally {
      await c.end();
      await scratch.drop();
    }
  });

  it("refuses a non-empty database that has no migration history", async () => {
    const scratch = await createScratchDatabase();
    const c = await connect(scratch.url);
    try {
      await c.query("CREATE TABLE someone_elses (id int)");
      const error = await applyMigrations(c, MIGRATIONS_DIR).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(MlopsError);
      expect((error as MlopsError).code).toBe("DATABASE_NOT_EMPTY");
    } finally {
      await c.end();
      await scratch.drop();
    }
  });
});
