import type { ChildProcess } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectProject, json, runCli, startServe, tempProject, SAMPLE_ROW } from "../helpers/cli.js";
import { waitFor } from "../helpers/wait.js";

let project: ReturnType<typeof tempProject>;
let version: string;
const mlops = (...args: string[]) => runCli(args, { cwd: project.dir });

async function predictionCount(): Promise<number> {
  const client = await connectProject(project.dir);
  try {
    return (await client.query("SELECT count(*)::int AS n FROM predictions")).rows[0].n;
  } finally {
    await client.end();
  }
}

const startServer = (args: string[]) => startServe(project.dir, args);

const row = SAMPLE_ROW;

async function fire(url: string, n: number): Promise<number> {
  let ok = 0;
  await Promise.all(
    Array.from({ length: n }, async () => {
      try {
        const response = await fetch(`${url}/predict`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ features: row }),
        });
        if (response.status === 200) ok += 1;
        await response.text();
      } catch {
        // Counted as not answered.
      }
    }),
  );
  return ok;
}

const exitOf = (child: ChildProcess) => new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));

beforeAll(async () => {
  project = tempProject();
  expect((await mlops("init")).code).toBe(0);
  expect((await mlops("seed", "3000", "--seed", "1")).code).toBe(0);
  version = json<{ version: string }>(await mlops("train", "--epochs", "3", "--pretrain-epochs", "1", "--json")).version;
});
afterAll(async () => project?.cleanup());

describe("mlops serve", () => {
  it("serves real HTTP, and after SIGTERM every 200 response is a logged row", async () => {
    const before = await predictionCount();
    const { child, url } = await startServer(["--model", version]);
    const health = await (await fetch(`${url}/health`)).json();
    expect(health).toMatchObject({ status: "ok", model_version: version });
    let answered = 0;
    for (let round = 0; round < 5; round += 1) answered += await fire(url, 100);
    const exit = exitOf(child);
    child.kill("SIGTERM");
    expect(await exit).toBe(0);
    expect(answered).toBe(500);
    expect((await predictionCount()) - before).toBe(answered);
  });

  it("keeps serving while the database is stopped mid-load, and loses no prediction", async () => {
    const before = await predictionCount();
    const { child, url, stderr } = await startServer(["--model", version]);
    let answered = await fire(url, 100);
    expect((await mlops("db", "stop")).code).toBe(0);
    answered += await fire(url, 200);
    const degraded = await (await fetch(`${url}/health`)).json();
    expect(degraded.status).toBe("degraded");
    expect(degraded.database).toBe("down");
    expect((await mlops("db", "start")).code).toBe(0);
    answered += await fire(url, 100);
    // The rows kept while the database was down reach it once it is back, before any shutdown flush.
    await waitFor(async () => (await predictionCount()) - before === answered, 30_000, "every answered prediction to be logged");
    const exit = exitOf(child);
    child.kill("SIGTERM");
    expect(await exit, stderr()).toBe(0);
    expect(answered).toBe(400);
    expect((await predictionCount()) - before).toBe(answered);
  });

  it("with --workers 2 both workers serve and stop gracefully, and every 200 response is a logged row", async () => {
    const before = await predictionCount();
    const { child, url, stderr } = await startServer(["--model", version, "--workers", "2"]);
    let answered = 0;
    for (let round = 0; round < 4; round += 1) answered += await fire(url, 100);
    const exit = exitOf(child);
    child.kill("SIGTERM");
    expect(await exit, stderr()).toBe(0);
    expect(answered).toBe(400);
    expect((await predictionCount()) - before).toBe(answered);
    // The primary reports ready only once both listen; each says so as it stops.
    expect(stderr()).toMatch(/worker 1: stopping/);
    expect(stderr()).toMatch(/worker 2: stopping/);
  });

  it("refuses a port that is taken with exit 2", async () => {
    const { child, url } = await startServer(["--model", version]);
    const port = new URL(url).port;
    const second = await mlops("serve", "--model", version, "--port", port);
    expect(second.code).toBe(2);
    expect(second.stderr).toContain(`Port ${port}`);
    const exit = exitOf(child);
    child.kill("SIGTERM");
    expect(await exit).toBe(0);
  });
});
