import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLI, connectProject, json, runCli, tempProject } from "../helpers/cli.js";
import { waitFor } from "../helpers/wait.js";

/** Training on a shared 2-core machine can take minutes; the default 60 s is for quick tests. */
const TRAINING_TIMEOUT = 300_000;

let project: ReturnType<typeof tempProject>;
const mlops = (...args: string[]) => runCli(args, { cwd: project.dir });

interface Trained {
  version: string;
  backend: string;
  metrics: { validation: { f1: number }; test: { f1: number } };
}
interface Evaluated {
  version: string;
  rows: number;
  metrics: { f1: number } | null;
  baseline: { version: string } | null;
  gate: { passed: boolean; verdict: string; checks: Array<{ name: string; passed: boolean }> };
}

async function sql(query: string, params: unknown[] = []) {
  const client = await connectProject(project.dir);
  try {
    return (await client.query(query, params)).rows;
  } finally {
    await client.end();
  }
}

beforeAll(async () => {
  project = tempProject();
  expect((await mlops("init")).code).toBe(0);
});
afterAll(async () => project?.cleanup());

describe("train and evaluate through the CLI", () => {
  it(
    "explains that there is no data to train on",
    async () => {
      const result = await mlops("train");
      expect(result.code).toBe(2);
      expect(result.stderr).toContain("no data to train on");
    },
    TRAINING_TIMEOUT,
  );

  it(
    "seeds, trains a candidate above F1 0.9, and passes the gate on the test split",
    async () => {
      expect((await mlops("seed", "12000", "--seed", "1")).code).toBe(0);
      const train = await mlops("train", "--json");
      expect(train.code, train.stderr).toBe(0);
      const trained = json<Trained>(train);
      expect(trained.version).toMatch(/^v\d+$/);
      expect(trained.backend).toBe("wasm");
      expect(trained.metrics.test.f1).toBeGreaterThanOrEqual(0.9);
      const folder = path.join(project.dir, "models", trained.version);
      expect(readdirSync(folder).sort()).toEqual(["manifest.json", "model.json", "weights.bin"]);
      const manifest = JSON.parse(readFileSync(path.join(folder, "manifest.json"), "utf8"));
      expect(manifest).toMatchObject({ version: trained.version, seed: 42, backend: "wasm", dataFingerprint: { rows: 12000 } });
      expect(Object.keys(manifest.files).sort()).toEqual(["model.json", "weights.bin"]);

      const evaluated = await mlops("evaluate", "--model", trained.version, "--split", "test", "--json");
      expect(evaluated.code).toBe(0);
      expect(json<Evaluated>(evaluated)).toMatchObject({ version: trained.version, gate: { passed: true, verdict: "passed" } });
      const models = json<{ versions: Array<{ version: string; lastEvaluation: { passed: boolean } }> }>(await mlops("models", "--json"));
      expect(models.versions[0]).toMatchObject({ version: trained.version, lastEvaluation: { passed: true } });
      expect(json(await mlops("models", "show", trained.version, "--json"))).toMatchObject({ version: trained.version });
    },
    TRAINING_TIMEOUT,
  );

  it(
    "says so, with exit 3, when there is no fresh data; and fails the gate on drifted data",
    async () => {
      const noData = await mlops("evaluate", "--model", "latest", "--json");
      expect(noData.code).toBe(3);
      expect(json<Evaluated>(noData).gate.verdict).toBe("no-data");

      expect((await mlops("seed", "3000", "--seed", "2", "--drift", "1")).code).toBe(0);
      const drifted = await mlops("evaluate", "--model", "latest", "--json");
      expect(drifted.code).toBe(3);
      const result = json<Evaluated>(drifted);
      expect(result.rows).toBe(3000);
      expect(result.metrics!.f1).toBeLessThan(0.8);
      expect(result.gate.checks.find((c) => c.name === "f1")?.passed).toBe(false);
    },
    TRAINING_TIMEOUT,
  );

  it(
    "compares a candidate with the active version on the same rows",
    async () => {
      const [latest] = await sql("SELECT id, version FROM model_versions ORDER BY id DESC LIMIT 1");
      await sql("INSERT INTO promotions (to_version_id, action, actor) VALUES ($1, 'force', 'test')", [latest.id]);
      const second = json<Trained>(await mlops("train", "--seed", "5", "--json"));
      const evaluated = json<Evaluated>(await mlops("evaluate", "--model", second.version, "--split", "test", "--json"));
      expect(evaluated.baseline?.version).toBe(latest.version);
      expect(evaluated.gate.checks.map((c) => c.name)).toEqual(["f1", "baseline"]);
    },
    TRAINING_TIMEOUT,
  );

  it(
    "retrains when the active version falls below the gate on fresh data",
    async () => {
      // The active version was trained before the drifted batch, so that batch is fresh data for it.
      const [active] = await sql("SELECT v.version FROM promotions p JOIN model_versions v ON v.id = p.to_version_id ORDER BY p.id DESC LIMIT 1");
      const result = await mlops("evaluate", "--model", active.version, "--retrain-if-below", "--json");
      const outcome = json<{ evaluation: Evaluated; retrained: { version: string; evaluation: Evaluated } }>(result);
      expect(outcome.evaluation.gate.passed).toBe(false);
      expect(outcome.retrained.version).not.toBe(active.version);
      expect(outcome.retrained.evaluation.version).toBe(outcome.retrained.version);
    },
    TRAINING_TIMEOUT,
  );

  it(
    "gives two trainings at once distinct versions",
    async () => {
      const [a, b] = await Promise.all([mlops("train", "--epochs", "2", "--json"), mlops("train", "--epochs", "2", "--json")]);
      expect(a.code, a.stderr).toBe(0);
      expect(b.code, b.stderr).toBe(0);
      expect(json<Trained>(a).version).not.toBe(json<Trained>(b).version);
    },
    TRAINING_TIMEOUT,
  );

  it(
    "leaves no registered version and no visible half-written folder when killed",
    async () => {
      const before = (await sql("SELECT count(*)::int AS n FROM model_versions"))[0].n;
      const folders = readdirSync(path.join(project.dir, "models")).filter((f) => !f.startsWith("."));
      const child = spawn(process.execPath, [CLI, "train", "--epochs", "200", "--pretrain-epochs", "50"], {
        cwd: project.dir,
        env: { ...process.env, DATABASE_URL: "" },
      });
      // Killed mid-training: once it has printed an epoch's progress (off a terminal, a plain line).
      let stderr = "";
      child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
      await waitFor(() => /epoch \d+\//.test(stderr), 120_000, "train to report an epoch");
      child.kill("SIGKILL");
      await new Promise((resolve) => child.on("close", resolve));
      expect((await sql("SELECT count(*)::int AS n FROM model_versions"))[0].n).toBe(before);
      expect(readdirSync(path.join(project.dir, "models")).filter((f) => !f.startsWith("."))).toEqual(folders);
      expect(existsSync(path.join(project.dir, "models"))).toBe(true);
    },
    TRAINING_TIMEOUT,
  );
});
