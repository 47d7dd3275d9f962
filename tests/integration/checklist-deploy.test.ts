import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { CheckContext } from "../../src/checklist/context.js";
import { DEFINITIONS } from "../../src/checklist/definitions.js";
import { composeServiceNames, deployChecks } from "../../src/checklist/checks/deploy.js";
import { modelChecks } from "../../src/checklist/checks/model.js";
import type { Project } from "../../src/config/load.js";
import { sampleConfig } from "../../src/config/sample.js";
import { configSchema } from "../../src/config/schema.js";
import { applyMigrations } from "../../src/db/migrate.js";
import { MIGRATIONS_DIR } from "../../src/package-root.js";
import { readSchedules, startScheduler, type RunningScheduler } from "../../src/pipeline/scheduler.js";
import { startServe, stopServe, type RunningServer } from "../helpers/cli.js";
import { connect, createScratchDatabase, type ScratchDatabase } from "../helpers/database.js";

// The seed checklist's Docker and Compose items, checked against deploy/ and the running parts.

const COMPOSE = fileURLToPath(new URL("../../deploy/compose.yaml", import.meta.url));
let db: ScratchDatabase;
let project: Project;
let savedUrl: string | undefined;

beforeAll(async () => {
  db = await createScratchDatabase();
  const client = await connect(db.url);
  await applyMigrations(client, MIGRATIONS_DIR);
  await client.end();
  savedUrl = process.env.DATABASE_URL;
  process.env.DATABASE_URL = db.url;
  const root = mkdtempSync(path.join(os.tmpdir(), "mlops-checklist-deploy-"));
  const config = { ...sampleConfig(), pipelines: { noop: { stages: ["evaluate-active"] } }, schedules: { noop: "0 0 1 1 *" } };
  writeFileSync(path.join(root, "mlops.config.json"), JSON.stringify(config));
  project = { root, configPath: path.join(root, "mlops.config.json"), config: configSchema.parse(config) };
});
afterAll(async () => {
  if (savedUrl === undefined) delete process.env.DATABASE_URL;
  else process.env.DATABASE_URL = savedUrl;
  await db?.drop();
});

describe("the checklist's Docker and Compose items", () => {
  it("map to deploy/", () => {
    expect(DEFINITIONS["Pre-Deployment / Infrastructure / Docker and Docker Compose installed"]).toMatchObject({
      kind: "auto",
      check: "containerDeployment",
    });
    expect(DEFINITIONS["Initial Setup / Services / All containers started (`docker-compose ps`)"]).toMatchObject({
      kind: "auto",
      check: "composeServices",
    });
    const text = readFileSync(COMPOSE, "utf8");
    expect(composeServiceNames(text)).toEqual(Object.keys((parse(text, { merge: true }) as { services: object }).services));
  });

  it("Docker and Compose installed: the shipped files and their services", async () => {
    const result = await deployChecks.containerDeployment(new CheckContext(project, "http://127.0.0.1:9", undefined));
    expect(result.ok, result.evidence).toBe(true);
    expect(result.evidence).toContain("services postgres, migrate, serve, scheduler, proxy");
  });

  it("all containers started: fails naming what is not running, and sees serve and the scheduler once they run", async () => {
    const idle = new CheckContext(project, "http://127.0.0.1:9", undefined);
    const before = await deployChecks.composeServices(idle);
    await idle.close();
    expect(before.ok).toBe(false);
    expect(before.evidence).toContain("serve: no server answers at http://127.0.0.1:9");
    expect(before.evidence).toContain("scheduler: none connected, so 1 scheduled pipeline(s) run only if cron or a CronJob calls mlops run");
    expect(before.evidence).toContain("postgres: accepting connections");

    let server: RunningServer | undefined;
    let scheduler: RunningScheduler | undefined;
    try {
      server = await startServe(project.root, [], { DATABASE_URL: db.url });
      const quiet = { onRun: () => undefined, onSkip: () => undefined, onFailure: () => undefined, onQueueError: () => undefined };
      scheduler = await startScheduler(project, readSchedules(project), quiet);
      const running = new CheckContext(project, server.url, undefined);
      const after = await deployChecks.composeServices(running);
      await running.close();
      expect(after.ok, after.evidence).toBe(true);
      expect(after.evidence).toMatch(/serve: http:\/\/127\.0\.0\.1:\d+ answers, 1 replica\(s\) listening for promotions/);
      expect(after.evidence).toMatch(/scheduler: connected \(\d+ connections\)/);
    } finally {
      await scheduler?.stop(1000);
      if (server) await stopServe(server.child);
    }
  });
});

describe("the checklist's sample-data item", () => {
  const batch = (kind: string, rows: number) =>
    `INSERT INTO batches (source, source_kind, checksum, status, rows_read, rows_accepted, rows_quarantined, rows_duplicate, report, started_at, finished_at)
     VALUES ('${kind}', '${kind}', md5(random()::text), 'accepted', ${rows}, ${rows}, 0, 0, '{}', now(), now())`;

  it("asks for data when none is stored, and takes a user's own collected rows as enough (no synthetic rows mixed in)", async () => {
    const ctx = () => new CheckContext(project, "http://127.0.0.1:9", undefined);
    const client = await connect(db.url);
    try {
      await client.query("DELETE FROM batches");
      const empty = await modelChecks.sampleData(ctx());
      expect(empty.ok).toBe(false);
      expect(empty.evidence).toContain("mlops collect");
      await client.query(batch("feedback", 500));
      expect((await modelChecks.sampleData(ctx())).ok).toBe(false);
      await client.query(batch("file", 2998));
      const own = await modelChecks.sampleData(ctx());
      expect(own).toMatchObject({ ok: true });
      expect(own.evidence).toContain("2998 rows collected from your own data (file)");
    } finally {
      await client.query("DELETE FROM batches");
      await client.end();
    }
  });
});
