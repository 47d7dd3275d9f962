import type { ChildProcess } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import path from "node:path";
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectProject, json, runCli, startServe, stopServe, tempProject, SAMPLE_ROW } from "../helpers/cli.js";
import { waitFor as waitForCondition } from "../helpers/wait.js";

// The built CLI under faults: a SIGKILL while the database is down (issue 12.2), and a
// listening connection that is lost while promotions happen (issue 16).
let project: ReturnType<typeof tempProject>;
const versions: string[] = [];
const mlops = (...args: string[]) => runCli(args, { cwd: project.dir });

const row = SAMPLE_ROW;

async function query<T>(sql: string, params: unknown[] = []): Promise<T[]> {
  const client = await connectProject(project.dir);
  try {
    return (await client.query(sql, params)).rows as T[];
  } finally {
    await client.end();
  }
}

/** n predictions, each with its own request id; resolves with the ids answered 200. */
async function fire(url: string, n: number, prefix: string): Promise<string[]> {
  const answered: string[] = [];
  await Promise.all(
    Array.from({ length: n }, async (_, i) => {
      const response = await fetch(`${url}/predict`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ features: row, request_id: `${prefix}-${i}` }),
      });
      if (response.status === 200) answered.push(`${prefix}-${i}`);
      await response.text();
    }),
  );
  return answered;
}

const exitOf = (child: ChildProcess) => new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

beforeAll(async () => {
  project = tempProject();
  expect((await mlops("init")).code).toBe(0);
  expect((await mlops("seed", "2000", "--seed", "1")).code).toBe(0);
  for (let i = 0; i < 2; i += 1)
    versions.push(json<{ version: string }>(await mlops("train", "--epochs", "2", "--pretrain-epochs", "1", "--json")).version);
  expect((await mlops("promote", versions[0]!, "--force", "--reason", "test")).code).toBe(0);
});
afterAll(async () => project?.cleanup());

describe("a SIGKILL while the database is down", () => {
  it("loses no prediction answered before the last flush interval: the spill is replayed on the next start", async () => {
    const { child, url, stderr } = await startServe(project.dir, ["--model", versions[0]!]);
    const before = await fire(url, 50, "up");
    expect((await mlops("db", "stop")).code).toBe(0);
    const during = await fire(url, 300, "down");
    expect(during).toHaveLength(300);
    // Two flush intervals (200 ms each) and some slack for the fsync, then no chance to flush.
    await sleep(700);
    const killed = exitOf(child);
    child.kill("SIGKILL");
    await killed;
    const spillDir = path.join(project.dir, ".mlops", "prediction-spill");
    const spills = readdirSync(spillDir).filter((f) => f.endsWith(".tuples"));
    expect(spills.length, stderr()).toBeGreaterThan(0);
    expect(statSync(path.join(spillDir, spills[0]!)).mode & 0o777).toBe(0o600);
    expect(statSync(spillDir).mode & 0o777).toBe(0o700);

    expect((await mlops("db", "start")).code).toBe(0);
    const next = await startServe(project.dir, ["--model", versions[0]!]);
    expect(await stopServe(next.child), next.stderr()).toBe(0);
    const logged = await query<{ request_id: string }>("SELECT request_id FROM predictions WHERE request_id LIKE 'up-%' OR request_id LIKE 'down-%'");
    const ids = new Set(logged.map((r) => r.request_id));
    expect([...before, ...during].filter((id) => !ids.has(id))).toEqual([]);
    expect(logged).toHaveLength(350);
  });
});

describe("a replica whose listening connection is lost", () => {
  const health = async (url: string) => (await fetch(`${url}/health`)).json() as Promise<{ model_version: string; status: string }>;
  const reloads = async (url: string) =>
    Number(/^mlops_model_reloads_total\{result="ok"\} (\d+)$/m.exec(await (await fetch(`${url}/metrics`)).text())?.[1] ?? 0);
  let debug = () => "";
  async function waitFor(url: string, version: string): Promise<number> {
    const started = Date.now();
    while (Date.now() - started < 15_000) {
      if ((await health(url)).model_version === version) return Date.now() - started;
      await sleep(100);
    }
    throw new Error(`still not serving ${version} after 15 s: ${JSON.stringify(await health(url))} ${debug()}`);
  }
  let db: pg.Client;
  const terminateListener = async () => {
    const terminated = await db.query("SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE application_name = 'mlops serve listener'");
    expect(terminated.rows.map((r) => r.ok)).toEqual([true]);
  };
  // Straight into the registry, with no NOTIFY, right after the listener was cut (it retries
  // after 2 s): only the comparison on reconnect can see it.
  const promoteDirectly = async (version: string, action: string) => {
    await db.query("INSERT INTO promotions (to_version_id, action, actor) SELECT id, $2, 'test' FROM model_versions WHERE version = $1", [
      version,
      action,
    ]);
  };

  it("re-subscribes, catches up with promotions and rollbacks made meanwhile, and reloads only when the version changed", async () => {
    const { child, url, stderr } = await startServe(project.dir);
    debug = stderr;
    db = await connectProject(project.dir);
    expect((await health(url)).model_version).toBe(versions[0]);
    const initial = await reloads(url);

    await terminateListener();
    await promoteDirectly(versions[1]!, "force");
    await waitFor(url, versions[1]!);
    expect(await reloads(url)).toBe(initial + 1);

    await terminateListener();
    await promoteDirectly(versions[0]!, "rollback");
    await waitFor(url, versions[0]!);

    // A lost connection with nothing promoted meanwhile: re-subscribed, no reload.
    const listeners = async () =>
      (await db.query<{ pid: number; query: string }>("SELECT pid, query FROM pg_stat_activity WHERE application_name = 'mlops serve listener'"))
        .rows;
    const cut = (await listeners()).map((l) => l.pid);
    await terminateListener();
    // Re-subscribed: a new connection of the listener has run its LISTEN (it retries after 2 s).
    await waitForCondition(
      async () => (await listeners()).some((l) => !cut.includes(l.pid) && /^LISTEN/i.test(l.query)),
      30_000,
      "the listener to re-subscribe",
    );
    expect(await listeners()).toHaveLength(1);
    expect(await reloads(url)).toBe(initial + 2);
    expect((await health(url)).status).toBe("ok");
    // And it still hears promotions as they happen.
    expect((await mlops("promote", versions[1]!, "--force", "--reason", "test")).code).toBe(0);
    expect(await waitFor(url, versions[1]!)).toBeLessThan(2000);
    // One reload for that promotion and none for the reconnect before it.
    expect(await reloads(url)).toBe(initial + 3);
    await db.end();
    expect(await stopServe(child), stderr()).toBe(0);
  });
});
