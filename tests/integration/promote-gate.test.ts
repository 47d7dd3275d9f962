import type pg from "pg";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { applyMigrations } from "../../src/db/migrate.js";
import { ExitCode, MlopsError } from "../../src/errors.js";
import { MIGRATIONS_DIR } from "../../src/package-root.js";
import { promoteVersion } from "../../src/registry/promote.js";
import { activeVersion } from "../../src/registry/versions.js";
import { connect, createScratchDatabase, type ScratchDatabase } from "../helpers/database.js";

/**
 * The promotion gate's refusals, against a real database: versions and evaluations are rows as
 * `mlops train` and `mlops evaluate` write them (no model files: promoteVersion checks files only
 * when given a project root).
 */
let db: ScratchDatabase;
let client: pg.Client;

beforeAll(async () => {
  db = await createScratchDatabase();
  client = await connect(db.url);
  await applyMigrations(client, MIGRATIONS_DIR);
});

afterAll(async () => {
  await client?.end();
  await db?.drop();
});

beforeEach(async () => {
  await client.query("TRUNCATE promotions, evaluations, model_versions RESTART IDENTITY CASCADE");
});

async function addVersion(): Promise<string> {
  const row = await client.query<{ version: string }>(
    `INSERT INTO model_versions (id, version, path, manifest, metrics, threshold, backend, data_fingerprint)
     SELECT n, 'v' || n, 'models/v' || n, '{}', '{}', 0.5, 'cpu', '{"rows": 10, "batches": [], "maxBatchId": 1}'
       FROM (SELECT nextval(pg_get_serial_sequence('model_versions', 'id'))::int AS n) s RETURNING version`,
  );
  return row.rows[0]!.version;
}

async function addEvaluation(version: string, passed: boolean, f1: number): Promise<void> {
  await client.query(
    `INSERT INTO evaluations (version_id, data_source, row_count, f1, metrics, passed, gate)
     SELECT id, 'test-split', 100, $2, '{}', $3, '{}' FROM model_versions WHERE version = $1`,
    [version, f1, passed],
  );
}

async function refusal(promise: Promise<unknown>): Promise<MlopsError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(MlopsError);
  return error as MlopsError;
}

const promotions = async () => (await client.query("SELECT count(*)::int AS n FROM promotions")).rows[0].n as number;

describe("promoteVersion (the gate)", () => {
  it("refuses a version that was never evaluated, with exit 3, and records nothing", async () => {
    const v = await addVersion();
    const error = await refusal(promoteVersion(client, { version: v }));
    expect(error.code).toBe("PROMOTE_REFUSED");
    expect(error.exitCode).toBe(ExitCode.gateFailed);
    expect(error.message).toContain("has not been evaluated");
    expect(await promotions()).toBe(0);
    expect(await activeVersion(client)).toBeUndefined();
  });

  it("refuses a version whose latest evaluation failed, even if an older one passed", async () => {
    const v = await addVersion();
    await addEvaluation(v, true, 0.9);
    await addEvaluation(v, false, 0.41);
    const error = await refusal(promoteVersion(client, { version: v }));
    expect(error.code).toBe("PROMOTE_REFUSED");
    expect(error.exitCode).toBe(ExitCode.gateFailed);
    expect(error.message).toContain("F1 0.4100");
    expect(await promotions()).toBe(0);
  });

  it("refuses --force without a reason before looking at the gate (exit 2)", async () => {
    const v = await addVersion();
    const error = await refusal(promoteVersion(client, { version: v, force: true, reason: "  " }));
    expect(error.code).toBe("REASON_REQUIRED");
    expect(error.exitCode).toBe(ExitCode.usage);
    expect(await promotions()).toBe(0);
  });

  it("promotes a version that passed, and overrides a failed one only with --force and a reason, recorded", async () => {
    const good = await addVersion();
    await addEvaluation(good, true, 0.88);
    const first = await promoteVersion(client, { version: good, actor: "test" });
    expect(first).toMatchObject({ action: "promote", from: null, to: good });
    expect((await activeVersion(client))?.version).toBe(good);

    const bad = await addVersion();
    await addEvaluation(bad, false, 0.3);
    const forced = await promoteVersion(client, { version: bad, force: true, reason: "hotfix", actor: "test" });
    expect(forced).toMatchObject({ action: "force", from: good, to: bad, reason: "hotfix" });
    const history = await client.query("SELECT action, reason FROM promotions ORDER BY id");
    expect(history.rows).toEqual([
      { action: "promote", reason: null },
      { action: "force", reason: "hotfix" },
    ]);
  });

  it("leaves the history alone when the version is already active (the transaction rolls back)", async () => {
    const v = await addVersion();
    await addEvaluation(v, true, 0.9);
    await promoteVersion(client, { version: v, actor: "test" });
    const again = await promoteVersion(client, { version: v, actor: "test" });
    expect(again.action).toBe("unchanged");
    expect(await promotions()).toBe(1);
    // No transaction left open on the client.
    expect((await client.query("SELECT now() = statement_timestamp() AS fresh")).rows[0].fresh).toBe(true);
  });

  it("refuses a rollback with no earlier active version", async () => {
    const error = await refusal(promoteVersion(client, { rollback: true }));
    expect(error.code).toBe("NOTHING_TO_ROLL_BACK");
    const v = await addVersion();
    await addEvaluation(v, true, 0.9);
    await promoteVersion(client, { version: v, actor: "test" });
    const again = await refusal(promoteVersion(client, { rollback: true }));
    expect(again.code).toBe("NOTHING_TO_ROLL_BACK");
    expect(again.message).toContain("No earlier version");
  });
});
