import { spawnSync } from "node:child_process";
import { readFileSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openProject } from "../../src/config/load.js";
import { buildReportData } from "../../src/report/build-data.js";
import { renderReportHtml } from "../../src/report/render-html.js";
import type { ReportData } from "../../src/report/types.js";
import { buildApp } from "../../src/server/app.js";
import { CHROMIUM, externalReferences, inspectPage, launchBrowser, NO_BROWSER_REASON, SCREENSHOT_DIR } from "../helpers/browser.js";
import { connectProject, json, runCli, startServe, stopServe, tempProject, type RunningServer } from "../helpers/cli.js";

const TRAFFIC = fileURLToPath(new URL("../../scripts/report-demo-traffic.mjs", import.meta.url));
let project: ReturnType<typeof tempProject>;
let server: RunningServer | undefined;
let client: pg.Client;
const mlops = (...args: string[]) => runCli(args, { cwd: project.dir });
async function ok(...args: string[]) {
  const result = await mlops(...args);
  expect(result.code, `${args.join(" ")}: ${result.stderr}`).toBe(0);
  return result;
}

/** A project with two batches (the second drifted), a promoted version, a pipeline run, 40 served predictions with feedback. */
beforeAll(async () => {
  project = tempProject("mlops-report-");
  await ok("init");
  await ok("seed", "3000", "--seed", "1");
  await ok("train", "--epochs", "4", "--pretrain-epochs", "1", "--seed", "1");
  // A few epochs keep the test quick; whether they pass the gate does not matter here.
  expect([0, 3]).toContain((await mlops("evaluate", "--split", "test")).code);
  await ok("promote", "--force", "--reason", "report test", "--by", "tester");
  await ok("seed", "1500", "--seed", "2", "--drift", "1");
  await mlops("run", "data-collection");
  server = await startServe(project.dir);
  await ok("seed", "40", "--seed", "5", "--out", "rows.csv");
  const sent = spawnSync(process.execPath, [TRAFFIC, server.url, "rows.csv", "feedback.csv", "8"], { cwd: project.dir, encoding: "utf8" });
  expect(sent.status, sent.stderr).toBe(0);
  client = await connectProject(project.dir);
  // The server logs off the request path: wait until its buffer reached the table.
  for (let i = 0; i < 100 && Number((await client.query("SELECT count(*) AS n FROM predictions")).rows[0].n) < 40; i += 1)
    await new Promise((r) => setTimeout(r, 200));
  await ok("collect", "--feedback", "feedback.csv");
}, 900_000);

afterAll(async () => {
  await client?.end();
  if (server) await stopServe(server.child);
  await project?.cleanup();
});

describe("ReportData", () => {
  let data: ReportData;
  beforeAll(async () => {
    data = await buildReportData(openProject(project.dir), client);
  });

  it("agrees with what models --json prints", async () => {
    const { versions } = json<{
      versions: Array<{
        version: string;
        active: boolean;
        trainingRows: number;
        validationF1: number;
        testF1: number;
        lastEvaluation: { f1: number; passed: boolean } | null;
      }>;
    }>(await ok("models", "--json"));
    expect(data.lineage.versions.map((v) => v.version).sort()).toEqual(versions.map((v) => v.version).sort());
    for (const listed of versions) {
      const row = data.lineage.versions.find((v) => v.version === listed.version)!;
      expect(row).toMatchObject({ active: listed.active, trainingRows: listed.trainingRows });
      expect(row.validation?.f1).toBe(listed.validationF1);
      expect(row.test?.f1).toBe(listed.testF1);
      const last = data.lineage.evaluations.filter((e) => e.version === listed.version).at(-1);
      expect(last ? { f1: last.scores.f1, passed: last.passed } : null).toEqual(
        listed.lastEvaluation && { f1: listed.lastEvaluation.f1, passed: listed.lastEvaluation.passed },
      );
    }
    expect(data.overview.activeVersion?.version).toBe(versions.find((v) => v.active)?.version);
    expect(data.lineage.promotions).toMatchObject([{ action: "force", to: "v1", actor: "tester", reason: "report test" }]);
  });

  it("agrees with what data --json prints", async () => {
    const listed = json<{
      examples: { total: number; bySplit: Record<string, { positive: number; negative: number; unlabelled: number }> };
      quarantined: number;
      feedback: number;
      batches: Array<{ id: number; sourceKind: string; rowsAccepted: number; rowsQuarantined: number; rowsDuplicate: number; drift: string | null }>;
    }>(await ok("data", "--json"));
    expect(data.overview.rows.total).toBe(listed.examples.total);
    for (const split of ["train", "validation", "test"] as const) {
      const c = listed.examples.bySplit[split]!;
      expect(data.overview.rows[split]).toBe(c.positive + c.negative + c.unlabelled);
    }
    expect(data.overview.quarantined).toBe(listed.quarantined);
    expect(data.overview.feedback).toBe(listed.feedback);
    const reported = new Map(data.data.batches.map((b) => [b.id, b]));
    // Feedback batches hold labels for logged predictions, not rows: the report leaves them out.
    expect(listed.batches.some((b) => b.sourceKind === "feedback")).toBe(true);
    expect([...reported.keys()].sort()).toEqual(
      listed.batches
        .filter((b) => b.sourceKind !== "feedback")
        .map((b) => b.id)
        .sort(),
    );
    for (const batch of listed.batches.filter((b) => b.sourceKind !== "feedback")) {
      expect(reported.get(batch.id), `batch ${batch.id}`).toMatchObject({
        stored: batch.rowsAccepted,
        quarantined: batch.rowsQuarantined,
        duplicate: batch.rowsDuplicate,
        drift: batch.drift,
      });
    }
    // The drifted batch is in the heatmap, with a significant PSI somewhere.
    const drifted = listed.batches.find((b) => b.drift === "drift")!;
    const column = data.data.drift.batches.indexOf(drifted.id);
    expect(column).toBeGreaterThanOrEqual(0);
    expect(Math.max(...data.data.drift.psi.map((row) => row[column] ?? 0))).toBeGreaterThanOrEqual(data.data.drift.significant);
  });

  it("agrees with what runs --json prints", async () => {
    const { runs } = json<{ runs: Array<{ id: number; pipeline: string; status: string }> }>(await ok("runs", "--json"));
    expect(data.runs.map((r) => [r.id, r.pipeline, r.status]).reverse()).toEqual(runs.map((r) => [r.id, r.pipeline, r.status]));
  });

  it("counts the served predictions and scores the feedback labels", async () => {
    expect(data.traffic.total).toBe(40);
    expect(data.traffic.counts.flat().reduce((a, b) => a + b, 0)).toBe(40);
    expect(data.traffic.versions).toEqual(["v1"]);
    const feedback = readFileSync(path.join(project.dir, "feedback.csv"), "utf8")
      .trim()
      .split("\n")
      .slice(1)
      .map((l) => l.split(","));
    const predicted = new Map(
      (await client.query<{ id: string; label: number }>("SELECT id, label FROM predictions")).rows.map((r) => [r.id, r.label]),
    );
    let tp = 0,
      fp = 0,
      fn = 0;
    for (const [id, label] of feedback) {
      const p = predicted.get(id!);
      if (p === 1 && label === "1") tp++;
      else if (p === 1) fp++;
      else if (label === "1") fn++;
    }
    expect(data.traffic.feedback).toEqual([expect.objectContaining({ version: "v1", labelled: 40 })]);
    expect(data.traffic.feedback[0]!.f1).toBeCloseTo((2 * tp) / (2 * tp + fp + fn), 12);
  });

  it("draws the version's curves from its own test split", () => {
    const detail = data.versionDetail!;
    expect(detail.version).toBe("v1");
    expect(detail.curves!.rows).toBe(detail.test!.rows);
    const { tp, fp, fn } = detail.test!.confusion;
    // The threshold point on the curves is the confusion matrix the manifest recorded.
    expect(detail.curves!.prAtThreshold.x).toBeCloseTo(tp / (tp + fn), 4);
    expect(detail.curves!.prAtThreshold.y).toBeCloseTo(tp / (tp + fp), 4);
    // Training stores the per-epoch history in the manifest, and the page reads it from there.
    expect(detail.history!.classifier.length).toBeGreaterThan(0);
    expect(detail.history!.classifier[0]).toMatchObject({ epoch: expect.any(Number), loss: expect.any(Number) });
  });
});

describe("mlops report", () => {
  it("writes one self-contained file (0600) and says what it holds", async () => {
    const result = json<{
      file: string;
      bytes: number;
      format: string;
      sections: Array<{ id: string; empty: boolean }>;
      verdict: { status: string };
    }>(await ok("report", "--json"));
    expect(result.file).toBe(path.join(project.dir, "mlops-report.html"));
    expect(statSync(result.file).size).toBe(result.bytes);
    expect(statSync(result.file).mode & 0o777).toBe(0o600);
    expect(result.sections.map((s) => s.id)).toEqual(["overview", "lineage", "version", "data", "traffic", "runs"]);
    expect(result.sections.every((s) => !s.empty)).toBe(true);
    expect(result.verdict.status).toBe("needs-attention");
    const html = readFileSync(result.file, "utf8");
    expect(externalReferences(html)).toEqual([]);
    expect(html).toContain("The last batch (#2) drifted");
  });

  it("prints a Markdown summary with the lineage table", async () => {
    const result = await ok("report", "--format", "md");
    expect(result.stdout).toMatch(/^## mlops report/);
    expect(result.stdout).toContain("| v1 (active) |");
    expect(result.stdout).toContain("force - -> v1 by tester: report test");
  });

  it("limits the time-based sections with --since", async () => {
    const result = json<{ since: { duration: string; from: string } }>(await ok("report", "--since", "2h", "--out", "recent.html", "--json"));
    expect(Date.now() - Date.parse(result.since.from)).toBeGreaterThan(2 * 3600_000 - 60_000);
    expect(Date.now() - Date.parse(result.since.from)).toBeLessThan(2 * 3600_000 + 60_000);
  });

  it("names bad input", async () => {
    const since = await mlops("report", "--since", "soon", "--json");
    expect(since.code).toBe(2);
    expect(json<{ error: { code: string } }>(since).error.code).toBe("BAD_SINCE");
    const version = await mlops("report", "--model", "v9", "--json");
    expect(version.code).toBe(2);
    expect(json<{ error: { code: string } }>(version).error.code).toBe("VERSION_NOT_FOUND");
    const folder = await mlops("report", "--out", "missing/report.html");
    expect(folder.code).toBe(2);
    expect(folder.stderr).toContain("does not exist");
  });
});

describe("GET /dashboard", () => {
  it("wants the API key when /predict does, and rebuilds at most once per few seconds", async () => {
    const loaded = openProject(project.dir);
    let reads = 0;
    const config = { ...loaded.config, serve: { ...loaded.config.serve, requireApiKey: true } };
    const { app } = await buildApp({
      config,
      apiKey: "a-long-dashboard-key",
      databaseUp: async () => true,
      loadModel: async () => Promise.reject(new Error("not needed")),
      dashboard: {
        page: async (refreshSeconds) => {
          reads += 1;
          return renderReportHtml(await buildReportData(loaded, client), { refreshSeconds });
        },
        close: async () => undefined,
      },
    });
    try {
      const denied = await app.inject({ url: "/dashboard" });
      expect(denied.statusCode).toBe(401);
      expect(denied.headers["www-authenticate"]).toContain("Basic");
      const byHeader = await app.inject({ url: "/dashboard", headers: { "x-api-key": "a-long-dashboard-key" } });
      expect(byHeader.statusCode).toBe(200);
      expect(byHeader.headers["content-type"]).toContain("text/html");
      expect(byHeader.body).toContain("refreshes every 15 s");
      const basic = Buffer.from("anyone:a-long-dashboard-key").toString("base64");
      expect((await app.inject({ url: "/dashboard", headers: { authorization: `Basic ${basic}` } })).statusCode).toBe(200);
      expect((await app.inject({ url: "/dashboard", headers: { "x-api-key": "wrong" } })).statusCode).toBe(401);
      expect(reads).toBe(1);
      const docs = await app.inject({ url: "/docs/json" });
      expect(docs.json().paths["/dashboard"]).toBeDefined();
    } finally {
      await app.close();
    }
  });
});

describe.skipIf(!CHROMIUM)(`in a real browser (${CHROMIUM ?? NO_BROWSER_REASON})`, () => {
  let browser: Awaited<ReturnType<typeof launchBrowser>>;
  beforeAll(async () => {
    browser = await launchBrowser();
    console.log(`report screenshots: ${SCREENSHOT_DIR}`);
  });
  afterAll(async () => browser?.close());

  const required = ["lineage", "roc", "pr", "calibration", "batches", "label-rate", "drift", "predictions", "latency", "positive-share", "runs"];

  it("opens the file from disk: no errors, no network, every chart drawn, one lineage point per version", async () => {
    await ok("report", "--out", "browser.html");
    const page = await inspectPage(browser.context, `file://${path.join(project.dir, "browser.html")}`, "report-file");
    expect(page.consoleErrors).toEqual([]);
    expect(page.externalRequests).toEqual([]);
    for (const name of required) expect(page.charts[name], `chart ${name}`).toBeGreaterThan(20);
    expect(page.lineagePoints).toBe(1);
    expect(page.text).toContain("Needs attention");
  });

  it("serves the same page live at /dashboard", async () => {
    const page = await inspectPage(browser.context, `${server!.url}/dashboard`, "dashboard");
    expect(page.consoleErrors).toEqual([]);
    expect(page.externalRequests).toEqual([]);
    for (const name of required) expect(page.charts[name], `chart ${name}`).toBeGreaterThan(20);
    expect(page.lineagePoints).toBe(1);
    expect(page.text).toMatch(/refreshes every 15 s/);
  });
});

describe("an empty project", () => {
  it("gets a page that says what to do next", async () => {
    const empty = tempProject("mlops-report-empty-");
    try {
      expect((await runCli(["init"], { cwd: empty.dir })).code).toBe(0);
      const result = json<{ file: string; verdict: { status: string; nextSteps: string[] } }>(await runCli(["report", "--json"], { cwd: empty.dir }));
      expect(result.verdict.status).toBe("empty");
      expect(result.verdict.nextSteps[0]).toMatch(/^mlops up/);
      const html = readFileSync(result.file, "utf8");
      expect(html).toContain("No version is trained yet");
      if (CHROMIUM) {
        const browser = await launchBrowser();
        try {
          const page = await inspectPage(browser.context, `file://${result.file}`, "report-empty");
          expect(page.consoleErrors).toEqual([]);
          expect(page.text).toContain("Nothing here yet");
          expect(page.text).toContain("mlops up");
        } finally {
          await browser.close();
        }
      }
    } finally {
      await empty.cleanup();
    }
  });
});
