import { spawn } from "node:child_process";
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLI, connectProject, json, runCli, tempProject } from "../helpers/cli.js";
import { connect, createScratchDatabase } from "../helpers/database.js";

/** Faults in the user's input and environment: each a clear error or a quarantined row, never exit 1. */
let project: ReturnType<typeof tempProject>;
const mlops = (...args: string[]) => runCli(args, { cwd: project.dir });
const file = (name: string) => path.join(project.dir, name);
const NOT_A_BUG = /This is a bug|\n\s+at .*:\d+:\d+/;

interface Summary {
  status: string;
  rows: { read: number; stored: number; quarantined: number };
  topReasons: Array<{ field: string | null; code: string; count: number }>;
}

beforeAll(async () => {
  project = tempProject();
  const init = await mlops("init");
  expect(init.code, init.stderr).toBe(0);
});
afterAll(async () => project?.cleanup());

/** `seed --out`: fresh labelled rows as CSV lines (header first). */
async function seededCsv(name: string, rows: number, seed: number): Promise<string[]> {
  expect((await mlops("seed", String(rows), "--seed", String(seed), "--out", file(name))).code).toBe(0);
  return readFileSync(file(name), "utf8").trim().split("\n");
}

describe("numbers beyond float32", () => {
  it("quarantines them in CSV (the fast path) and JSON (the validator), naming the field", async () => {
    const lines = await seededCsv("wide.csv", 100, 101);
    const cells = (i: number) => lines[i]!.split(",");
    const huge = cells(3);
    huge[0] = "1e39";
    const enormous = cells(4);
    enormous[4] = "-1e300";
    lines[3] = huge.join(",");
    lines[4] = enormous.join(",");
    writeFileSync(file("wide.csv"), `${lines.join("\n")}\n`);
    const csv = json<Summary>(await mlops("collect", "--file", file("wide.csv"), "--json"));
    expect(csv).toMatchObject({ status: "accepted", rows: { read: 100, stored: 98, quarantined: 2 } });
    expect(
      csv.topReasons
        .filter((r) => r.code === "beyond_float32")
        .map((r) => r.field)
        .sort(),
    ).toEqual(["x01", "x05"]);

    const header = (await seededCsv("json-source.csv", 40, 102))[0]!.split(",");
    const rows = readFileSync(file("json-source.csv"), "utf8")
      .trim()
      .split("\n")
      .slice(1)
      .map((line) => {
        const values = line.split(",");
        return Object.fromEntries(header.map((name, i) => [name, /^x\d\d$/.test(name) ? Number(values[i]) : values[i]]));
      });
    writeFileSync(file("huge.jsonl"), rows.map((row, i) => JSON.stringify(i === 2 ? { ...row, x07: 1e39 } : row)).join("\n"));
    const jsonl = json<Summary>(await mlops("collect", "--file", file("huge.jsonl"), "--json"));
    expect(jsonl).toMatchObject({
      status: "accepted",
      rows: { read: 40, quarantined: 1 },
      topReasons: [{ field: "x07", code: "beyond_float32", count: 1 }],
    });
  });
});

describe("collect --query", () => {
  it("runs exactly one statement, read only: the drop-table trick is refused and changes nothing", async () => {
    const source = await createScratchDatabase();
    try {
      const client = await connect(source.url);
      await client.query("CREATE TABLE victim (id int); INSERT INTO victim VALUES (1), (2)");
      const trick = await mlops("collect", "--query", "select 1 as x01) to stdout; drop table victim; copy (select 1", "--from-db", source.url);
      expect(trick.code, trick.stderr).toBe(2);
      expect(trick.stderr).toContain("exactly one statement");
      const two = await mlops("collect", "--query", "select 1; select 2", "--from-db", source.url);
      expect(two.code).toBe(2);
      // One statement that writes: the read-only transaction refuses it.
      const writes = await mlops("collect", "--query", "delete from victim returning id as x01", "--from-db", source.url);
      expect(writes.code).toBe(2);
      expect(writes.stderr).toContain("read-only transaction");
      expect((await client.query("SELECT count(*)::int AS n FROM victim")).rows[0].n).toBe(2);
      await client.end();
    } finally {
      await source.drop();
    }
  });
});

describe("encodings and URLs", () => {
  it("names --encoding utf16le for a UTF-16 file (by its BOM or by its NUL pattern), which then reads it", async () => {
    const text = (await seededCsv("plain.csv", 30, 103)).join("\n");
    writeFileSync(file("bom.csv"), Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, "utf16le")]));
    writeFileSync(file("nobom.csv"), Buffer.from(text, "utf16le"));
    for (const name of ["bom.csv", "nobom.csv"]) {
      const refused = await mlops("collect", "--file", file(name));
      expect(refused.code, name).toBe(2);
      expect(refused.stderr).toContain("Pass --encoding utf16le");
      expect(refused.stderr).not.toContain("binary data");
    }
    const read = json<Summary>(await mlops("collect", "--file", file("bom.csv"), "--encoding", "utf16le", "--json"));
    expect(read).toMatchObject({ status: "accepted", rows: { read: 30, stored: 30 } });
  });

  it("refuses a URL holding credentials as a usage error, never printing them", async () => {
    const result = await mlops("collect", "--url", "http://user:pw-secret@127.0.0.1:1/x.csv", "--json");
    expect(result.code).toBe(2);
    expect(json<{ error: { code: string } }>(result).error.code).toBe("URL_CREDENTIALS");
    expect(result.stdout + result.stderr).not.toContain("pw-secret");
  });
});

describe("feedback", () => {
  it("collects the same feedback file twice as a no-op, and says so", async () => {
    const client = await connectProject(project.dir);
    const version = await client.query(
      `INSERT INTO model_versions (version, path, manifest, metrics, threshold, backend, data_fingerprint) VALUES ('vfb', 'models/vfb', '{}', '{}', 0.5, 'cpu', '{}') RETURNING id`,
    );
    const ids = ["44444444-4444-4444-8444-444444444444", "55555555-5555-4555-8555-555555555555", "66666666-6666-4666-8666-666666666666"];
    for (const id of ids) {
      await client.query(
        "INSERT INTO predictions (id, version_id, features, probability, label, latency_ms, created_at) VALUES ($1, $2, '{}', 0.7, 1, 1, now())",
        [id, version.rows[0].id],
      );
    }
    writeFileSync(file("labels.csv"), `prediction_id,label\n${ids[0]},1\n${ids[1]},0\n${ids[2]},1\n`);
    expect(json(await mlops("collect", "--feedback", file("labels.csv"), "--json"))).toMatchObject({ status: "accepted", attached: 3 });
    const again = await mlops("collect", "--feedback", file("labels.csv"));
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout + again.stderr).toContain("Already collected: feedback batch");
    // An overlapping file adds only what is new.
    writeFileSync(file("more-labels.csv"), `prediction_id,label\n${ids[0]},1\n${ids[1]},1\n`);
    expect(json(await mlops("collect", "--feedback", file("more-labels.csv"), "--json"))).toMatchObject({ attached: 1, alreadyAttached: 1 });
    const stored = await client.query("SELECT count(*)::int AS n FROM feedback WHERE prediction_id = ANY($1::uuid[])", [ids]);
    await client.end();
    expect(stored.rows[0].n).toBe(4);
  });
});

describe("backups", () => {
  it("keeps backups for the owner alone, and a truncated manifest is exit 2 with a hint", async () => {
    const made = await mlops("db", "backup", "--json");
    expect(made.code, made.stderr).toBe(0);
    const folder = json<{ path: string }>(made).path;
    const mode = (p: string) => statSync(p).mode & 0o777;
    expect(mode(path.dirname(folder))).toBe(0o700);
    expect(mode(folder)).toBe(0o700);
    for (const name of readdirSync(folder)) expect(mode(path.join(folder, name)), name).toBe(0o600);
    // Root's server user passes through .mlops (0711) to reach its data inside; nobody may list it.
    expect(mode(file(".mlops"))).toBe(process.getuid?.() === 0 ? 0o711 : 0o700);

    const manifest = path.join(folder, "manifest.json");
    writeFileSync(manifest, readFileSync(manifest, "utf8").slice(0, 200));
    const restore = await mlops("db", "restore", "--verify");
    expect(restore.code).toBe(2);
    expect(restore.stderr).toContain("truncated or damaged");
    expect(restore.stderr).toContain("hint: The backup cannot be trusted");
    expect(restore.stderr).not.toMatch(NOT_A_BUG);
  });
});

/** The server's processes: the postmaster and its children, by /proc. */
function serverProcesses(postmaster: number): number[] {
  const children = readdirSync("/proc")
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
        return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]) === postmaster;
      } catch {
        return false;
      }
    });
  return [postmaster, ...children.map(Number)];
}

describe("the database going away", () => {
  it("exits 4, not 1, when the embedded server is killed mid-collect, and the next command recovers", async () => {
    await seededCsv("big.csv", 150_000, 104);
    const status = json<{ server: { pid: number } }>(await mlops("db", "status", "--json"));
    const watcher = await connectProject(project.dir);
    const child = spawn(process.execPath, [CLI, "collect", "--file", file("big.csv")], {
      cwd: project.dir,
      env: { ...process.env, DATABASE_URL: "", CI: "true" },
    });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number>((resolve) => child.on("close", (code) => resolve(code ?? -1)));
    // Killed only once the rows are on their way, so the collect is surely mid-way.
    for (let tries = 0; tries < 600; tries++) {
      const copying = await watcher.query(
        "SELECT count(*)::int AS n FROM pg_stat_activity WHERE query ILIKE 'COPY%examples%' AND pid <> pg_backend_pid()",
      );
      if (copying.rows[0].n > 0) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await watcher.end().catch(() => undefined);
    for (const pid of serverProcesses(status.server.pid)) {
      // A backend may exit between the listing and its kill (the watcher's own, or one that saw
      // the postmaster die first): gone already is what the kill is for.
      try {
        process.kill(pid, "SIGKILL");
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "ESRCH") throw error;
      }
    }
    const code = await exited;
    expect(code, stderr).toBe(4);
    expect(stderr).toContain("broke during the command");
    expect(stderr).not.toMatch(NOT_A_BUG);
    const after = json<{ examples: { total: number } }>(await mlops("data", "--json"));
    expect(after.examples.total).toBeGreaterThan(0);
  });
});

describe("the user's own data", () => {
  it("keeps a numeric column with one stray value, takes the two dominant labels, and collect quarantines both rows", async () => {
    const own = tempProject();
    try {
      const lines = ["customer_id,tenure_months,plan,churned"];
      for (let i = 0; i < 3004; i++) lines.push(`c${i},${i % 72},"basic, monthly",${i % 4 === 0 ? "yes" : "no"}`);
      lines[100] = "c99,abc,pro,no";
      lines[200] = "c199,12,pro,maybe";
      writeFileSync(path.join(own.dir, "churn.csv"), `${lines.join("\n")}\n`);
      const run = (...args: string[]) => runCli(args, { cwd: own.dir });
      const noFrom = await run("init", "--positive", "yes");
      expect(noFrom.code).toBe(2);

      const init = await run("init", "--from", "churn.csv", "--label", "churned", "--json");
      expect(init.code, init.stderr).toBe(0);
      const config = JSON.parse(readFileSync(path.join(own.dir, "mlops.config.json"), "utf8"));
      expect(config.features).toContainEqual({ name: "tenure_months", type: "numeric", nullable: false });
      expect(config.label).toEqual({ name: "churned", positive: "yes", negative: "no" });
      // A script sees what inference found and warned about, not only the files written.
      const initJson = json<{ inferred: { warnings: string[]; rowKey: string } }>(init);
      expect(initJson.inferred.rowKey).toBe("customer_id");
      expect(initJson.inferred.warnings.join("\n")).toContain('"abc"');

      const inferred = json<{ warnings: string[]; label: unknown }>(
        await run("schema", "infer", "churn.csv", "--label", "churned", "--positive", "no", "--negative", "yes", "--json"),
      );
      expect(inferred.label).toEqual({ name: "churned", positive: "no", negative: "yes" });
      expect(inferred.warnings.join("\n")).toContain('"abc"');
      expect(inferred.warnings.join("\n")).toContain('"maybe" ×1');

      const collected = json<Summary>(await run("collect", "--file", "churn.csv", "--json"));
      expect(collected.rows).toMatchObject({ read: 3004, quarantined: 2 });
      expect(collected.topReasons.map((r) => `${r.field}:${r.code}`).sort()).toEqual(["churned:bad_label", "tenure_months:not_a_number"]);
    } finally {
      await own.cleanup();
    }
  });
});
