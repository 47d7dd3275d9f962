import type { ChildProcess } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { json, runCli, startServe, tempProject, SAMPLE_ROW } from "../helpers/cli.js";
import { serveRoutes } from "../helpers/http-server.js";
import { waitFor } from "../helpers/wait.js";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";

let project: ReturnType<typeof tempProject>;
const mlops = (...args: string[]) => runCli(args, { cwd: project.dir });

interface Run {
  runId: number;
  status: string;
  note: string | null;
  stages: Array<{ stage: string; status: string; attempts: number; outputs: Record<string, unknown> | null; error: string | null }>;
  alerts: { webhook: { ok: boolean } | null; command: { ok: boolean } | null } | null;
}

const row = SAMPLE_ROW;

async function modelVersionServed(url: string): Promise<string> {
  const response = await fetch(`${url}/predict`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ features: row }),
  });
  return ((await response.json()) as { model_version: string }).model_version;
}

beforeAll(async () => {
  project = tempProject();
});
afterAll(async () => project?.cleanup());

// Each step trains on 10,000 rows; on two cores shared with the other test files that can take
// minutes, so the whole loop gets a generous bound (it ends as soon as the steps do).
describe("the whole loop against real PostgreSQL", { timeout: 300_000 }, () => {
  let server: ChildProcess | undefined;
  afterAll(() => server?.kill("SIGTERM"));

  it("up takes a fresh folder to an active model", async () => {
    const up = await mlops("up", "--no-serve", "--json");
    expect(up.code, up.stderr).toBe(0);
    expect(json(up)).toMatchObject({ activeVersion: "v1" });
    // The pipeline trains with the config's model settings, boosted trees (on by default) included.
    const manifest = JSON.parse(readFileSync(path.join(project.dir, "models", "v1", "manifest.json"), "utf8"));
    expect(manifest.hyperparameters.boostedTrees).toBe(true);
    const again = json<{ steps: Array<{ step: string; result: string }> }>(await mlops("up", "--no-serve", "--json"));
    expect(again.steps.find((s) => s.step === "train")?.result).toContain("skipped");
  });

  it("drift -> validation-deployment retrains, promotes, and the running server follows", async () => {
    const started = await startServe(project.dir);
    server = started.child;
    const url = started.url;
    expect(await modelVersionServed(url)).toBe("v1");

    const quiet = json<Run>(await mlops("run", "validation-deployment", "--json"));
    expect(quiet.status).toBe("succeeded");
    expect(quiet.note).toContain("no fresh labelled data");

    expect((await mlops("seed", "6000", "--seed", "9", "--drift", "1")).code).toBe(0);
    const result = await mlops("run", "validation-deployment", "--json");
    expect(result.code, result.stderr).toBe(0);
    const run = json<Run>(result);
    const stage = (name: string) => run.stages.find((s) => s.stage === name)!;
    expect(stage("evaluate-active").outputs).toMatchObject({ active: "v1", verdict: "failed" });
    expect(Number(stage("evaluate-active").outputs!.f1)).toBeLessThan(0.8);
    expect(stage("evaluate-candidate").outputs).toMatchObject({ passed: true, baseline: "v1" });
    expect(stage("promote-if-passing").outputs).toMatchObject({ promoted: true, from: "v1", serversNotified: 1 });
    const promoted = stage("promote-if-passing").outputs!.to as string;

    // The server reloads on the promotion's NOTIFY: wait for it to answer with the new version.
    await waitFor(async () => (await modelVersionServed(url)) === promoted, 15_000, `the server to serve ${promoted}`);
    expect(await modelVersionServed(url)).toBe(promoted);
    const history = json<{ history: Array<{ to: string; actor: string }> }>(await mlops("promote", "--history", "--json"));
    expect(history.history[0]).toMatchObject({ to: promoted, actor: "mlops pipeline" });
    const runs = json<{ runs: Array<{ id: number; status: string }> }>(await mlops("runs", "--json"));
    expect(runs.runs[0]).toMatchObject({ id: run.runId, status: "succeeded" });
  });

  it("promote: gate refusal, --force --reason, --rollback", async () => {
    const refused = await mlops("promote", "v1");
    expect(refused.code).toBe(3);
    expect(refused.stderr).toContain("failed the gate");
    const rollback = json<{ action: string; to: string }>(await mlops("promote", "--rollback", "--json"));
    expect(rollback).toMatchObject({ action: "rollback", to: "v1" });
    const forced = json<{ action: string; to: string; reason: string }>(
      await mlops("promote", "v2", "--force", "--reason", "back to the retrained one", "--json"),
    );
    expect(forced).toMatchObject({ action: "force", to: "v2", reason: "back to the retrained one" });
    expect((await mlops("promote", "v1", "--force")).code).toBe(2);
  });

  it("alerts on a failed run and refuses a second concurrent run", async () => {
    const hook = await serveRoutes({ "/alert": { body: "ok" } });
    const configPath = path.join(project.dir, "mlops.config.json");
    const config = JSON.parse(readFileSync(configPath, "utf8"));
    const marker = path.join(project.dir, "alert-command.json");
    config.alerts = { webhook: `${hook.url}/alert`, command: `cat > ${marker}` };
    writeFileSync(configPath, JSON.stringify(config));
    try {
      // No sources are configured, so data-collection fails (a usage error: not retried).
      const failed = await mlops("run", "data-collection", "--json");
      expect(failed.code).toBe(1);
      const run = json<Run>(failed);
      expect(run).toMatchObject({ status: "failed", alerts: { webhook: { ok: true }, command: { ok: true } } });
      expect(run.stages[0]).toMatchObject({ stage: "collect", status: "failed", attempts: 1 });
      expect(JSON.parse(readFileSync(marker, "utf8"))).toMatchObject({ event: "pipeline_run_failed", pipeline: "data-collection" });
    } finally {
      await hook.close();
    }
    const [first, second] = await Promise.all([
      mlops("run", "training", "--json"),
      // The second starts once the first holds the pipeline's lock (its run is recorded as running).
      waitFor(
        async () => {
          const listed = json<{ runs: Array<{ pipeline: string; status: string }> }>(await mlops("runs", "--json"));
          return listed.runs.some((r) => r.pipeline === "training" && r.status === "running");
        },
        60_000,
        "the first training run to start",
        200,
      ).then(() => mlops("run", "training")),
    ]);
    expect(first.code, first.stderr).toBe(0);
    expect(second.code).toBe(3);
    expect(second.stderr).toContain("already running");

    // Two promotions at once (v1 and the new v3, neither active): one active version, two history rows in order.
    const [a, b] = await Promise.all([
      mlops("promote", "v1", "--force", "--reason", "race a", "--json"),
      mlops("promote", "v3", "--force", "--reason", "race b", "--json"),
    ]);
    expect([a.code, b.code]).toEqual([0, 0]);
    const history = json<{ history: Array<{ id: number; from: string; to: string; reason: string | null }> }>(
      await mlops("promote", "--history", "--json"),
    ).history;
    expect(
      history
        .slice(0, 2)
        .map((h) => h.reason)
        .sort(),
    ).toEqual(["race a", "race b"]);
    // Serialised: the later row starts from where the earlier one ended.
    expect(history[0]!.from).toBe(history[1]!.to);
    const active = json<{ versions: Array<{ version: string; active: boolean }> }>(await mlops("models", "--json")).versions.filter((v) => v.active);
    expect(active.map((v) => v.version)).toEqual([history[0]!.to]);
  });
});
