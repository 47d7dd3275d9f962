import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sampleConfig } from "../../src/config/sample.js";
import { CLI, json, runCli, tempProject } from "../helpers/cli.js";
import { createScratchDatabase, type ScratchDatabase } from "../helpers/database.js";

let db: ScratchDatabase;
let project: ReturnType<typeof tempProject>;
const mlops = (...args: string[]) => runCli(args, { cwd: project.dir, env: { DATABASE_URL: db.url } });

function writeSchedules(schedules: Record<string, string>): void {
  const config = { ...sampleConfig(), pipelines: { noop: { stages: ["evaluate-active"] } }, schedules };
  writeFileSync(path.join(project.dir, "mlops.config.json"), JSON.stringify(config, null, 2));
}

beforeAll(async () => {
  db = await createScratchDatabase();
  project = tempProject();
});
afterAll(async () => {
  await project?.cleanup();
  await db?.drop();
});

describe("mlops scheduler", () => {
  it("--once runs what is due, then says nothing is due until the next tick", async () => {
    writeSchedules({ noop: "@hourly" });
    const first = await mlops("scheduler", "--once", "--json");
    expect(first.code, first.stderr).toBe(0);
    expect(json(first)).toMatchObject({ ran: [{ pipeline: "noop", trigger: "schedule", status: "succeeded" }], skipped: [], notDue: [] });

    const second = await mlops("scheduler", "--once");
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toMatch(/^Nothing was due\.\nnot due noop: next run \d{4}-\d\d-\d\d \d\d:00 UTC\n$/);
  });

  it("refuses an invalid schedule with exit 2, naming it", async () => {
    writeSchedules({ noop: "61 * * * *" });
    const result = await mlops("scheduler", "--json");
    expect(result.code).toBe(2);
    expect(json(result)).toMatchObject({ error: { code: "SCHEDULE_INVALID", message: expect.stringContaining('schedules.noop: "61 * * * *"') } });
  });

  it("prints its schedules when started and exits 0 on SIGTERM", async () => {
    writeSchedules({ noop: "30 2 * * *" });
    const child = spawn(process.execPath, [CLI, "scheduler", "--json"], {
      cwd: project.dir,
      env: { ...process.env, DATABASE_URL: db.url, NO_COLOR: "1" },
    });
    let stdout = "";
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
    const document = await new Promise<unknown>((resolve, reject) => {
      child.stdout.on("data", (chunk: Buffer) => {
        stdout += chunk.toString();
        try {
          resolve(JSON.parse(stdout));
        } catch {
          // Not a whole JSON document yet.
        }
      });
      void exited.then((code) => reject(new Error(`scheduler exited ${code}: ${stderr}`)));
    });
    expect(document).toEqual({ schedules: [{ pipeline: "noop", cron: "30 2 * * *", next: expect.stringMatching(/T02:30:00\.000Z$/) }] });
    await expect.poll(() => stderr).toContain("Scheduler running, times in UTC: noop 30 2 * * * (next ");

    child.kill("SIGTERM");
    expect(await exited).toBe(0);
    expect(stderr).toContain("Scheduler stopped.");
    expect(JSON.parse(stdout)).toEqual(document);
  });
});
