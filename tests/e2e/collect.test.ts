import { spawn } from "node:child_process";
import { chmodSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLI, connectProject, json, runCli, tempProject } from "../helpers/cli.js";
import { waitFor } from "../helpers/wait.js";
import { connect, createScratchDatabase } from "../helpers/database.js";
import { serveRoutes } from "../helpers/http-server.js";

const FIXTURES = fileURLToPath(new URL("../../fixtures/data/", import.meta.url));
const fixture = (name: string) => path.join(FIXTURES, name);

let project: ReturnType<typeof tempProject>;
const mlops = (...args: string[]) => runCli(args, { cwd: project.dir });

interface Summary {
  status: string;
  batchId: number | null;
  sameAs: number | null;
  rows: { read: number; stored: number; quarantined: number; duplicatesInBatch: number; duplicatesOfStored: number };
  topReasons: Array<{ field: string | null; code: string; count: number }>;
  drift: { verdict: string } | null;
}

beforeAll(async () => {
  project = tempProject();
  const init = await mlops("init");
  expect(init.code, init.stderr).toBe(0);
});
afterAll(async () => project?.cleanup());

async function examplesCount(): Promise<number> {
  return json<{ examples: { total: number } }>(await mlops("data", "--json")).examples.total;
}

describe("mlops seed", () => {
  it("writes N deterministic labelled rows as one batch; the same seed again is a no-op", async () => {
    const first = json<Summary>(await mlops("seed", "300", "--seed", "5", "--json"));
    expect(first).toMatchObject({ status: "accepted", rows: { read: 300, stored: 300, quarantined: 0 } });
    const again = json<Summary>(await mlops("seed", "300", "--seed", "5", "--json"));
    expect(again).toMatchObject({ status: "skipped", sameAs: first.batchId });
  });

  it("writes the same CSV for the same seed, with an unlabelled share and drift", async () => {
    const a = path.join(project.dir, "a.csv");
    const b = path.join(project.dir, "b.csv");
    expect((await mlops("seed", "500", "--seed", "9", "--unlabeled-fraction", "0.2", "--out", a)).code).toBe(0);
    expect((await mlops("seed", "500", "--seed", "9", "--unlabeled-fraction", "0.2", "--out", b)).code).toBe(0);
    const text = readFileSync(a, "utf8");
    expect(text).toBe(readFileSync(b, "utf8"));
    const lines = text.trim().split("\n");
    expect(lines).toHaveLength(501);
    const unlabelled = lines.slice(1).filter((line) => line.endsWith(",")).length;
    expect(unlabelled).toBeGreaterThan(60);
    expect(unlabelled).toBeLessThan(140);
    const drifted = json<Summary>(await mlops("seed", "400", "--seed", "77", "--drift", "1", "--json"));
    expect(drifted.drift?.verdict).toBe("drift");
  });

  it("rejects bad options by name", async () => {
    const result = await mlops("seed", "ten", "--drift", "7");
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("N: must be a number");
    expect(result.stderr).toContain("--drift: ");
  });
});

describe("mlops collect from files", () => {
  it("stores a valid file and skips it the second time unless --force", async () => {
    const first = json<Summary>(await mlops("collect", "--file", fixture("sample-200.csv"), "--json"));
    expect(first.status).toBe("accepted");
    expect(first.rows.read).toBe(200);
    const again = json<Summary>(await mlops("collect", "--file", fixture("sample-200.csv"), "--json"));
    expect(again).toMatchObject({ status: "skipped", sameAs: first.batchId });
    const forced = json<Summary>(await mlops("collect", "--file", fixture("sample-200.csv"), "--force", "--json"));
    expect(forced).toMatchObject({ status: "accepted", rows: { stored: 0, duplicatesOfStored: 200 } });
  });

  it("reads JSONL, gzip and standard input as the same rows", async () => {
    for (const name of ["sample-200.jsonl", "sample-200.csv.gz"]) {
      const summary = json<Summary>(await mlops("collect", "--file", fixture(name), "--json"));
      expect(summary, name).toMatchObject({ status: "accepted", rows: { read: 200, duplicatesOfStored: 200 } });
    }
    const stdin = await runCli(["collect", "--file", "-", "--force", "--json"], {
      cwd: project.dir,
      input: readFileSync(fixture("sample-200.csv"), "utf8"),
    });
    expect(json<Summary>(stdin)).toMatchObject({ status: "accepted", rows: { read: 200 } });
  });

  it("quarantines each bad row with its reason and accepts a batch under the limit", async () => {
    const summary = json<Summary>(await mlops("collect", "--file", fixture("mixed-2pct.csv"), "--json"));
    expect(summary.status).toBe("accepted");
    expect(summary.rows.quarantined).toBe(5);
    expect(summary.topReasons.map((r) => `${r.field}:${r.code}`).sort()).toEqual([
      "label:bad_label",
      "null:malformed_record",
      "segment:unknown_category",
      "x01:not_a_number",
      "x06:not_finite",
    ]);
    const quarantine = json<{ rows: Array<{ batchId: number; reasons: Array<{ field: string; problem: string }> }> }>(
      await mlops("data", "quarantine", "--batch", String(summary.batchId), "--json"),
    );
    expect(quarantine.rows).toHaveLength(5);
    expect(quarantine.rows.flatMap((r) => r.reasons.map((x) => x.problem))).toContain('not a number: "abc"');
  });

  it("keeps the first 1,000 characters of an unparseable record, marked as cut, and says so in `data quarantine`", async () => {
    const [header, row] = readFileSync(fixture("sample-200.csv"), "utf8").split("\n");
    const long = `${row},${"w".repeat(1500)}`;
    const result = await runCli(["collect", "--file", "-", "--force", "--json"], { cwd: project.dir, input: `${header}\n${row}\n${long}\n` });
    const summary = json<Summary>(result);
    expect(summary.rows.quarantined).toBe(1);
    const quarantine = json<{ rows: Array<{ raw: string }> }>(await mlops("data", "quarantine", "--batch", String(summary.batchId), "--json"));
    expect(quarantine.rows[0]!.raw).toBe(`${long.slice(0, 1000)}… [cut: ${long.length} characters in all]`);
    const shown = (await mlops("data", "quarantine", "--batch", String(summary.batchId))).stdout.split("\n");
    expect(shown[1]).toMatch(/^ {2}"[^"]{198}…$/);
  });

  it("rejects a batch over --max-invalid whole: exit 3, no training data, every row in quarantine", async () => {
    const before = await examplesCount();
    const result = await mlops("collect", "--file", fixture("mostly-bad.csv"), "--json");
    expect(result.code).toBe(3);
    const summary = json<Summary>(result);
    expect(summary).toMatchObject({ status: "rejected", rows: { read: 200, stored: 0 } });
    // Rows already stored by an earlier batch are duplicates; every other row is in quarantine.
    expect(summary.rows.quarantined + summary.rows.duplicatesOfStored).toBe(200);
    expect(summary.rows.quarantined).toBeGreaterThanOrEqual(40);
    expect(await examplesCount()).toBe(before);
    const lenient = await mlops("collect", "--file", fixture("mostly-bad.csv"), "--max-invalid", "25%", "--force", "--json");
    expect(lenient.code).toBe(0);
  });

  it.each([
    ["empty.csv", 2, /is empty/],
    ["header-only.csv", 2, /no data rows \(only a header\)/],
    ["binary-garbage.csv", 2, /binary data/],
    ["latin1.csv", 2, /not valid UTF-8 text: the first bad byte is on line 2/],
    ["missing-columns.csv", 2, /lacks 2 columns of the schema: x01, x02/],
    ["no-such-file.csv", 2, /No such file/],
  ])("refuses %s with a clear error and stores nothing", async (name, code, message) => {
    const before = await examplesCount();
    const result = await mlops("collect", "--file", fixture(name));
    expect(result.code).toBe(code);
    expect(result.stderr).toMatch(message);
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(await examplesCount()).toBe(before);
  });

  it("quarantines an unterminated quote and an over-long line instead of failing", async () => {
    const unterminated = json<Summary>(await mlops("collect", "--file", fixture("unterminated-quote.csv"), "--max-invalid", "0.5", "--json"));
    expect(unterminated.topReasons[0]).toMatchObject({ code: "malformed_record" });
    const lines = readFileSync(fixture("sample-200.csv"), "utf8").split("\n");
    lines[7] = `${lines[7]},${"x".repeat(1_200_000)}`;
    const long = path.join(project.dir, "long.csv");
    writeFileSync(long, lines.join("\n"));
    const summary = json<Summary>(await mlops("collect", "--file", long, "--json"));
    expect(summary).toMatchObject({ status: "accepted", rows: { read: 200, quarantined: 1 } });
  });

  it("reads latin1 with --encoding and a named source from the config", async () => {
    expect((await mlops("collect", "--file", fixture("latin1.csv"), "--encoding", "latin1")).code).toBe(0);
    const configPath = path.join(project.dir, "mlops.config.json");
    const config = JSON.parse(readFileSync(configPath, "utf8"));
    config.sources = { nightly: { file: fixture("sample-200.jsonl") } };
    writeFileSync(configPath, JSON.stringify(config));
    expect(json<Summary>(await mlops("collect", "nightly", "--force", "--json")).status).toBe("accepted");
    const unknown = await mlops("collect", "weekly");
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("Known sources: nightly");
  });

  it("leaves no partial batch when killed mid-way", async () => {
    const big = path.join(project.dir, "big.csv");
    expect((await mlops("seed", "150000", "--seed", "123", "--out", big)).code).toBe(0);
    const before = json<{ batches: Array<{ id: number }>; examples: { total: number } }>(await mlops("data", "--json"));
    const child = spawn(process.execPath, [CLI, "collect", "--file", big], { cwd: project.dir, env: { ...process.env, DATABASE_URL: "" } });
    // Killed while its transaction is open with rows already copied in, not before it started.
    const db = await connectProject(project.dir);
    try {
      const copying = async () =>
        (
          await db.query(
            "SELECT 1 FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND xact_start IS NOT NULL AND query ILIKE 'COPY%' AND state <> 'idle'",
          )
        ).rows.length > 0;
      await waitFor(copying, 60_000, "collect to be copying rows in its transaction", 20);
    } finally {
      await db.end();
    }
    child.kill("SIGKILL");
    await new Promise((resolve) => child.on("close", resolve));
    const after = json<{ batches: Array<{ id: number }>; examples: { total: number } }>(await mlops("data", "--json"));
    expect(after.examples.total).toBe(before.examples.total);
    expect(after.batches[0]?.id).toBe(before.batches[0]?.id);
  });
});

describe("mlops collect from a URL, a query and feedback", () => {
  it("reads CSV, JSON arrays and JSON Lines over HTTP and names HTTP failures", async () => {
    const csv = readFileSync(fixture("sample-200.csv"), "utf8");
    const rows = readFileSync(fixture("sample-200.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    const server = await serveRoutes({
      "/export.csv": { body: csv },
      "/api/rows": { type: "application/json", body: JSON.stringify(rows.slice(0, 50)) },
      "/stream": {
        type: "application/x-ndjson",
        body: rows
          .slice(50, 80)
          .map((r) => JSON.stringify(r))
          .join("\n"),
      },
      "/broken": { status: 500, body: "oops" },
    });
    try {
      expect(json<Summary>(await mlops("collect", "--url", `${server.url}/export.csv`, "--force", "--json")).rows.read).toBe(200);
      expect(json<Summary>(await mlops("collect", "--url", `${server.url}/api/rows`, "--json")).rows.read).toBe(50);
      expect(json<Summary>(await mlops("collect", "--url", `${server.url}/stream`, "--json")).rows.read).toBe(30);
      const missing = await mlops("collect", "--url", `${server.url}/nope.csv`);
      expect(missing.code).toBe(2);
      expect(missing.stderr).toContain("HTTP 404");
      expect((await mlops("collect", "--url", `${server.url}/broken`)).code).toBe(4);
    } finally {
      await server.close();
    }
    const unreachable = await mlops("collect", "--url", "http://127.0.0.1:1/data.csv");
    expect(unreachable.code).toBe(4);
    expect(unreachable.stderr).toContain("Cannot reach http://127.0.0.1:1/data.csv");
  });

  it("runs a query on another PostgreSQL, and names a failing query", async () => {
    const source = await createScratchDatabase();
    try {
      const client = await connect(source.url);
      const columns = Array.from({ length: 20 }, (_, i) => `x${String(i + 1).padStart(2, "0")}`);
      await client.query(`CREATE TABLE export AS SELECT ${columns.map((c, i) => `(g * ${i + 1} % 97)::float8 AS ${c}`).join(", ")},
        (ARRAY['a','b','c','d'])[1 + g % 4] AS segment, (ARRAY['web','store','app'])[1 + g % 3] AS channel, g % 2 AS label
        FROM generate_series(1, 120) AS g`);
      await client.end();
      const summary = json<Summary>(await mlops("collect", "--query", "SELECT * FROM export", "--from-db", source.url, "--json"));
      expect(summary).toMatchObject({ status: "accepted", rows: { read: 120, stored: 120 } });
      const bad = await mlops("collect", "--query", "SELECT * FROM no_such_table", "--from-db", source.url);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain("no_such_table");
      const down = await mlops("collect", "--query", "SELECT 1", "--from-db", "postgresql://u:pw-secret@127.0.0.1:1/x");
      expect(down.code).toBe(4);
      expect(down.stderr).not.toContain("pw-secret");
    } finally {
      await source.drop();
    }
  });
});

describe("feedback", () => {
  it("attaches late labels to logged predictions and quarantines unknown ids and bad labels", async () => {
    const client = await connectProject(project.dir);
    const version = await client.query(
      `INSERT INTO model_versions (version, path, manifest, metrics, threshold, backend, data_fingerprint) VALUES ('vtest', 'models/vtest', '{}', '{}', 0.5, 'cpu', '{}') RETURNING id`,
    );
    const ids = ["11111111-1111-4111-8111-111111111111", "22222222-2222-4222-8222-222222222222"];
    for (const id of ids) {
      await client.query(
        "INSERT INTO predictions (id, version_id, features, probability, label, latency_ms, created_at) VALUES ($1, $2, '{}', 0.7, 1, 1.2, now())",
        [id, version.rows[0].id],
      );
    }
    const file = path.join(project.dir, "feedback.csv");
    writeFileSync(file, `prediction_id,label\n${ids[0]},1\n${ids[1]},0\n33333333-3333-4333-8333-333333333333,1\n${ids[0]},maybe\nnot-an-id,1\n`);
    const result = await mlops("collect", "--feedback", file, "--json");
    expect(result.code, result.stderr).toBe(0);
    expect(json(result)).toMatchObject({ read: 5, attached: 2, quarantined: 3 });
    const stored = await client.query("SELECT prediction_id, label FROM feedback ORDER BY label DESC");
    await client.end();
    expect(stored.rows).toEqual([
      { prediction_id: ids[0], label: 1 },
      { prediction_id: ids[1], label: 0 },
    ]);
  });
});

describe("schema inference", () => {
  it("infers a schema from a file and init --from creates a project that collects it", async () => {
    const own = tempProject();
    try {
      const infer = await runCli(["schema", "infer", fixture("sample-200.csv"), "--label", "label", "--json"], { cwd: own.dir });
      expect(infer.code, infer.stderr).toBe(0);
      const schema = json<{ features: Array<{ name: string; type: string }>; label: { positive: unknown } }>(infer);
      expect(schema.features).toHaveLength(22);
      expect(schema.label.positive).toBe(1);
      const init = await runCli(["init", "--from", fixture("sample-200.csv"), "--label", "label"], { cwd: own.dir });
      expect(init.code, init.stderr).toBe(0);
      const config = JSON.parse(readFileSync(path.join(own.dir, "mlops.config.json"), "utf8"));
      expect(config.features.find((f: { name: string }) => f.name === "segment")).toMatchObject({
        type: "categorical",
        values: ["a", "b", "c", "d"],
      });
      const collect = await runCli(["collect", "--file", fixture("sample-200.csv"), "--json"], { cwd: own.dir });
      expect(json<Summary>(collect)).toMatchObject({ status: "accepted", rows: { stored: 200 } });
      // --write replaces the config through a temporary file and keeps its permissions.
      const configPath = path.join(own.dir, "mlops.config.json");
      chmodSync(configPath, 0o640);
      const write = await runCli(["schema", "infer", fixture("sample-200.csv"), "--label", "label", "--write"], { cwd: own.dir });
      expect(write.code, write.stderr).toBe(0);
      expect(statSync(configPath).mode & 0o777).toBe(0o640);
      expect(JSON.parse(readFileSync(configPath, "utf8")).features).toHaveLength(22);
      expect(readdirSync(own.dir).filter((name) => name.endsWith(".tmp"))).toEqual([]);
      const noLabel = await runCli(["schema", "infer", fixture("sample-200.csv"), "--label", "churn"], { cwd: own.dir });
      expect(noLabel.code).toBe(2);
      expect(noLabel.stderr).toContain("churn");
    } finally {
      await own.cleanup();
    }
  });
});
