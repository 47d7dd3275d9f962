import { spawn, spawnSync } from "node:child_process";
import { readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLI, json, runCli, tempProject } from "../helpers/cli.js";

// What a new user meets on the README's main path, with stderr piped as in CI (issue 14).
const ROOT = fileURLToPath(new URL("../..", import.meta.url));
let project: ReturnType<typeof tempProject>;
const mlops = (...args: string[]) => runCli(args, { cwd: project.dir });
const lines = (text: string) => text.split("\n").filter((line) => line !== "");

interface Evaluation {
  version: string;
  dataSource: string;
  rows: number;
  gate: { verdict: string };
}

beforeAll(() => {
  project = tempProject();
});
afterAll(async () => project?.cleanup());

describe("the build", () => {
  it("leaves dist/bin/mlops.js executable, so `npx mlops` works after `npm test` or `npm run build`", () => {
    expect(statSync(CLI).mode & 0o111).toBe(0o111);
    const direct = spawnSync(CLI, ["--version"], { encoding: "utf8" });
    expect(direct.status, direct.stderr).toBe(0);
    const npx = spawnSync("npx", ["--no-install", "mlops", "--version"], { cwd: ROOT, encoding: "utf8" });
    expect(npx.status, npx.stderr).toBe(0);
    expect(npx.stdout.trim()).toBe(JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")).version);
  });
});

describe("a fresh project, stderr piped", () => {
  it("init prints one clean line per step, no spinner fragments", async () => {
    const init = await mlops("init");
    expect(init.code, init.stderr).toBe(0);
    expect(lines(init.stderr)).toEqual(["Creating the project", "Starting the database", "Applying migrations"]);
  });

  it("the default config schedules only what can run: scheduler --once exits 0, the checklist agrees", async () => {
    const once = await mlops("scheduler", "--once", "--json");
    expect(once.code, once.stdout + once.stderr).toBe(0);
    expect(json<{ ran: Array<{ pipeline: string; status: string }> }>(once).ran.every((run) => run.status === "succeeded")).toBe(true);
    const report = json<{ items: Array<{ subsection: string | null; text: string; status: string; evidence: string }> }>(
      await mlops("checklist", "--json"),
    );
    const item = (subsection: string, text: string) => report.items.find((i) => i.subsection === subsection && i.text === text)!;
    for (const text of ["DAG scheduled correctly (@daily)", "Data collection runs successfully"]) {
      expect(item("Data Collection", text)).toMatchObject({ status: "n/a", evidence: expect.stringContaining("no sources") });
    }
    expect(item("Validation & Deployment", "DAG scheduled correctly (@daily)").status).toBe("pass");
    expect(item("Daily", "Check DAG execution status").status).toBe("pass");
    expect(item("Monitoring", "No critical errors in logs").status).toBe("pass");
  });

  it("train off a terminal prints plain progress lines at a modest rate, and a next step that works", async () => {
    // Above model.smallDataRows (5,000), so training takes the validation split and reports its F1
    // per epoch (cross-validation on smaller data reports the folds instead).
    expect((await mlops("seed", "6000", "--seed", "1")).code).toBe(0);
    const started = Date.now();
    const train = await mlops("train", "--epochs", "12", "--pretrain-epochs", "2");
    const seconds = (Date.now() - started) / 1000;
    expect(train.code, train.stderr).toBe(0);
    const progress = lines(train.stderr).filter((line) => line.includes("epoch"));
    expect(progress.length).toBeGreaterThan(0);
    // Every line says where training is; the classifier's also carry validation F1 (the
    // autoencoder's has none to give).
    for (const line of progress) expect(line).toMatch(/epoch \d+\/\d+, loss \d\.\d{4}(, validation F1 \d\.\d{3})?, ~\d+s left$/);
    expect(progress.some((line) => /validation F1 \d\.\d{3}, ~\d+s left$/.test(line))).toBe(true);
    // Each stage (autoencoder, classifier) is a step whose first epoch line shows at once, so a
    // quick training still says where it is; after that at most one line per 2 s, never one per epoch.
    expect(lines(train.stderr)).toEqual(expect.arrayContaining(["Pretraining the autoencoder", "Training the classifier"]));
    expect(progress.length).toBeLessThanOrEqual(Math.ceil(seconds / 2) + 2);
    expect(train.stderr).not.toContain("\u001b");
    expect(train.stderr).not.toMatch(/^- /m);

    const next = train.stdout.match(/Next: (mlops .+)$/m)![1]!;
    expect(next).toBe("mlops evaluate --model v1 --split test");
    const evaluation = await mlops(...next.split(" ").slice(1), "--json");
    expect([0, 3]).toContain(evaluation.code);
    expect(json<Evaluation>(evaluation)).toMatchObject({ version: "v1", dataSource: "test-split" });
    expect(json<Evaluation>(evaluation).rows).toBeGreaterThan(0);
  });

  it("evaluate --model candidate with only an active version says there is no candidate", async () => {
    expect((await mlops("promote", "v1", "--force", "--reason", "first version")).code).toBe(0);
    const none = await mlops("evaluate", "--model", "candidate");
    expect(none.code).toBe(2);
    expect(none.stderr).toContain("There is no candidate: the only trained version, v1, is active.");
    expect(none.stderr).not.toContain("no trained version");
  });

  it("under --json: only the document on stdout, nothing on stderr while working", async () => {
    const train = await mlops("train", "--epochs", "2", "--pretrain-epochs", "0", "--json");
    expect(train.code, train.stderr).toBe(0);
    expect(json(train)).toMatchObject({ version: "v2" });
    expect(train.stderr).toBe("");
  });

  it("on a pseudo-terminal reporting 0 columns, a spinner neither loops nor floods", async () => {
    const hasScript = spawnSync("script", ["--version"]).status === 0;
    if (!hasScript) return void console.warn("skipped: util-linux `script` is not installed (apt-get install bsdutils)");
    // `script` runs the command on a new pty; with no terminal above it, the pty reports 0x0.
    const child = spawn("script", ["-qec", `${process.execPath} ${CLI} seed 500 --seed 2`, "/dev/null"], {
      cwd: project.dir,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), 45_000);
    const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
    clearTimeout(timer);
    expect(code, output.slice(0, 2000)).toBe(0);
    expect(output).toContain("Seeding 500 synthetic rows");
    expect(output.length).toBeLessThan(10_000);
  });
});

describe("hints that lead somewhere", () => {
  it("promote --force without a reason hints the version asked for; --history refuses --rollback", async () => {
    const forced = await mlops("promote", "v1", "--force");
    expect(forced.code).toBe(2);
    expect(forced.stderr).toContain("mlops promote v1 --force --reason");
    const both = await mlops("promote", "--history", "--rollback");
    expect(both.code).toBe(2);
    expect(both.stderr).toContain("--history only shows the history");
  });

  it("data quarantine --batch for a batch that does not exist is exit 2 naming it", async () => {
    const missing = await mlops("data", "quarantine", "--batch", "999");
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("No batch 999.");
    expect((await mlops("data", "quarantine", "--batch", "1")).code).toBe(0);
  });

  it("under --json an error is one line on stderr and the document on stdout", async () => {
    const result = await mlops("evaluate", "--model", "v99", "--json");
    expect(result.code).toBe(2);
    expect(lines(result.stderr)).toHaveLength(1);
    expect(json(result)).toMatchObject({ error: { code: "VERSION_NOT_FOUND", hint: expect.any(String) } });
    const usage = await mlops("train", "--epochs", "zero", "--frobnicate", "--json");
    expect(lines(usage.stderr)).toHaveLength(1);
  });
});

describe("retraining and runs", () => {
  it("evaluate --retrain-if-below judges the retrained candidate on the held-out part of the rows the active version failed on", async () => {
    const config = JSON.parse(readFileSync(path.join(project.dir, "mlops.config.json"), "utf8"));
    config.model = { ...config.model, epochs: 12, pretrainEpochs: 2 };
    writeFileSync(path.join(project.dir, "mlops.config.json"), JSON.stringify(config, null, 2));
    expect((await mlops("seed", "6000", "--seed", "9", "--drift", "1")).code).toBe(0);
    const result = await mlops("evaluate", "--retrain-if-below", "--json");
    const outcome = json<{ evaluation: Evaluation; retrained: { version: string; evaluation: Evaluation } | null }>(result);
    expect(outcome.evaluation).toMatchObject({ version: "v1", dataSource: "fresh", gate: { verdict: "failed" } });
    expect(outcome.retrained).not.toBeNull();
    const retrained = outcome.retrained!.evaluation;
    expect(retrained).toMatchObject({ version: outcome.retrained!.version, dataSource: "test-split" });
    expect(retrained.gate.verdict).not.toBe("no-data");
    // The test split of the fresh batch: some of its 6,000 rows, none it trained on.
    expect(retrained.rows).toBeGreaterThan(300);
    expect(retrained.rows).toBeLessThan(outcome.evaluation.rows);
  }, 120_000);

  it("run prints a short readable summary within 100 columns; runs fits too; runs show has the details", async () => {
    const run = await mlops("run", "validation-deployment");
    expect([0, 1]).toContain(run.code);
    expect(run.stdout).not.toContain('{"');
    for (const line of lines(run.stdout)) expect(line.length, line).toBeLessThanOrEqual(100);
    const runId = Number(run.stdout.match(/^run (\d+)/)![1]);
    expect(run.stdout).toContain(`details: mlops runs show ${runId}`);
    expect(run.stdout).toMatch(/evaluate-active\s+v\d+: F1 \d\.\d{3} on [\d,]+ rows, (passed|failed)/);

    await mlops("run", "data-collection"); // fails: no sources; its error must not widen the table
    const runs = await mlops("runs");
    expect(runs.code).toBe(0);
    for (const line of lines(runs.stdout)) expect(line.length, line).toBeLessThanOrEqual(100);
    expect(runs.stdout).toContain("collect FAILED");

    const show = json<{ id: number; stages: Array<{ stage: string; outputs: Record<string, unknown> | null }> }>(
      await mlops("runs", "show", String(runId), "--json"),
    );
    expect(show.id).toBe(runId);
    expect(show.stages[0]).toMatchObject({ stage: "evaluate-active", outputs: expect.objectContaining({ verdict: expect.any(String) }) });
    const human = await mlops("runs", "show", String(runId));
    expect(human.stdout).toContain('"verdict"');
    const missing = await mlops("runs", "show", "9999");
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("No run 9999.");
  }, 120_000);
});
