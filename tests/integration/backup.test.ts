import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { createHash } from "node:crypto";
import os from "node:os";
import path from "node:path";
import { gzipSync } from "node:zlib";
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { Output } from "../../src/terminal/output.js";
import { runDbBackup, runDbRestore } from "../../src/commands/backup.js";
import {
  assertEmptyTarget,
  createBackup,
  listBackups,
  openBackup,
  pruneBackups,
  restoreBackup,
  verifyBackup,
  type Backup,
} from "../../src/db/backup.js";
import { applyMigrations, migrationStatus, readMigrations } from "../../src/db/migrate.js";
import { MIGRATIONS_DIR } from "../../src/package-root.js";
import { connect, createScratchDatabase, type ScratchDatabase } from "../helpers/database.js";

const TABLES = [
  "_prisma_migrations",
  "batches",
  "checklist_signoffs",
  "evaluations",
  "examples",
  "feedback",
  "model_versions",
  "pipeline_runs",
  "predictions",
  "promotions",
  "quarantined_rows",
  "stage_runs",
];

let db: ScratchDatabase;
let client: pg.Client;
let savedUrl: string | undefined;
let work: string;
let backup: Backup;

beforeAll(async () => {
  db = await createScratchDatabase();
  client = await connect(db.url);
  await applyMigrations(client, MIGRATIONS_DIR);
  // Text that COPY must escape (tabs, newlines, backslashes), nulls, and non-ASCII.
  await client.query(`
    INSERT INTO batches (source, source_kind, checksum, status, rows_read, rows_accepted, rows_quarantined, rows_duplicate, report, started_at, finished_at)
    SELECT 'test-' || i, 'synthetic', md5(i::text), 'accepted', 100, 100, 0, 0, '{"note": "tab\\there"}', now(), now() FROM generate_series(1, 3) i;
    INSERT INTO examples (row_hash, batch_id, row_number, row_key, features, label, split)
    SELECT i * 7919, (SELECT min(id) FROM batches) + i % 3, i, CASE WHEN i % 5 = 0 THEN NULL ELSE 'key ' || i END,
           json_build_object('x01', i * 0.5, 'segment', E'a\\tb\\nc\\\\d ünïcødé', 'missing', NULL),
           CASE WHEN i % 4 = 0 THEN NULL ELSE i % 2 END, (ARRAY['train', 'validation', 'test'])[1 + i % 3]::split
      FROM generate_series(1, 300) i;
    INSERT INTO model_versions (version, path, manifest, metrics, threshold, backend, data_fingerprint)
    SELECT 'v' || i, 'models/v' || i, '{}', '{"f1": 0.9}', 0.5, 'cpu', '{}' FROM generate_series(1, 2) i;
    SELECT nextval(pg_get_serial_sequence('model_versions', 'id'));
    INSERT INTO predictions (id, version_id, features, probability, label, latency_ms, created_at)
    SELECT gen_random_uuid(), (SELECT min(id) FROM model_versions), '{"x01": 1}', random(), 1, 0.5, now() FROM generate_series(1, 40);
    INSERT INTO checklist_signoffs (item_id, signed_by, note) VALUES ('a', 'alice', E'line one\\nline two\\twith \\\\ backslash'), ('b', 'bob', NULL);
  `);
  work = mkdtempSync(path.join(os.tmpdir(), "mlops-backup-test-"));
  writeFileSync(path.join(work, "mlops.config.json"), readFileSync(new URL("../../fixtures/mlops.config.json", import.meta.url)));
  savedUrl = process.env.DATABASE_URL;
  // resolveDatabase reads it: the commands below back up and verify the scratch database.
  process.env.DATABASE_URL = db.url;
  backup = await createBackup(client, { dir: path.join(work, "backups"), database: "test" });
});
afterAll(async () => {
  if (savedUrl === undefined) delete process.env.DATABASE_URL;
  else process.env.DATABASE_URL = savedUrl;
  await client?.end();
  await db?.drop();
  if (work) rmSync(work, { recursive: true, force: true });
});

/** Every row of a table as text, in a stable order: equal dumps mean equal contents. */
async function dump(c: pg.Client, table: string): Promise<string> {
  const result = await c.query<{ rows: string | null }>(`SELECT string_agg(t::text, E'\\n' ORDER BY t::text) AS rows FROM "${table}" t`);
  return result.rows[0]!.rows ?? "";
}

/**
 * Runs `verify` and returns what it returned or threw, with the scratch databases it created on
 * `client` (read from its CREATE DATABASE statements) that still exist. Only this verification's
 * own: a server-wide count of scratch databases changes with other runs sharing the server.
 */
async function verifyCountingScratch<T>(verify: () => Promise<T>) {
  const spy = vi.spyOn(client, "query");
  let outcome: { value: T } | { error: unknown };
  try {
    outcome = { value: await verify() };
  } catch (error) {
    outcome = { error };
  }
  // Read before mockRestore, which clears the recorded calls.
  const created = spy.mock.calls.flatMap(([sql]) => /^CREATE DATABASE (\w+)/.exec(String(sql))?.[1] ?? []);
  spy.mockRestore();
  const left = (await client.query("SELECT datname FROM pg_database WHERE datname = ANY($1)", [created])).rows.map((r) => r.datname);
  return { ...outcome, created, left };
}

/** A copy of the backup to damage, leaving the original intact for other tests. */
function copyOfBackup(): Backup {
  const folder = path.join(mkdtempSync(path.join(work, "copy-")), backup.name);
  cpSync(backup.path, folder, { recursive: true });
  return openBackup(folder);
}

/** Runs a command in-process under --json: its exit code and the one JSON document it printed. */
async function command(run: typeof runDbBackup, options: Record<string, unknown>, args: string[] = []) {
  const written: string[] = [];
  const spy = vi.spyOn(process.stdout, "write").mockImplementation((chunk) => written.push(String(chunk)) > 0);
  try {
    const code = await run({ cwd: work, out: new Output({ json: true, verbose: false }) }, options, args);
    return { code, result: JSON.parse(written.join("")) };
  } finally {
    spy.mockRestore();
  }
}

describe("createBackup", () => {
  it("writes every table as gzipped COPY with a manifest of counts, checksums, migrations and sequences", () => {
    expect(backup.name).toMatch(/^\d{8}T\d{6}Z$/);
    expect(readdirSync(backup.path).sort()).toEqual(["manifest.json", ...TABLES.map((t) => `${t}.copy.gz`)].sort());
    const manifest = JSON.parse(readFileSync(path.join(backup.path, "manifest.json"), "utf8"));
    expect(manifest.migrations).toEqual(readMigrations(MIGRATIONS_DIR).map((m) => m.name));
    const rows = Object.fromEntries(manifest.tables.map((t: { name: string; rows: number }) => [t.name, t.rows]));
    expect(rows).toMatchObject({ batches: 3, examples: 300, model_versions: 2, predictions: 40, checklist_signoffs: 2, feedback: 0 });
    for (const table of manifest.tables) {
      const bytes = readFileSync(path.join(backup.path, table.file));
      expect(createHash("sha256").update(bytes).digest("hex"), table.name).toBe(table.sha256);
      expect(bytes.length).toBe(table.bytes);
    }
    // The version reserved without a row: a restore must not hand out v3 again.
    expect(manifest.sequences).toContainEqual({
      name: "model_versions_id_seq",
      table: "model_versions",
      column: "id",
      lastValue: "3",
      isCalled: true,
    });
  });
});

describe("restoring", () => {
  it("verifies in a scratch database with equal counts, and drops it", async () => {
    const run = await verifyCountingScratch(() => verifyBackup(client, db.url, backup, MIGRATIONS_DIR));
    if (!("value" in run)) throw run.error;
    const verification = run.value;
    expect(verification.passed).toBe(true);
    expect(run.created).toEqual([verification.database]);
    expect(verification.database).toMatch(/^mlops_restore_check_[0-9a-f]+$/);
    expect(verification.outcome!.tables.map((t) => t.name).sort()).toEqual(TABLES);
    for (const table of verification.outcome!.tables) expect(table.restoredRows, table.name).toBe(table.expectedRows);
    expect(run.left).toEqual([]);
  });

  it("restores into an empty database the same rows, a history Prisma accepts, and the sequences", async () => {
    const target = await createScratchDatabase();
    const restored = await connect(target.url);
    try {
      await assertEmptyTarget(restored, backup.manifest);
      const outcome = await restoreBackup(restored, backup, MIGRATIONS_DIR);
      expect(outcome).toMatchObject({ committed: true, migrationsApplied: [] });
      for (const table of TABLES) expect(await dump(restored, table), table).toBe(await dump(client, table));
      expect(await migrationStatus(restored, MIGRATIONS_DIR)).toMatchObject({ pending: [], edited: [], failed: [] });
      const next = await restored.query("SELECT nextval(pg_get_serial_sequence('model_versions', 'id'))::int AS id");
      expect(next.rows[0].id).toBe(4);
      await expect(assertEmptyTarget(restored, backup.manifest)).rejects.toMatchObject({ code: "RESTORE_TARGET_NOT_EMPTY", exitCode: 2 });
    } finally {
      await restored.end();
      await target.drop();
    }
  });

  it("loads an older backup into its own schema, then applies the newer migrations to its rows", async () => {
    const migrations = mkdtempSync(path.join(work, "migrations-"));
    cpSync(MIGRATIONS_DIR, migrations, { recursive: true });
    mkdirSync(path.join(migrations, "29991231000000_note_length"));
    writeFileSync(
      path.join(migrations, "29991231000000_note_length", "migration.sql"),
      `ALTER TABLE "checklist_signoffs" ADD COLUMN "note_length" INTEGER;\nUPDATE "checklist_signoffs" SET "note_length" = length("note");\n`,
    );
    const target = await createScratchDatabase();
    const restored = await connect(target.url);
    try {
      const outcome = await restoreBackup(restored, backup, migrations);
      expect(outcome.migrationsApplied).toEqual(["29991231000000_note_length"]);
      const lengths = await restored.query("SELECT item_id, note_length FROM checklist_signoffs ORDER BY item_id");
      const source = await client.query("SELECT item_id, length(note) AS note_length FROM checklist_signoffs ORDER BY item_id");
      expect(lengths.rows).toEqual(source.rows);
      expect(lengths.rows[1]).toEqual({ item_id: "b", note_length: null });
      expect(await migrationStatus(restored, migrations)).toMatchObject({ pending: [], edited: [] });
    } finally {
      await restored.end();
      await target.drop();
    }
  });

  it("refuses a backup taken with migrations this mlops does not know", async () => {
    const copy = copyOfBackup();
    const manifest = { ...copy.manifest, migrations: [...copy.manifest.migrations, "29991231000000_future"] };
    await expect(restoreBackup(client, { ...copy, manifest }, MIGRATIONS_DIR)).rejects.toMatchObject({ code: "BACKUP_NEWER_SCHEMA", exitCode: 2 });
  });

  it("explains what to do when the user may not create the scratch database", async ({ skip }) => {
    const may = await client.query("SELECT rolsuper OR rolcreaterole AS may FROM pg_roles WHERE rolname = current_user");
    if (!may.rows[0].may) skip("the test server's user may not create roles");
    const role = `mlops_nocreatedb_${Date.now()}`;
    await client.query(`CREATE ROLE ${role} LOGIN PASSWORD 'pw' NOCREATEDB`);
    const url = new URL(db.url);
    [url.username, url.password] = [role, "pw"];
    const limited = await connect(url.toString());
    try {
      await expect(verifyBackup(limited, url.toString(), backup, MIGRATIONS_DIR)).rejects.toMatchObject({
        code: "RESTORE_CANNOT_CREATE_DATABASE",
        hint: expect.stringContaining("--target-url"),
      });
    } finally {
      await limited.end();
      await client.query(`DROP ROLE ${role}`);
    }
  });

  it("fails verification naming a tampered table, and loads nothing", async () => {
    const copy = copyOfBackup();
    writeFileSync(path.join(copy.path, "checklist_signoffs.copy.gz"), gzipSync("99\ta\tmallory\t\\N\t2026-01-01 00:00:00+00\n"));
    const verification = await verifyBackup(client, db.url, copy, MIGRATIONS_DIR);
    expect(verification).toMatchObject({ passed: false, database: null, outcome: undefined });
    expect(verification.checks.filter((c) => c.status !== "ok").map((c) => [c.table, c.status])).toEqual([["checklist_signoffs", "mismatch"]]);

    const { code, result } = await command(runDbRestore, { verify: true }, [copy.path]);
    expect(code).toBe(3);
    expect(result).toMatchObject({ status: "failed", problems: [expect.stringContaining("checklist_signoffs")] });
  });

  it("names the file of a corrupt gzip whose checksum still matches, and drops the scratch database", async () => {
    const copy = copyOfBackup();
    const file = path.join(copy.path, "examples.copy.gz");
    const damaged = readFileSync(file).subarray(0, 200);
    writeFileSync(file, damaged);
    const table = copy.manifest.tables.find((t) => t.name === "examples")!;
    table.sha256 = createHash("sha256").update(damaged).digest("hex");
    const run = await verifyCountingScratch(() => verifyBackup(client, db.url, copy, MIGRATIONS_DIR));
    expect("error" in run && run.error).toMatchObject({
      code: "BACKUP_FILE_CORRUPT",
      exitCode: 2,
      message: expect.stringContaining(file),
    });
    expect(run.created).toHaveLength(1);
    expect(run.left).toEqual([]);
  });
});

describe("the backup folder", () => {
  it("keeps the newest N with --keep, and ignores unfinished .partial folders", async () => {
    const dir = path.join(work, "rotation");
    for (const old of ["20200101T000000Z", "20200102T000000Z", "20200103T000000Z"]) {
      cpSync(backup.path, path.join(dir, old), { recursive: true });
    }
    const killed = path.join(dir, "29990101T000000Z.partial");
    const stale = path.join(dir, "20200101T000001Z.partial");
    for (const partial of [killed, stale]) mkdirSync(partial, { recursive: true });
    utimesSync(stale, new Date(Date.now() - 3 * 86_400_000), new Date(Date.now() - 3 * 86_400_000));

    const newest = await createBackup(client, { dir, database: "test" });
    expect(listBackups(dir)[0]!.name).toBe(newest.name);
    expect(() => openBackup(killed)).toThrow(expect.objectContaining({ code: "BACKUP_INCOMPLETE" }));

    expect((await pruneBackups(dir, 2)).sort()).toEqual(["20200101T000000Z", "20200101T000001Z.partial", "20200102T000000Z"]);
    expect(listBackups(dir).map((b) => b.name)).toEqual([newest.name, "20200103T000000Z"]);
    expect(existsSync(killed)).toBe(true);
  });
});

describe("mlops db backup and db restore", () => {
  it("backs up, then verifies the newest backup, under --json", async () => {
    const backedUp = await command(runDbBackup, { dir: "cli-backups", keep: "1" });
    expect(backedUp.code).toBe(0);
    expect(backedUp.result).toMatchObject({ path: path.join(work, "cli-backups", backedUp.result.name), totalRows: expect.any(Number), pruned: [] });
    expect(backedUp.result.tables).toHaveLength(TABLES.length);
    expect(backedUp.result.tables).toContainEqual({ name: "examples", rows: 300, bytes: expect.any(Number) });

    const verified = await command(runDbRestore, { verify: true, dir: "cli-backups" });
    expect(verified.code).toBe(0);
    expect(verified.result).toMatchObject({
      mode: "verify",
      status: "passed",
      committed: true,
      problems: [],
      backup: { name: backedUp.result.name },
    });
    expect(verified.result.tables).toContainEqual({ name: "examples", expectedRows: 300, restoredRows: 300, checksum: "ok" });
  });

  it("asks for exactly one of --verify and --target-url, and refuses a target with rows", async () => {
    for (const options of [{}, { verify: true, targetUrl: db.url }]) {
      await expect(command(runDbRestore, { ...options, dir: "backups" })).rejects.toMatchObject({ code: "OPTIONS_INVALID", exitCode: 2 });
    }
    await expect(command(runDbRestore, { targetUrl: "mysql://x@y/z", dir: "backups" })).rejects.toMatchObject({ code: "OPTIONS_INVALID" });
    await expect(command(runDbRestore, { targetUrl: db.url, dir: "backups" })).rejects.toMatchObject({
      code: "RESTORE_TARGET_NOT_EMPTY",
      exitCode: 2,
    });
  });

  it("says how to make a first backup when there is none", async () => {
    await expect(command(runDbRestore, { verify: true, dir: "nothing-here" })).rejects.toMatchObject({
      code: "BACKUP_NONE",
      exitCode: 2,
      hint: expect.stringContaining("mlops db backup"),
    });
    await expect(command(runDbRestore, { verify: true, dir: "backups" }, ["20000101T000000Z"])).rejects.toMatchObject({ code: "BACKUP_NOT_FOUND" });
  });
});
