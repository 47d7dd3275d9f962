import type { ChildProcess } from "node:child_process";
import { copyFileSync, readFileSync, rmSync, writeFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { json, runCli, startServe, stopServe, tempProject } from "../helpers/cli.js";

const API_KEY = "9f2c4e7a1b3d5f60718293a4b5c6d7e8f9a0b1c2";
const FIXTURE = fileURLToPath(new URL("../../fixtures/data/sample-200.csv", import.meta.url));
let project: ReturnType<typeof tempProject>;
let server: ChildProcess | undefined;
let url = "";
const env = { MLOPS_API_KEY: API_KEY };
const mlops = (...args: string[]) => runCli(args, { cwd: project.dir, env });

interface Item {
  number: number;
  text: string;
  kind: string;
  status: string;
  evidence: string;
}
interface Report {
  summary: { passed: number; failed: number; ok: boolean };
  items: Item[];
}

async function startServer(): Promise<void> {
  ({ child: server, url } = await startServe(project.dir, [], env));
}

async function stopServer(): Promise<void> {
  if (server) await stopServe(server);
  server = undefined;
}

async function checklist(...extra: string[]): Promise<Report> {
  const result = await mlops("checklist", "--url", url, "--json", ...extra);
  expect([0, 3]).toContain(result.code);
  return json<Report>(result);
}

const failing = (report: Report) => report.items.filter((i) => i.status === "fail").map((i) => i.text);
const item = (report: Report, text: string) => report.items.find((i) => i.text === text)!;

beforeAll(async () => {
  project = tempProject();
  const up = await mlops("up", "--no-serve");
  expect(up.code, up.stderr).toBe(0);
  copyFileSync(FIXTURE, path.join(project.dir, "export.csv"));
  const configPath = path.join(project.dir, "mlops.config.json");
  const config = JSON.parse(readFileSync(configPath, "utf8"));
  config.sources = { nightly: { file: "export.csv" } };
  // The default config schedules data-collection only once there are sources, as a user would.
  config.schedules = { ...config.schedules, "data-collection": "@daily" };
  config.alerts = { command: "cat > /dev/null" };
  writeFileSync(configPath, JSON.stringify(config, null, 2));
  for (const pipeline of ["data-collection", "training", "validation-deployment"]) {
    const run = await mlops("run", pipeline);
    expect(run.code, `${pipeline}: ${run.stdout}${run.stderr}`).toBe(0);
  }
  // The training run evaluated its candidate: promote it, then practise the rollback.
  expect((await mlops("promote")).code).toBe(0);
  expect((await mlops("promote", "--rollback")).code).toBe(0);
  const backup = await mlops("db", "backup");
  expect(backup.code, backup.stderr).toBe(0);
  await startServer();
}, 240_000);

afterAll(async () => {
  await stopServer();
  await project?.cleanup();
});

describe("mlops checklist", () => {
  it("passes every automatic item on a healthy project, quickly, and writes JUnit and Markdown", async () => {
    const started = Date.now();
    const report = await checklist("--junit", "checklist.xml", "--markdown", "checklist.md");
    expect(failing(report)).toEqual([]);
    expect(report.summary.ok).toBe(true);
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(report.items).toHaveLength(139);
    expect(readFileSync(path.join(project.dir, "checklist.xml"), "utf8")).toContain('<testsuite name="API Testing"');
    const markdown = readFileSync(path.join(project.dir, "checklist.md"), "utf8");
    expect(markdown).toContain("- [x] `GET /health` returns 200");
    expect(markdown).toContain("- [ ] Team trained on system usage (awaiting sign-off)");
  });

  it("records sign-offs, never silently replaced, and --strict needs them all", async () => {
    expect((await checklist("--strict")).summary.ok).toBe(false);
    const signed = await mlops("checklist", "sign", "Verified by", "--by", "Ada Lovelace", "--note", "release 1.0", "--json");
    expect(signed.code, signed.stderr).toBe(0);
    const again = await mlops("checklist", "sign", "Verified by", "--by", "Someone Else");
    expect(again.code).toBe(2);
    expect(again.stderr).toContain("was signed by Ada Lovelace");
    expect((await mlops("checklist", "sign", "Verified by", "--by", "Someone Else", "--replace")).code).toBe(0);
    expect((await mlops("checklist", "sign", "Escalation procedures defined", "--by", "x")).stderr).toContain("appears 2 times");
    expect((await mlops("checklist", "sign", "44", "--by", "x")).stderr).toContain("verified by machine");
    const report = await checklist("--only", "Sign-Off", "--markdown", "signed.md");
    expect(item(report, "Verified by")).toMatchObject({ status: "signed", evidence: expect.stringContaining("Someone Else") });
    expect(readFileSync(path.join(project.dir, "signed.md"), "utf8")).toContain("Verified by: Someone Else Date:");
  });

  it("names the failing items when the server stops", async () => {
    await stopServer();
    const report = await checklist("--only", "API Testing");
    expect(item(report, "`GET /health` returns 200")).toMatchObject({ status: "fail", evidence: expect.stringContaining("no server answers") });
    expect(report.summary.ok).toBe(false);
    await startServer();
  });

  it("names the failing items when a model file is deleted or its checksum is corrupted", async () => {
    const status = json<{ versions: Array<{ version: string; active: boolean }> }>(await mlops("models", "--json"));
    const active = status.versions.find((v) => v.active)!.version;
    const folder = path.join(project.dir, "models", active);
    const weights = readFileSync(path.join(folder, "weights.bin"));
    rmSync(path.join(folder, "weights.bin"));
    let report = await checklist("--only", "First Training");
    expect(item(report, "Model saved to `models/` directory")).toMatchObject({
      status: "fail",
      evidence: expect.stringContaining("weights.bin is missing"),
    });
    const corrupted = Buffer.from(weights);
    corrupted[0] = corrupted[0]! ^ 0xff;
    writeFileSync(path.join(folder, "weights.bin"), corrupted);
    report = await checklist("--only", "Model Validation");
    expect(item(report, "Model loaded successfully")).toMatchObject({
      status: "fail",
      evidence: expect.stringContaining("does not match its checksum"),
    });
    writeFileSync(path.join(folder, "weights.bin"), weights);
    expect(failing(await checklist("--only", "Model Training"))).toEqual([]);
  });

  it("names the failing items for a weak API key and a missing backup", async () => {
    const weak = json<Report>(
      await runCli(["checklist", "--url", url, "--json", "--only", "Pre-Deployment"], { cwd: project.dir, env: { MLOPS_API_KEY: "admin" } }),
    );
    expect(item(weak, "Changed default Airflow admin password")).toMatchObject({ status: "fail", evidence: expect.stringContaining("weak") });
    const backups = path.join(project.dir, ".mlops", "backups");
    for (const entry of readdirSync(backups)) rmSync(path.join(backups, entry), { recursive: true });
    const report = await checklist("--only", "Monitoring");
    expect(item(report, "Database backups configured")).toMatchObject({ status: "fail", evidence: expect.stringContaining("mlops db backup") });
  });

  it("names the failing items when the database is stopped, and still finishes", async () => {
    expect((await mlops("db", "stop")).code).toBe(0);
    const report = await checklist("--only", "Initial Setup");
    expect(item(report, "PostgreSQL healthy and accepting connections").status).toBe("fail");
    expect(report.summary.ok).toBe(false);
    expect((await mlops("db", "start")).code).toBe(0);
  });
});
