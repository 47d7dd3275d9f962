import type { ChildProcess } from "node:child_process";
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { json, runCli, startServe, stopServe, tempProject, type RunningServer, SAMPLE_ROW } from "../helpers/cli.js";
import { MODEL_CHANNEL } from "../../src/registry/channel.js";
import { connect, createScratchDatabase, type ScratchDatabase } from "../helpers/database.js";
import { waitFor } from "../helpers/wait.js";

// Three `mlops serve` replicas on three ports against one database, each under a light steady
// load, while a version is promoted, another promoted, and the last change rolled back. Every
// replica must answer with the new version within 1 s of each change (when this test, listening
// like the replicas do, hears the promotion's NOTIFY, sent at commit), no request may fail, and after SIGTERM the logged predictions must equal the
// 200 answers, per version, across all replicas.

let db: ScratchDatabase;
let client: pg.Client;
let project: ReturnType<typeof tempProject>;
const versions: string[] = [];
const replicas: RunningServer[] = [];
const mlops = (...args: string[]) => runCli(args, { cwd: project.dir, env: { DATABASE_URL: db.url } });

interface Answer {
  replica: number;
  /** When the request was sent (ms since the epoch, this machine's clock, as the database's). */
  sentAt: number;
  status: number;
  version: string | null;
}

const row = SAMPLE_ROW;

/** One request after another to one replica, about 50 a second, until `stop.done`. */
async function steadyLoad(replica: number, url: string, answers: Answer[], stop: { done: boolean }): Promise<void> {
  while (!stop.done) {
    const sentAt = Date.now();
    try {
      const response = await fetch(`${url}/predict`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ features: row }),
      });
      const body = (await response.json()) as { model_version?: string };
      answers.push({ replica, sentAt, status: response.status, version: body.model_version ?? null });
    } catch {
      answers.push({ replica, sentAt, status: 0, version: null });
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Promotion NOTIFYs as this test hears them: the version and when. */
const heard: Array<{ to: string; at: number }> = [];

async function promote(args: string[]): Promise<{ to: string; at: number }> {
  const before = heard.length;
  const result = await mlops("promote", ...args, "--json");
  expect(result.code, result.stderr).toBe(0);
  for (const deadline = Date.now() + 5000; heard.length === before; await new Promise((resolve) => setTimeout(resolve, 10))) {
    if (Date.now() > deadline) throw new Error(`no NOTIFY heard after mlops promote ${args.join(" ")}`);
  }
  return heard[before]!;
}

beforeAll(async () => {
  db = await createScratchDatabase();
  client = await connect(db.url);
  client.on("notification", (message) => heard.push({ to: message.payload!, at: Date.now() }));
  await client.query(`LISTEN ${MODEL_CHANNEL}`);
  project = tempProject("mlops-replicas-");
  expect((await mlops("init")).code).toBe(0);
  expect((await mlops("seed", "3000", "--seed", "1")).code).toBe(0);
  for (const seed of ["1", "2", "3"]) {
    const trained = await mlops("train", "--epochs", "2", "--no-pretrain", "--seed", seed, "--json");
    expect(trained.code, trained.stderr).toBe(0);
    versions.push(json<{ version: string }>(trained).version);
  }
  await promote([versions[0]!, "--force", "--reason", "replica test: first version"]);
}, 240_000);

afterAll(async () => {
  for (const { child } of replicas) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  await client?.end();
  await project?.cleanup();
  await db?.drop();
});

describe("three mlops serve replicas on one database", () => {
  it("all follow two promotions and a rollback within 1 s, fail no request and log every 200", { timeout: 180_000 }, async () => {
    for (let i = 0; i < 3; i += 1) replicas.push(await startServe(project.dir, [], { DATABASE_URL: db.url }));
    expect(new Set(replicas.map((r) => r.url)).size).toBe(3);
    const answers: Answer[] = [];
    const stop = { done: false };
    const load = replicas.map((r, i) => steadyLoad(i, r.url, answers, stop));
    await waitFor(() => replicas.every((_, i) => answers.filter((a) => a.replica === i).length >= 10), 30_000, "every replica to answer under load");

    const changes = [
      await settle(promote([versions[1]!, "--force", "--reason", "replica test: second version"])),
      await settle(promote([versions[2]!, "--force", "--reason", "replica test: third version"])),
      await settle(promote(["--rollback", "--reason", "replica test: back to the second"])),
    ];
    stop.done = true;
    await Promise.all(load);
    expect(changes.map((c) => c.to)).toEqual([versions[1], versions[2], versions[1]]);

    // No request failed.
    expect(answers.filter((a) => a.status !== 200)).toEqual([]);

    // Each replica answered with the new version within 1 s of each change, and never went back.
    const lags: number[] = [];
    for (const [index, change] of changes.entries()) {
      const until = changes[index + 1]?.at ?? Infinity;
      for (let replica = 0; replica < 3; replica += 1) {
        const during = answers.filter((a) => a.replica === replica && a.sentAt >= change.at && a.sentAt < until);
        const firstNew = during.findIndex((a) => a.version === change.to);
        expect(firstNew, `replica ${replica} never answered ${change.to}`).toBeGreaterThanOrEqual(0);
        expect(
          during.slice(firstNew).filter((a) => a.version !== change.to),
          `replica ${replica} went back after ${change.to}`,
        ).toEqual([]);
        const lag = during[firstNew]!.sentAt - change.at;
        lags.push(lag);
      }
    }
    console.log(`replica reload lag after a promotion (ms, 3 changes x 3 replicas): ${lags.join(", ")}; max ${Math.max(...lags)}`);
    expect(Math.max(...lags), `every replica answers the new version within 1 s: ${lags.join(", ")} ms`).toBeLessThan(1000);

    // SIGTERM writes each replica's log: logged predictions equal the 200 answers, per version.
    const exits = await Promise.all(replicas.map((r) => stopServe(r.child as ChildProcess)));
    expect(exits).toEqual([0, 0, 0]);
    const answered = new Map<string, number>();
    for (const a of answers) answered.set(a.version!, (answered.get(a.version!) ?? 0) + 1);
    const logged = await client.query<{ name: string; n: number }>(
      "SELECT v.version AS name, count(*)::int AS n FROM predictions p JOIN model_versions v ON v.id = p.version_id GROUP BY v.version",
    );
    expect(new Map(logged.rows.map((r) => [r.name, r.n]))).toEqual(answered);
    expect(answers.length).toBeGreaterThan(300);
  });
});

/** Leaves a change in place for 2 s of load before the next one, so each is measured apart. */
async function settle(change: Promise<{ to: string; at: number }>): Promise<{ to: string; at: number }> {
  const done = await change;
  await new Promise((resolve) => setTimeout(resolve, 2000));
  return done;
}
