import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sampleConfig } from "../../src/config/sample.js";
import { CLI, runCli, tempProject } from "../helpers/cli.js";
import { connect, createScratchDatabase, type ScratchDatabase } from "../helpers/database.js";

// Two `mlops scheduler` processes on one database, a pipeline due every minute whose one stage
// (collect from a URL) this test holds open: the first tick runs on exactly one worker, that
// worker is killed with SIGKILL mid-run, the other marks the run failed, and the next tick runs
// once, on the survivor. Ticks are whole minutes, so this takes up to two and a half.

let db: ScratchDatabase;
let client: pg.Client;
let project: ReturnType<typeof tempProject>;
let source: http.Server;
const workers: Array<{ child: ChildProcess; stderr: () => string; exited: Promise<number | null> }> = [];

/** The collect source: the first request is held open (the run in progress); later ones get CSV rows. */
const requests = { total: 0, open: 0, mostAtOnce: 0 };
let rowsCsv = "";

function startWorker(): (typeof workers)[number] {
  const child = spawn(process.execPath, [CLI, "scheduler"], { cwd: project.dir, env: { ...process.env, DATABASE_URL: db.url, NO_COLOR: "1" } });
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const worker = { child, stderr: () => stderr, exited: new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code))) };
  workers.push(worker);
  return worker;
}

const runs = async () =>
  (
    await client.query<{ id: number; status: string; pid: number; error: string | null; finished_at: Date | null }>(
      "SELECT id, status, pid, error, finished_at FROM pipeline_runs WHERE pipeline = 'collect-every-minute' ORDER BY id",
    )
  ).rows;

beforeAll(async () => {
  db = await createScratchDatabase();
  client = await connect(db.url);
  project = tempProject("mlops-workers-");
  source = http.createServer((_request, response) => {
    requests.total += 1;
    requests.open += 1;
    requests.mostAtOnce = Math.max(requests.mostAtOnce, requests.open);
    response.on("close", () => (requests.open -= 1));
    if (requests.total === 1) return; // held: the run stays in progress until its worker dies
    response.writeHead(200, { "content-type": "text/csv" }).end(rowsCsv);
  });
  await new Promise<void>((resolve) => source.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(source.address() as AddressInfo).port}/rows.csv`;
  const config = {
    ...sampleConfig(),
    sources: { feed: { url } },
    pipelines: { "collect-every-minute": { stages: ["collect"] } },
    schedules: { "collect-every-minute": "* * * * *" },
    retry: { attempts: 1, backoffMs: 0 },
  };
  writeFileSync(path.join(project.dir, "mlops.config.json"), JSON.stringify(config, null, 2));
  const seeded = await runCli(["seed", "200", "--seed", "7", "--out", "rows.csv"], { cwd: project.dir, env: { DATABASE_URL: db.url } });
  expect(seeded.code, seeded.stderr).toBe(0);
  rowsCsv = readFileSync(path.join(project.dir, "rows.csv"), "utf8");
});

afterAll(async () => {
  for (const { child } of workers) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  source?.closeAllConnections();
  await new Promise((resolve) => source?.close(resolve));
  await client?.end();
  await project?.cleanup();
  await db?.drop();
});

describe("two mlops scheduler workers", () => {
  it("run each due run once; a worker killed mid-run has its run marked failed by the other", { timeout: 480_000 }, async () => {
    const pair = [startWorker(), startWorker()];
    // Generous: on a loaded machine two Node processes and pg-boss take a while to start.
    for (
      const deadline = Date.now() + 90_000;
      !pair.every((w) => w.stderr().includes("Scheduler running"));
      await new Promise((r) => setTimeout(r, 200))
    ) {
      if (Date.now() > deadline) throw new Error(`the schedulers did not start:\n${pair.map((w) => w.stderr()).join("\n---\n")}`);
    }

    // First tick: one run, on one worker, held open by the source. A minutely schedule fires at
    // the next minute and pg-boss looks for due schedules every 30 s, so on a loaded machine the
    // first run can take well over a minute to start.
    await expect.poll(() => requests.total, { timeout: 150_000, interval: 200 }).toBe(1);
    await expect.poll(async () => (await runs()).length, { timeout: 10_000 }).toBe(1);
    const [first] = await runs();
    expect(first).toMatchObject({ status: "running" });
    const runner = pair.find((w) => w.child.pid === first!.pid);
    const survivor = pair.find((w) => w !== runner)!;
    expect(runner, `run ${first!.id} belongs to pid ${first!.pid}, not to a worker`).toBeDefined();
    // pg-boss gave the tick's job to one worker only: the other neither ran it nor was refused by the lock.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    expect(survivor.stderr()).not.toMatch(/skipped|could not run/);
    expect(requests.total).toBe(1);

    runner!.child.kill("SIGKILL");
    const killedAt = Date.now();
    expect(await runner!.exited).toBeNull();
    // The survivor sees the run's lock free and marks it failed (it checks every 15 s).
    await expect.poll(async () => (await runs())[0]!.status, { timeout: 40_000, interval: 500 }).toBe("failed");
    console.log(`killed worker's run marked failed ${((Date.now() - killedAt) / 1000).toFixed(1)} s after kill -9`);
    expect((await runs())[0]!.error).toContain(`the process running it died (pid ${first!.pid}`);
    expect(survivor.stderr()).toContain(`run ${first!.id} collect-every-minute marked failed: its process (pid ${first!.pid}`);
    const stages = await client.query<{ status: string }>("SELECT status FROM stage_runs WHERE run_id = $1", [first!.id]);
    expect(stages.rows).toEqual([{ status: "failed" }]);

    // Next tick: once, on the survivor, and it succeeds.
    await expect.poll(async () => (await runs()).filter((r) => r.finished_at).length, { timeout: 150_000, interval: 500 }).toBe(2);
    await new Promise((resolve) => setTimeout(resolve, 3000)); // a duplicate would start within a few polls
    const all = await runs();
    expect(all).toHaveLength(2);
    expect(all[1]).toMatchObject({ status: "succeeded", pid: survivor.child.pid });
    expect(requests.total).toBe(2);
    expect(requests.mostAtOnce).toBe(1);

    survivor.child.kill("SIGTERM");
    expect(await survivor.exited).toBe(0);
  });
});
