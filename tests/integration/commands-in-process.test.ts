import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { collectCommand } from "../../src/commands/declarations/collect.js";
import { dataCommand } from "../../src/commands/declarations/data.js";
import { initCommand } from "../../src/commands/declarations/init.js";
import { modelsCommand } from "../../src/commands/declarations/models.js";
import { promoteCommand } from "../../src/commands/declarations/promote.js";
import { seedCommand } from "../../src/commands/declarations/seed.js";
import { trainCommand } from "../../src/commands/declarations/train.js";
import { createScratchDatabase, type ScratchDatabase } from "../helpers/database.js";
import { runInProcess } from "../helpers/in-process.js";

/**
 * Commands called as functions on a temp project (as changesets tests its CLI), against a real
 * PostgreSQL named by DATABASE_URL. The end-to-end tests cover the built CLI in subprocesses;
 * these cover each command's own behaviour at a fraction of the cost.
 */
let db: ScratchDatabase;
let dir: string;
let savedUrl: string | undefined;

beforeAll(async () => {
  db = await createScratchDatabase();
  dir = mkdtempSync(path.join(os.tmpdir(), "mlops-commands-"));
  savedUrl = process.env.DATABASE_URL;
  process.env.DATABASE_URL = db.url;
});
afterAll(async () => {
  if (savedUrl === undefined) delete process.env.DATABASE_URL;
  else process.env.DATABASE_URL = savedUrl;
  await db?.drop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

interface Batch {
  status: string;
  batchId: number | null;
  sameAs: number | null;
  rows: { read: number; stored: number; quarantined: number };
}

describe("commands in-process", () => {
  it("init creates the project on DATABASE_URL, and a second init changes nothing", async () => {
    const first = await runInProcess<{ changed: boolean; database: { action: string }; migrations: { applied: string[] } }>(initCommand, dir);
    expect(first.code).toBe(0);
    expect(first.result.database.action).toBe("external");
    expect(first.result.migrations.applied.length).toBeGreaterThan(0);
    expect(existsSync(path.join(dir, "mlops.config.json"))).toBe(true);
    const again = await runInProcess<{ changed: boolean; migrations: { applied: string[] } }>(initCommand, dir);
    expect(again.result).toMatchObject({ changed: false, migrations: { applied: [] } });
  });

  it("init refuses --label without --from, through its option schema", async () => {
    await expect(runInProcess(initCommand, dir, { label: "churned" })).rejects.toMatchObject({ code: "OPTIONS_INVALID", exitCode: 2 });
  });

  it("seed stores N rows as one batch, and the same seed again is skipped", async () => {
    const seeded = await runInProcess<Batch & { synthetic: { seed: number } }>(seedCommand, dir, { seed: "7" }, ["1500"]);
    expect(seeded.code).toBe(0);
    expect(seeded.result).toMatchObject({ status: "accepted", rows: { read: 1500, stored: 1500 }, synthetic: { seed: 7 } });
    const again = await runInProcess<Batch>(seedCommand, dir, { seed: "7" }, ["1500"]);
    expect(again.result).toMatchObject({ status: "skipped", sameAs: seeded.result.batchId });
  });

  it("seed names a bad flag by its name", async () => {
    await expect(runInProcess(seedCommand, dir, { drift: "7" }, ["10"])).rejects.toMatchObject({
      code: "OPTIONS_INVALID",
      message: expect.stringContaining("--drift"),
    });
  });

  it("collect ingests a CSV file, quarantining the row that breaks the schema", async () => {
    const csv = path.join(dir, "rows.csv");
    const written = await runInProcess<{ out: string; rows: number }>(seedCommand, dir, { seed: "11", out: csv }, ["200"]);
    expect(written.result.rows).toBe(200);
    const lines = readFileSync(csv, "utf8").trimEnd().split("\n");
    const header = lines[0]!.split(",");
    const broken = lines[1]!.split(",");
    const numeric = header.findIndex((name) => name !== header[0] && /^-?\d/.test(broken[header.indexOf(name)] ?? ""));
    broken[numeric] = "not-a-number";
    writeFileSync(csv, `${[lines[0], broken.join(","), ...lines.slice(2)].join("\n")}\n`);
    const collected = await runInProcess<Batch>(collectCommand, dir, { file: csv });
    expect(collected.code).toBe(0);
    expect(collected.result).toMatchObject({ status: "accepted", rows: { read: 200, stored: 199, quarantined: 1 } });
  });

  it("data shows every stored row by split, the quarantine and the batches", async () => {
    const { result } = await runInProcess<{
      examples: { total: number; bySplit: Record<string, { positive: number; negative: number; unlabelled: number }> };
      quarantined: number;
      batches: unknown[];
    }>(dataCommand, dir);
    expect(result.examples.total).toBe(1699);
    const bySplit = Object.values(result.examples.bySplit).reduce((sum, s) => sum + s.positive + s.negative + s.unlabelled, 0);
    expect(bySplit).toBe(1699);
    expect(result.quarantined).toBe(1);
    expect(result.batches).toHaveLength(2);
    const limited = await runInProcess<{ batches: unknown[] }>(dataCommand, dir, { limit: "1" });
    expect(limited.result.batches).toHaveLength(1);
  });

  it("models lists nothing before training, and one candidate after", async () => {
    const before = await runInProcess<{ versions: unknown[] }>(modelsCommand, dir);
    expect(before.result.versions).toEqual([]);
    const trained = await runInProcess<{ version: string }>(trainCommand, dir, { epochs: "2", pretrainEpochs: "1" });
    expect(trained.code).toBe(0);
    const after = await runInProcess<{ versions: Array<{ version: string; active: boolean }> }>(modelsCommand, dir);
    expect(after.result.versions).toEqual([expect.objectContaining({ version: trained.result.version, active: false })]);
  });

  it("promote refuses an unevaluated version, forces it with a reason, and records who did", async () => {
    await expect(runInProcess(promoteCommand, dir)).rejects.toMatchObject({ code: "PROMOTE_REFUSED", exitCode: 3 });
    const forced = await runInProcess<{ action: string; to: string; actor: string }>(promoteCommand, dir, {
      force: true,
      reason: "in-process test",
      by: "vitest",
    });
    expect(forced.result).toMatchObject({ action: "force", actor: "vitest" });
    const history = await runInProcess<{ history: Array<{ to: string; actor: string; reason: string }> }>(promoteCommand, dir, { history: true });
    expect(history.result.history).toEqual([expect.objectContaining({ to: forced.result.to, actor: "vitest", reason: "in-process test" })]);
    const models = await runInProcess<{ versions: Array<{ version: string; active: boolean }> }>(modelsCommand, dir);
    expect(models.result.versions.find((v) => v.active)?.version).toBe(forced.result.to);
  });
});
