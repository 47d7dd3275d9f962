import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { gunzipSync, gzipSync } from "node:zlib";
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectProject, json, runCli, startServe, stopServe, tempProject } from "../helpers/cli.js";

let project: ReturnType<typeof tempProject>;
let db: pg.Client;
let rows: Array<Record<string, string>>;
let header: string[];
const mlops = (args: string[], input?: string) => runCli(args, { cwd: project.dir, input });
const file = (name: string) => path.join(project.dir, name);

interface Summary {
  status: string;
  rows: { read: number; scored: number; rejected: number };
  positiveRate: number;
  seconds: number;
  output: string;
  rejects: string | null;
  logged: number;
  model: { version: string; threshold: number; checksum: string };
  topReasons: Array<{ field: string | null; code: string; count: number }>;
}

/** Reads a CSV without quoted fields (what seed writes and these tests send). */
function parseCsv(text: string, delimiter = ","): Array<Record<string, string>> {
  const [head, ...lines] = text.trimEnd().split("\n");
  const names = head!.split(delimiter);
  return lines.map((line) => Object.fromEntries(line.split(delimiter).map((v, i) => [names[i]!, v])));
}

beforeAll(async () => {
  project = tempProject("mlops-predict-");
  for (const args of [
    ["init"],
    ["seed", "3000", "--seed", "1"],
    ["train", "--epochs", "3", "--pretrain-epochs", "1"],
    ["promote", "--force", "--reason", "test"],
    ["seed", "60", "--seed", "7", "--out", "in.csv"],
  ]) {
    const result = await mlops(args);
    expect(result.code, `${args.join(" ")}: ${result.stderr}`).toBe(0);
  }
  const text = readFileSync(file("in.csv"), "utf8");
  header = text.split("\n", 1)[0]!.split(",");
  rows = parseCsv(text);
  db = await connectProject(project.dir);
}, 240_000);
afterAll(async () => {
  await db?.end();
  await project?.cleanup();
});

// Each test runs the CLI several times (a second or more each, more on a busy machine).
describe("mlops predict", { timeout: 300_000 }, () => {
  let reference: Array<Record<string, string>>;

  it("scores a CSV file into CSV: the input columns as received, then probability, label and version, with a --json summary", async () => {
    const result = await mlops(["predict", "--file", "in.csv", "--out", "out.csv", "--json"]);
    expect(result.code, result.stderr).toBe(0);
    const summary = json<Summary>(result);
    expect(summary).toMatchObject({
      status: "scored",
      rows: { read: 60, scored: 60, rejected: 0 },
      output: file("out.csv"),
      rejects: null,
      logged: 0,
      model: { version: "v1" },
    });
    expect(summary.model.checksum).toMatch(/^[0-9a-f]{64}$/);
    expect(summary.seconds).toBeGreaterThan(0);
    const manifest = JSON.parse(readFileSync(file("models/v1/manifest.json"), "utf8"));
    expect(summary.model.checksum).toBe(manifest.files["weights.bin"]);
    expect(summary.model.threshold).toBe(manifest.threshold);
    const text = readFileSync(file("out.csv"), "utf8");
    // The seed CSV has the label column, so the predicted label is named apart from it.
    expect(text.split("\n", 1)[0]).toBe([...header, "probability", "predicted_label", "model_version"].join(","));
    reference = parseCsv(text);
    expect(reference).toHaveLength(60);
    const input = readFileSync(file("in.csv"), "utf8").trimEnd().split("\n").slice(1);
    text
      .trimEnd()
      .split("\n")
      .slice(1)
      .forEach((line, i) => expect(line.startsWith(`${input[i]},`)).toBe(true));
    for (const row of reference) {
      const p = Number(row.probability);
      expect(p).toBeGreaterThanOrEqual(0);
      expect(p).toBeLessThanOrEqual(1);
      expect(row.predicted_label).toBe(p >= summary.model.threshold ? "1" : "0");
      expect(row.model_version).toBe("v1");
    }
    expect(summary.positiveRate).toBe(reference.filter((r) => r.predicted_label === "1").length / 60);
    expect(statSync(file("out.csv")).mode & 0o777).toBe(0o600);
  });

  it("reads TSV, JSONL, a JSON array, gzip and stdin with the same probabilities", async () => {
    const objects = rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, k.startsWith("x") ? Number(v) : v])));
    writeFileSync(file("in.tsv"), `${header.join("\t")}\n${rows.map((r) => header.map((h) => r[h]).join("\t")).join("\n")}\n`);
    writeFileSync(file("in.jsonl"), objects.map((o) => JSON.stringify(o)).join("\n"));
    writeFileSync(file("in.json"), JSON.stringify(objects));
    writeFileSync(file("in.csv.gz"), gzipSync(readFileSync(file("in.csv"))));
    const cases: Array<[string[], string | undefined]> = [
      [["--file", "in.tsv"], undefined],
      [["--file", "in.jsonl"], undefined],
      [["--file", "in.json"], undefined],
      [["--file", "in.csv.gz"], undefined],
      [["--file", "-"], readFileSync(file("in.csv"), "utf8")],
    ];
    for (const [args, input] of cases) {
      const result = await mlops(["predict", ...args, "--out", "each.jsonl"], input);
      expect(result.code, `${args.join(" ")}: ${result.stderr}`).toBe(0);
      const out = readFileSync(file("each.jsonl"), "utf8")
        .trimEnd()
        .split("\n")
        .map((l) => JSON.parse(l));
      expect(
        out.map((o) => o.probability),
        args.join(" "),
      ).toEqual(reference.map((r) => Number(r.probability)));
      expect(out[0]).toMatchObject({
        x01: args[1] === "in.jsonl" || args[1] === "in.json" ? Number(rows[0]!.x01) : rows[0]!.x01,
        model_version: "v1",
      });
    }
  });

  it("writes JSON, TSV and gzipped CSV by extension or --format, and CSV to stdout", async () => {
    expect((await mlops(["predict", "--file", "in.csv", "--out", "out.json"])).code).toBe(0);
    const array = JSON.parse(readFileSync(file("out.json"), "utf8")) as Array<{ probability: number }>;
    expect(array.map((o) => o.probability)).toEqual(reference.map((r) => Number(r.probability)));
    expect((await mlops(["predict", "--file", "in.csv", "--out", "out.txt", "--format", "tsv"])).code).toBe(0);
    expect(parseCsv(readFileSync(file("out.txt"), "utf8"), "\t").map((r) => r.probability)).toEqual(reference.map((r) => r.probability));
    expect((await mlops(["predict", "--file", "in.csv", "--out", "out.csv.gz"])).code).toBe(0);
    expect(gunzipSync(readFileSync(file("out.csv.gz"))).toString()).toBe(readFileSync(file("out.csv"), "utf8"));
    const stdout = await mlops(["predict", "--file", "in.csv"]);
    expect(stdout.code, stdout.stderr).toBe(0);
    expect(stdout.stdout).toBe(readFileSync(file("out.csv"), "utf8"));
    expect(stdout.stderr).toContain("scored      60 of 60 rows");
  });

  it("scores stored rows (--split test, --batch ID) and a read-only --query on another database", async () => {
    const split = json<Summary>(await mlops(["predict", "--split", "test", "--out", "split.csv", "--json"]));
    const stored = await db.query<{ n: number }>("SELECT count(*)::int AS n FROM examples WHERE split = 'test'");
    expect(split.rows).toEqual({ read: stored.rows[0]!.n, scored: stored.rows[0]!.n, rejected: 0 });
    expect(readFileSync(file("split.csv"), "utf8").split("\n", 1)[0]).toBe(
      "x01,x02,x03,x04,x05,x06,x07,x08,x09,x10,x11,x12,x13,x14,x15,x16,x17,x18,x19,x20,segment,channel,label,probability,predicted_label,model_version",
    );

    const batch = json<Summary>(await mlops(["predict", "--batch", "1", "--out", "batch.csv", "--json"]));
    const inBatch = await db.query<{ n: number }>("SELECT count(*)::int AS n FROM examples WHERE batch_id = 1");
    expect(batch.rows.scored).toBe(inBatch.rows[0]!.n);
    expect(batch.rows.scored).toBeGreaterThan(2900);
    const missing = await mlops(["predict", "--batch", "999", "--out", "none.csv"]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("No batch 999");

    const status = json<{ url: string }>(await mlops(["db", "status", "--json"]));
    const { password } = JSON.parse(readFileSync(file(".mlops/credentials.json"), "utf8")) as { password: string };
    const url = status.url.replace("***", encodeURIComponent(password));
    const columns = header
      .filter((h) => h !== "label")
      .map((h) => `features->>'${h}' AS ${h}`)
      .join(", ");
    const query = await mlops([
      "predict",
      "--query",
      `SELECT ${columns} FROM examples WHERE split = 'test' ORDER BY batch_id, row_number`,
      "--from-db",
      url,
      "--out",
      "query.csv",
      "--json",
    ]);
    expect(query.code, query.stderr).toBe(0);
    const fromQuery = parseCsv(readFileSync(file("query.csv"), "utf8"));
    expect(fromQuery.map((r) => r.probability)).toEqual(parseCsv(readFileSync(file("split.csv"), "utf8")).map((r) => r.probability));
    expect(fromQuery[0]!.label).toMatch(/^[01]$/); // no label column in the input: the added column keeps its name

    const write = await mlops(["predict", "--query", "DELETE FROM examples RETURNING *", "--from-db", url, "--out", "bad.csv"]);
    expect(write.code).toBe(2);
    expect(write.stderr).toContain("read-only");
    expect((await db.query<{ n: number }>("SELECT count(*)::int AS n FROM examples")).rows[0]!.n).toBeGreaterThan(0);
  });

  it("puts invalid rows in --rejects with the reason per field, goes on, and exits 3 over --max-invalid", async () => {
    const lines = readFileSync(file("in.csv"), "utf8").trimEnd().split("\n");
    const bad = [...lines];
    bad[1] = bad[1]!.replace(/^[^,]*/, "abc"); // x01 not a number
    bad[2] = bad[2]!
      .split(",")
      .map((v, i) => (header[i] === "segment" ? "zzz" : v))
      .join(","); // unknown category
    bad[3] = "1,2,3"; // wrong field count
    writeFileSync(file("bad.csv"), `${bad.join("\n")}\n`);
    const result = await mlops(["predict", "--file", "bad.csv", "--out", "bad-out.csv", "--rejects", "rejects.csv", "--max-invalid", "2%", "--json"]);
    expect(result.code, result.stderr).toBe(3);
    const summary = json<Summary>(result);
    expect(summary.rows).toEqual({ read: 60, scored: 57, rejected: 3 });
    expect(summary.status).toBe("too_many_invalid");
    expect(summary.topReasons.map((r) => r.code).sort()).toEqual(["malformed_record", "not_a_number", "unknown_category"]);
    const rejects = readFileSync(file("rejects.csv"), "utf8").trimEnd().split("\n");
    expect(rejects[0]).toBe("line,row_key,reasons,raw");
    expect(rejects[1]).toMatch(/^2,,"?x01: not a number: ""abc""/);
    expect(rejects[2]).toContain('segment: unknown category ""zzz""');
    expect(rejects[3]).toContain("(row): expected 23 fields, found 3");
    // The valid rows are scored all the same, with the probabilities of the clean file.
    const scored = parseCsv(readFileSync(file("bad-out.csv"), "utf8"));
    expect(scored.map((r) => r.probability)).toEqual(reference.slice(3).map((r) => r.probability));

    const lenient = await mlops(["predict", "--file", "bad.csv", "--out", "bad-out.csv", "--rejects", "rejects.jsonl", "--json"]);
    expect(lenient.code, lenient.stderr).toBe(0); // 3 of 60 is 5%: not over the default limit
    const first = JSON.parse(readFileSync(file("rejects.jsonl"), "utf8").split("\n")[0]!);
    expect(first).toMatchObject({ line: 2, reasons: [{ field: "x01", code: "not_a_number", problem: 'not a number: "abc"' }] });
  });

  it("writes a rejected record back as received, quotes and all", async () => {
    const lines = readFileSync(file("in.csv"), "utf8").trimEnd().split("\n");
    const quoted = lines[1]!
      .split(",")
      .map((v, i) => (header[i] === "segment" ? '"z, ""top"" z"' : v))
      .join(",");
    writeFileSync(file("quoted.csv"), `${lines[0]}\n${quoted}\n${lines[2]}\n`);
    const result = await mlops(["predict", "--file", "quoted.csv", "--out", "quoted-out.csv", "--rejects", "quoted-rejects.jsonl", "--json"]);
    expect(json<Summary>(result).rows).toEqual({ read: 2, scored: 1, rejected: 1 });
    const rejected = JSON.parse(readFileSync(file("quoted-rejects.jsonl"), "utf8").split("\n")[0]!);
    expect(rejected.raw).toBe(quoted);
  });

  it("--log stores scored rows as batch predictions that collect --feedback can label", async () => {
    const result = await mlops(["predict", "--file", "in.csv", "--out", "logged.csv", "--log", "--json"]);
    expect(result.code, result.stderr).toBe(0);
    expect(json<Summary>(result).logged).toBe(60);
    const out = parseCsv(readFileSync(file("logged.csv"), "utf8"));
    expect(out.map((r) => r.probability)).toEqual(reference.map((r) => r.probability));
    const logged = await db.query<{ id: string; source: string; probability: number; label: number; features: Record<string, unknown> }>(
      "SELECT id, source, probability, label, features FROM predictions WHERE id = ANY($1::uuid[])",
      [out.map((r) => r.prediction_id)],
    );
    expect(logged.rows).toHaveLength(60);
    const byId = new Map(logged.rows.map((r) => [r.id, r]));
    for (const row of out) {
      const stored = byId.get(row.prediction_id!)!;
      expect(stored.source).toBe("batch");
      expect(stored.probability).toBe(Number(row.probability));
      expect(stored.label).toBe(Number(row.predicted_label));
      expect(stored.features.x01).toBe(Number(row.x01));
    }
    writeFileSync(
      file("feedback.csv"),
      `prediction_id,label\n${out
        .slice(0, 10)
        .map((r) => `${r.prediction_id},${r.label}`)
        .join("\n")}\n`,
    );
    const feedback = await mlops(["collect", "--feedback", "feedback.csv", "--json"]);
    expect(feedback.code, feedback.stderr).toBe(0);
    expect(json(feedback)).toMatchObject({ attached: 10 });
  });

  it("gives every row the probability POST /predict gives it, to the last bit", async () => {
    const server = await startServe(project.dir, ["--no-log-predictions"]);
    try {
      for (const [i, row] of rows.entries()) {
        const features = Object.fromEntries(
          Object.entries(row)
            .filter(([k]) => k !== "label")
            .map(([k, v]) => [k, k.startsWith("x") ? Number(v) : v]),
        );
        const response = await fetch(`${server.url}/predict`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ features }),
        });
        const body = (await response.json()) as { probability: number; model_version: string };
        expect(body.model_version).toBe("v1");
        expect(Object.is(body.probability, Number(reference[i]!.probability)), `row ${i}: ${body.probability} vs ${reference[i]!.probability}`).toBe(
          true,
        );
      }
      // The checklist counts it: "Model loaded successfully" includes mlops predict matching the server.
      const report = json<{ items: Array<{ text: string; status: string; evidence: string }> }>(
        await mlops(["checklist", "--url", server.url, "--only", "Model Validation", "--json"]),
      );
      const loaded = report.items.find((item) => item.text === "Model loaded successfully")!;
      expect(loaded.status, loaded.evidence).toBe("pass");
      expect(loaded.evidence).toContain("the same bits as POST /predict");
    } finally {
      await stopServe(server.child);
    }
  });

  it("carries the row key into the rejects and the log, and leaves the old output in place when a run fails", async () => {
    const configPath = file("mlops.config.json");
    const original = readFileSync(configPath, "utf8");
    writeFileSync(configPath, JSON.stringify({ ...JSON.parse(original), rowKey: "customer_id" }, null, 2));
    try {
      const lines = readFileSync(file("in.csv"), "utf8").trimEnd().split("\n");
      const keyed = [`customer_id,${lines[0]}`, ...lines.slice(1).map((line, i) => `c${i + 1},${i === 0 ? line.replace(/^[^,]*/, "abc") : line}`)];
      writeFileSync(file("keyed.csv"), `${keyed.join("\n")}\n`);
      const result = await mlops(["predict", "--file", "keyed.csv", "--out", "keyed-out.csv", "--rejects", "keyed-rejects.jsonl", "--log", "--json"]);
      expect(result.code, result.stderr).toBe(0);
      expect(JSON.parse(readFileSync(file("keyed-rejects.jsonl"), "utf8").trimEnd())).toMatchObject({
        line: 2,
        customer_id: "c1",
        reasons: [{ field: "x01", code: "not_a_number" }],
      });
      const out = parseCsv(readFileSync(file("keyed-out.csv"), "utf8"));
      expect(out[0]!.customer_id).toBe("c2");
      const stored = await db.query<{ request_id: string }>("SELECT request_id FROM predictions WHERE id = $1", [out[0]!.prediction_id]);
      expect(stored.rows[0]!.request_id).toBe("c2");

      writeFileSync(file("keep.csv"), "old\n");
      writeFileSync(
        file("no-x05.csv"),
        `${keyed
          .map((line) =>
            line
              .split(",")
              .filter((_, i) => i !== 5)
              .join(","),
          )
          .join("\n")}\n`,
      );
      const failed = await mlops(["predict", "--file", "no-x05.csv", "--out", "keep.csv"]);
      expect(failed.code).toBe(2);
      expect(failed.stderr).toContain("has no column for x05");
      expect(readFileSync(file("keep.csv"), "utf8")).toBe("old\n");
      expect(readdirSync(project.dir).filter((name) => name.includes(".partial-"))).toEqual([]);
    } finally {
      writeFileSync(configPath, original);
    }
  });

  it("names bad usage: no source, two sources, --json with rows on stdout, a missing folder", async () => {
    for (const [args, text] of [
      [["predict", "--out", "x.csv"], "predict needs rows to score"],
      [["predict", "--file", "in.csv", "--split", "test"], "one source"],
      [["predict", "--file", "in.csv", "--json"], "--json"],
      [["predict", "--file", "in.csv", "--out", "nowhere/x.csv"], "No folder"],
      [["predict", "--file", "in.csv", "--model", "v99", "--out", "x.csv"], 'No version named "v99"'],
    ] as Array<[string[], string]>) {
      const result = await mlops(args);
      expect(result.code, args.join(" ")).toBe(2);
      expect(result.stderr).toContain(text);
      expect(result.stderr).not.toMatch(/at .*\.js:\d+/);
    }
  });
});
