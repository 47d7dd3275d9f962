import { mkdtempSync, writeFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import type pg from "pg";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { Output } from "../../src/terminal/output.js";
import { runScheduler } from "../../src/commands/scheduler.js";
import type { Project } from "../../src/config/load.js";
import { sampleConfig } from "../../src/config/sample.js";
import { configSchema } from "../../src/config/schema.js";
import { applyMigrations } from "../../src/db/migrate.js";
import { MIGRATIONS_DIR } from "../../src/package-root.js";
import type { RunResult } from "../../src/pipeline/runner.js";
import { readSchedules, runDueSchedules, startScheduler, type RunningScheduler, type SchedulerEvents } from "../../src/pipeline/scheduler.js";
import { connect, createScratchDatabase, type ScratchDatabase } from "../helpers/database.js";
import { waitFor } from "../helpers/wait.js";

// A pipeline whose one stage succeeds at once when no version is active: the scheduler's
// behaviour is under test here, not the stages.
const NOOP = { stages: ["evaluate-active"] };
// pg-boss checks its schedules every 30 s and moves due jobs every 5 s; seconds keep tests short.
const FAST = { cronMonitorIntervalSeconds: 1, cronWorkerIntervalSeconds: 1, pollingIntervalSeconds: 0.5 };

let db: ScratchDatabase;
let client: pg.Client;
let savedUrl: string | undefined;
const started: RunningScheduler[] = [];

function projectWith(config: Record<string, unknown>): Project {
  const root = mkdtempSync(path.join(os.tmpdir(), "mlops-scheduler-"));
  return { root, configPath: path.join(root, "mlops.config.json"), config: configSchema.parse({ ...sampleConfig(), ...config }) };
}

/** Scheduler events collected for assertions. */
function recorder() {
  const runs: RunResult[] = [];
  const skips: Array<{ pipeline: string; reason: string }> = [];
  const errors: unknown[] = [];
  const events: SchedulerEvents = {
    onRun: (run) => runs.push(run),
    onSkip: (pipeline, reason) => skips.push({ pipeline, reason }),
    onFailure: (_pipeline, error) => errors.push(error),
    onQueueError: (error) => errors.push(error),
  };
  return { runs, skips, errors, events };
}

async function start(...args: Parameters<typeof startScheduler>): Promise<RunningScheduler> {
  const scheduler = await startScheduler(...args);
  started.push(scheduler);
  return scheduler;
}

/** A minute boundary would be a second, legitimate tick of "* * * * *": wait for a new minute if one is near. */
async function clearOfMinuteBoundary(seconds: number): Promise<void> {
  const left = 60 - ((Date.now() / 1000) % 60);
  if (left < seconds) await new Promise((resolve) => setTimeout(resolve, (left + 0.5) * 1000));
}

const runsOf = async (pipeline: string) =>
  (
    await client.query<{ status: string; trigger: string; finished_at: Date | null }>(
      "SELECT status, trigger, finished_at FROM pipeline_runs WHERE pipeline = $1",
      [pipeline],
    )
  ).rows;

const lockPipeline = (pipeline: string) => client.query("SELECT pg_advisory_lock(hashtext($1))", [`mlops:pipeline:${pipeline}`]);
const unlockPipeline = (pipeline: string) => client.query("SELECT pg_advisory_unlock(hashtext($1))", [`mlops:pipeline:${pipeline}`]);

beforeAll(async () => {
  db = await createScratchDatabase();
  savedUrl = process.env.DATABASE_URL;
  // resolveDatabase reads it: every run below goes to the scratch database.
  process.env.DATABASE_URL = db.url;
  client = await connect(db.url);
  await applyMigrations(client, MIGRATIONS_DIR);
});
afterEach(async () => {
  await Promise.all(started.splice(0).map((s) => s.stop(1000)));
});
afterAll(async () => {
  if (savedUrl === undefined) delete process.env.DATABASE_URL;
  else process.env.DATABASE_URL = savedUrl;
  await client?.end();
  await db?.drop();
});

describe("schedules in the config", () => {
  it("refuses unknown pipelines and invalid cron expressions, naming each schedule", () => {
    const project = projectWith({ schedules: { training: "0 25 * * *", nightly: "@daily", "data-collection": "* * * *" } });
    let error: unknown;
    try {
      readSchedules(project);
    } catch (caught) {
      error = caught;
    }
    expect(error).toMatchObject({ code: "SCHEDULE_INVALID", exitCode: 2 });
    const message = (error as Error).message;
    expect(message).toContain('schedules.training: "0 25 * * *" is not a valid schedule');
    expect(message).toContain('schedules.nightly: No pipeline named "nightly".');
    expect(message).toContain('schedules.data-collection: "* * * *" is not a valid schedule: it has 4 fields, not 5');
  });

  it("maps @hourly, @daily, @weekly, @monthly and @yearly to cron", () => {
    const project = projectWith({
      pipelines: { a: NOOP, b: NOOP, c: NOOP },
      schedules: {
        training: "@hourly",
        "data-collection": "@daily",
        "validation-deployment": "@weekly",
        a: "@monthly",
        b: "@yearly",
        c: "15  3 * * 1-5",
      },
    });
    expect(readSchedules(project).map((s) => [s.pipeline, s.cron])).toEqual([
      ["training", "0 * * * *"],
      ["data-collection", "0 0 * * *"],
      ["validation-deployment", "0 0 * * 0"],
      ["a", "0 0 1 * *"],
      ["b", "0 0 1 1 *"],
      ["c", "15 3 * * 1-5"],
    ]);
  });

  it("fails `mlops scheduler --once` with exit 2", async () => {
    const root = mkdtempSync(path.join(os.tmpdir(), "mlops-scheduler-cli-"));
    writeFileSync(path.join(root, "mlops.config.json"), JSON.stringify({ ...sampleConfig(), schedules: { training: "every day" } }));
    const ctx = { cwd: root, out: new Output({ json: true, verbose: false }) };
    await expect(runScheduler(ctx, { once: true })).rejects.toMatchObject({ code: "SCHEDULE_INVALID", exitCode: 2 });
  });
});

describe("mlops scheduler --once", () => {
  it("runs a pipeline that never ran, then reports it not due until its next tick", async () => {
    const project = projectWith({ pipelines: { noop: NOOP }, schedules: { noop: "@hourly" } });
    const first = await runDueSchedules(project, readSchedules(project));
    expect(first.ran).toMatchObject([{ pipeline: "noop", trigger: "schedule", status: "succeeded" }]);
    expect(first.notDue).toEqual([]);

    const second = await runDueSchedules(project, readSchedules(project));
    expect(second.ran).toEqual([]);
    const nextHour = new Date(Math.floor(Date.now() / 3_600_000 + 1) * 3_600_000).toISOString();
    expect(second.notDue).toEqual([{ pipeline: "noop", next: nextHour }]);

    // A last run from before the latest tick (here: two hours ago) makes it due again.
    await client.query("UPDATE pipeline_runs SET started_at = started_at - interval '2 hours' WHERE pipeline = 'noop'");
    const third = await runDueSchedules(project, readSchedules(project));
    expect(third.ran).toMatchObject([{ pipeline: "noop", status: "succeeded" }]);
    expect(await runsOf("noop")).toHaveLength(2);
  });

  it("skips a due pipeline whose run is held by another process, and exits 1 when a run fails", async () => {
    const root = mkdtempSync(path.join(os.tmpdir(), "mlops-scheduler-cli-"));
    const config = {
      ...sampleConfig(),
      pipelines: { held: NOOP, broken: { stages: ["collect"] } }, // collect with no sources fails
      schedules: { held: "*/5 * * * *", broken: "@daily" },
    };
    writeFileSync(path.join(root, "mlops.config.json"), JSON.stringify(config));
    const stdout = vi.spyOn(process.stdout, "write").mockImplementation(() => true);
    const stderr = vi.spyOn(process.stderr, "write").mockImplementation(() => true);
    await lockPipeline("held");
    try {
      const code = await runScheduler({ cwd: root, out: new Output({ json: true, verbose: false }) }, { once: true });
      expect(code).toBe(1);
      const summary = JSON.parse(stdout.mock.calls.map(([chunk]) => String(chunk)).join(""));
      expect(summary.ran).toMatchObject([{ pipeline: "broken", status: "failed", error: expect.stringContaining("no sources") }]);
      expect(summary.skipped).toEqual([{ pipeline: "held", reason: expect.stringContaining("Pipeline held is already running") }]);
      expect(await runsOf("held")).toEqual([]);
    } finally {
      stdout.mockRestore();
      stderr.mockRestore();
      await unlockPipeline("held");
    }
  });
});

describe("mlops scheduler on pg-boss", () => {
  it("runs each tick once with two schedulers on one database", async () => {
    // Both schedulers keep checking the same tick for a few seconds.
    await clearOfMinuteBoundary(12);
    const project = projectWith({ pipelines: { every: NOOP }, schedules: { every: "* * * * *" } });
    const a = recorder();
    const b = recorder();
    const first = await start(project, readSchedules(project), a.events, FAST);
    await start(project, readSchedules(project), b.events, FAST);
    expect(first.schedules).toEqual([{ pipeline: "every", cron: "* * * * *", next: expect.stringMatching(/:00\.000Z$/) }]);

    await waitFor(() => a.runs.length + b.runs.length > 0);
    // pg-boss stamps pgboss.version.cron_on each time a scheduler checks the schedules (at most once
    // a cronMonitorIntervalSeconds between them): a duplicate run would come from one of these checks.
    const cronChecks = new Set<number>();
    const checked = async () => {
      const stamp = (await client.query<{ cron_on: Date | null }>("SELECT cron_on FROM pgboss.version")).rows[0]?.cron_on;
      if (stamp) cronChecks.add(stamp.getTime());
      return cronChecks.size > 4;
    };
    await waitFor(checked, 30_000, "four more checks of the same tick");
    await Promise.all(started.splice(0).map((s) => s.stop()));

    expect([...a.runs, ...b.runs]).toMatchObject([{ pipeline: "every", trigger: "schedule", status: "succeeded" }]);
    expect(await runsOf("every")).toMatchObject([{ trigger: "schedule", status: "succeeded" }]);
    expect([...a.errors, ...b.errors]).toEqual([]);
  });

  it("logs a run refused by the pipeline's lock and does not retry it", async () => {
    const project = projectWith({ pipelines: { busy: NOOP }, schedules: { busy: "* * * * *" } });
    const events = recorder();
    await lockPipeline("busy");
    try {
      await start(project, readSchedules(project), events.events, FAST);
      await waitFor(() => events.skips.length > 0);
      expect(events.skips[0]).toEqual({ pipeline: "busy", reason: expect.stringContaining("Pipeline busy is already running") });
      // The skipped job ends completed; one put back for a retry would stay in created or retry instead.
      const jobs = async () =>
        (await client.query<{ state: string; retry_count: number }>("SELECT state, retry_count FROM pgboss.job WHERE name = 'mlops-pipeline-busy'"))
          .rows;
      await waitFor(async () => (await jobs()).some((j) => j.state === "completed"), 15_000, "the skipped job to complete");
      const rows = await jobs();
      expect(rows.map((j) => [j.state, j.retry_count])).toEqual(rows.map(() => ["completed", 0]));
      expect(await runsOf("busy")).toEqual([]);
    } finally {
      await unlockPipeline("busy");
    }
  });

  it("waits for a running pipeline when stopped", async () => {
    let requested = false;
    const slowSource = http.createServer((_request, response) => {
      requested = true;
      setTimeout(() => response.writeHead(500).end("try later"), 2000);
    });
    await new Promise<void>((resolve) => slowSource.listen(0, "127.0.0.1", resolve));
    try {
      const url = `http://127.0.0.1:${(slowSource.address() as AddressInfo).port}/rows.csv`;
      const project = projectWith({
        sources: { slow: { url } },
        pipelines: { slow: { stages: ["collect"] } },
        schedules: { slow: "* * * * *" },
        retry: { attempts: 1, backoffMs: 0 },
      });
      const events = recorder();
      await clearOfMinuteBoundary(8);
      const scheduler = await start(project, readSchedules(project), events.events, FAST);
      await waitFor(() => requested);
      expect(scheduler.runsInProgress()).toBe(1);
      await scheduler.stop();
      expect(events.runs).toMatchObject([{ pipeline: "slow", status: "failed" }]);
      expect(await runsOf("slow")).toMatchObject([{ status: "failed", finished_at: expect.any(Date) }]);
    } finally {
      slowSource.closeAllConnections();
      await new Promise((resolve) => slowSource.close(resolve));
    }
  });

  it("unschedules pipelines no longer in the config", async () => {
    const before = projectWith({ pipelines: { kept: NOOP, retired: NOOP }, schedules: { kept: "0 0 1 1 *", retired: "0 0 1 1 *" } });
    await (await start(before, readSchedules(before), recorder().events)).stop();
    const after = projectWith({ pipelines: { kept: NOOP }, schedules: { kept: "0 0 1 1 *" } });
    const scheduler = await start(after, readSchedules(after), recorder().events);
    expect(scheduler.unscheduled).toEqual(["retired"]);
    const names = await client.query<{ name: string }>("SELECT name FROM pgboss.schedule ORDER BY name");
    expect(names.rows.map((r) => r.name)).toEqual(["mlops-pipeline-kept"]);
  });
});
