import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Project } from "../../src/config/load.js";
import { sampleConfig } from "../../src/config/sample.js";
import { applyMigrations } from "../../src/db/migrate.js";
import { createPrisma, type PrismaClient } from "../../src/db/prisma.js";
import type { DatabaseSession } from "../../src/db/session.js";
import { evaluateVersion, gateChecks } from "../../src/registry/evaluate.js";
import { MIGRATIONS_DIR } from "../../src/package-root.js";
import { connect, createScratchDatabase, type ScratchDatabase } from "../helpers/database.js";

const GATE = { f1Threshold: 0.8, maxRegression: 0.02 };
const verdict = (checks: ReturnType<typeof gateChecks>) => Object.fromEntries(checks.map((c) => [c.name, c.passed]));

describe("the evaluation gate's decisions", () => {
  it("passes F1 at or above the threshold and fails below it", () => {
    expect(verdict(gateChecks(0.8, null, GATE, null))).toEqual({ f1: true, baseline: true });
    expect(verdict(gateChecks(0.7999, null, GATE, null))).toEqual({ f1: false, baseline: true });
  });

  it("fails a candidate worse than the active version by more than the margin, on the same rows", () => {
    expect(verdict(gateChecks(0.85, { version: "v1", f1: 0.86 }, GATE, null))).toEqual({ f1: true, baseline: true });
    const worse = gateChecks(0.85, { version: "v1", f1: 0.9 }, GATE, null);
    expect(verdict(worse)).toEqual({ f1: true, baseline: false });
    expect(worse[1]!.value).toBeCloseTo(-0.05);
    expect(worse[1]!.detail).toContain("vs active v1 0.9000");
  });

  it("says why there was no comparison: no active version, or the version is the active one", () => {
    expect(gateChecks(0.9, null, GATE, null)[1]!.detail).toBe("no active version to compare with");
    expect(gateChecks(0.9, null, GATE, "v3")[1]!.detail).toBe("v3 is the active version");
  });
});

describe("evaluateVersion against PostgreSQL", () => {
  let db: ScratchDatabase;
  let client: pg.Client;
  let prisma: PrismaClient | undefined;
  let root: string;

  beforeAll(async () => {
    db = await createScratchDatabase();
    client = await connect(db.url);
    await applyMigrations(client, MIGRATIONS_DIR);
    root = mkdtempSync(path.join(os.tmpdir(), "mlops-evaluate-gate-"));
  });

  afterAll(async () => {
    await prisma?.$disconnect();
    await client?.end();
    await db?.drop();
    rmSync(root, { recursive: true, force: true });
  });

  it("gives the verdict no-data, stores no evaluation, when the test split has no labelled rows", async () => {
    await client.query(
      `INSERT INTO model_versions (version, path, manifest, metrics, threshold, backend, data_fingerprint)
       VALUES ('v1', 'models/v1', '{}', '{}', 0.5, 'cpu', '{"rows": 0, "batches": [], "maxBatchId": 0}')`,
    );
    const project: Project = { root, configPath: path.join(root, "mlops.config.json"), config: sampleConfig() };
    const target = { url: db.url, display: db.name, embedded: false };
    const session: DatabaseSession = { target, client, prisma: async () => (prisma ??= await createPrisma(target)) };
    const result = await evaluateVersion(project, session, "v1", { kind: "test-split" });
    expect(result.gate).toMatchObject({ passed: false, verdict: "no-data" });
    expect(result.gate.checks[0]).toMatchObject({ name: "data", passed: false });
    expect(result.evaluationId).toBeNull();
    expect((await client.query("SELECT count(*)::int AS n FROM evaluations")).rows[0].n).toBe(0);
  });
});
