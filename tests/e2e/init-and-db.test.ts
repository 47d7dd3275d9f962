import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { connect, createScratchDatabase } from "../helpers/database.js";
import { CLI, json, runCli, tempProject } from "../helpers/cli.js";

/** Whether another user could run the built CLI: o+x on every folder above it, o+r on the node_modules it needs. */
function readableByEveryone(file: string): boolean {
  for (let dir = path.dirname(file); dir !== path.dirname(dir); dir = path.dirname(dir)) {
    if ((statSync(dir).mode & 0o001) === 0) return false;
  }
  return (statSync(file).mode & 0o004) !== 0;
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()));
});

function project() {
  const created = tempProject();
  cleanups.push(created.cleanup);
  return created.dir;
}

describe("mlops init on the embedded database", () => {
  it("creates the project, and a second run changes nothing", async () => {
    const dir = project();
    const first = await runCli(["init", "--json"], { cwd: dir });
    expect(first.code, first.stderr).toBe(0);
    const result = json(first);
    expect(result).toMatchObject({ changed: true, database: { embedded: true, action: "created" } });
    expect(result.database).toMatchObject({ url: expect.stringContaining(":***@127.0.0.1:") });
    for (const file of ["mlops.config.json", "models", ".env.example", ".gitignore", ".mlops/pgdata/PG_VERSION"]) {
      expect(existsSync(path.join(dir, file)), file).toBe(true);
    }
    const config = JSON.parse(readFileSync(path.join(dir, "mlops.config.json"), "utf8"));
    expect(config.gate.f1Threshold).toBe(0.8);
    const before = readFileSync(path.join(dir, "mlops.config.json"), "utf8");

    const second = await runCli(["init"], { cwd: dir });
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toContain("Everything is in place; nothing changed.");
    expect(readFileSync(path.join(dir, "mlops.config.json"), "utf8")).toBe(before);
    expect(json(await runCli(["init", "--json"], { cwd: dir }))).toMatchObject({ changed: false, migrations: { applied: [] } });
  });

  it("reports, stops and starts the server with db status/stop/start", async () => {
    const dir = project();
    expect((await runCli(["init"], { cwd: dir })).code).toBe(0);

    const running = json(await runCli(["db", "status", "--json"], { cwd: dir }));
    expect(running).toMatchObject({ mode: "embedded", reachable: true, server: { running: true }, migrations: { pending: [] } });
    expect(running.sizeBytes).toBeGreaterThan(0);

    expect(json(await runCli(["db", "stop", "--json"], { cwd: dir }))).toEqual({ embedded: true, stopped: true });
    const stopped = await runCli(["db", "status", "--json"], { cwd: dir });
    expect(stopped.code).toBe(0);
    expect(json(stopped)).toMatchObject({ server: { running: false }, reachable: false });

    expect(json(await runCli(["db", "start", "--json"], { cwd: dir }))).toMatchObject({ action: "started" });
    expect(json(await runCli(["db", "migrate", "--json"], { cwd: dir }))).toMatchObject({ applied: [] });
  });

  it("brings a kill -9'd server back on the next command with no data lost", async () => {
    const dir = project();
    expect((await runCli(["init"], { cwd: dir })).code).toBe(0);
    const status = json<{ url: string; server: { pid: number } }>(await runCli(["db", "status", "--json"], { cwd: dir }));
    const credentials = JSON.parse(readFileSync(path.join(dir, ".mlops/credentials.json"), "utf8"));
    const url = status.url.replace("***", encodeURIComponent(credentials.password));
    const client = await connect(url);
    await client.query("INSERT INTO checklist_signoffs (item_id, signed_by) VALUES ('survives', 'test')");
    await client.end();

    process.kill(status.server.pid, "SIGKILL");
    const migrate = await runCli(["db", "migrate"], { cwd: dir });
    expect(migrate.code, migrate.stderr).toBe(0);

    const after = json<{ url: string; server: { pid: number } }>(await runCli(["db", "status", "--json"], { cwd: dir }));
    expect(after.server.pid).not.toBe(status.server.pid);
    const again = await connect(url);
    const rows = await again.query("SELECT signed_by FROM checklist_signoffs WHERE item_id = 'survives'");
    await again.end();
    expect(rows.rows).toEqual([{ signed_by: "test" }]);
  });

  it("ends two simultaneous inits on a fresh folder with one server and one schema", async () => {
    const dir = project();
    const [a, b] = await Promise.all([runCli(["init", "--json"], { cwd: dir }), runCli(["init", "--json"], { cwd: dir })]);
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    const applied = [json(a), json(b)].flatMap((r) => (r as { migrations: { applied: string[] } }).migrations.applied);
    expect(applied.length).toBeGreaterThan(0);
    expect(new Set(applied).size).toBe(applied.length);
    const actions = [json(a), json(b)].map((r) => (r as { database: { action: string } }).database.action).sort();
    expect(actions).toEqual(["created", "joined"]);
    const status = json(await runCli(["db", "status", "--json"], { cwd: dir }));
    expect(status).toMatchObject({ server: { running: true }, migrations: { pending: [], failed: [] } });
  });
});

describe("mlops with DATABASE_URL", () => {
  it("uses that server and starts nothing", async () => {
    const dir = project();
    const db = await createScratchDatabase();
    cleanups.push(db.drop);
    const env = { DATABASE_URL: db.url };
    const init = await runCli(["init", "--json"], { cwd: dir, env });
    expect(init.code, init.stderr).toBe(0);
    expect(json(init)).toMatchObject({ database: { embedded: false, action: "external" } });
    expect(existsSync(path.join(dir, ".mlops", "pgdata"))).toBe(false);
    expect(json(await runCli(["db", "status", "--json"], { cwd: dir, env }))).toMatchObject({ mode: "external", reachable: true });
    expect(json(await runCli(["db", "stop", "--json"], { cwd: dir, env }))).toMatchObject({ stopped: false });
    const client = await connect(db.url);
    const count = await client.query("SELECT count(*)::int AS n FROM _prisma_migrations");
    await client.end();
    expect(count.rows[0].n).toBeGreaterThan(0);
  });

  it("exits 4 naming host and port, never the password, when the server is unreachable", async () => {
    const dir = project();
    writeFileSync(path.join(dir, "mlops.config.json"), readFileSync(new URL("../../fixtures/mlops.config.json", import.meta.url)));
    const env = { DATABASE_URL: "postgresql://someone:s3cret-pw@127.0.0.1:1/nowhere" };
    for (const args of [["init"], ["db", "migrate"], ["db", "status"]]) {
      const result = await runCli(args, { cwd: dir, env });
      expect(result.code, args.join(" ")).toBe(4);
      expect(result.stderr + result.stdout).toContain("127.0.0.1:1");
      expect(result.stderr + result.stdout).not.toContain("s3cret-pw");
      expect(result.stderr).not.toMatch(/\n\s+at /);
    }
    const asJson = await runCli(["init", "--json"], { cwd: dir, env });
    expect(json(asJson)).toMatchObject({ error: { code: "DATABASE_UNREACHABLE", exitCode: 4 } });
  });
});

describe("bad input", () => {
  it("exits 2 listing every config problem with its path, and changes nothing", async () => {
    const dir = project();
    const config = JSON.parse(readFileSync(new URL("../../fixtures/mlops.config.json", import.meta.url), "utf8"));
    config.gate.f1Threshold = 2;
    config.features[0].type = "text";
    writeFileSync(path.join(dir, "mlops.config.json"), JSON.stringify(config));
    const result = await runCli(["init"], { cwd: dir });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("gate.f1Threshold");
    expect(result.stderr).toContain("features.0.type");
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(path.join(dir, ".mlops"))).toBe(false);
    expect((await runCli(["init", "--verbose"], { cwd: dir })).stderr).toMatch(/\n\s+at /);
  });

  it("exits 2 with a hint for unknown commands and options, and for a missing project", async () => {
    const dir = project();
    for (const args of [["frobnicate"], ["init", "--frobnicate"], ["db", "status"]]) {
      const result = await runCli(args, { cwd: dir });
      expect(result.code, args.join(" ")).toBe(2);
      expect(result.stderr).toMatch(/hint:/);
    }
    expect(json(await runCli(["frobnicate", "--json"], { cwd: dir }))).toMatchObject({ error: { code: "USAGE" } });
  });

  it("lists only working commands in --help, and explains each one's options", async () => {
    const help = await runCli(["--help"], { cwd: project() });
    expect(help.code).toBe(0);
    for (const command of ["init", "db"]) expect(help.stdout).toContain(command);
    const db = await runCli(["db", "--help"], { cwd: project() });
    for (const sub of ["status", "start", "stop", "migrate"]) expect(db.stdout).toContain(sub);
    expect((await runCli(["init", "--help"], { cwd: project() })).stdout).toContain("--json");
  });
});

describe("users", () => {
  // Needs a checkout every user can read (CI may clone under root's private home folder).
  it.runIf(process.getuid?.() === 0 && readableByEveryone(CLI))("works for a normal user too, and the server never runs as root", async () => {
    const dir = project();
    const { chownSync } = await import("node:fs");
    chownSync(dir, 65534, 65534);
    const asNobody = { uid: 65534, gid: 65534, env: { HOME: dir } };
    const init = await runCli(["init", "--json"], { cwd: dir, ...asNobody });
    expect(init.code, init.stderr).toBe(0);
    const status = json<{ server: { pid: number } }>(await runCli(["db", "status", "--json"], { cwd: dir, ...asNobody }));
    const owner = readFileSync(`/proc/${status.server.pid}/status`, "utf8").match(/^Uid:\s+(\d+)/m)?.[1];
    expect(owner).toBe("65534");
    expect((await runCli(["db", "stop"], { cwd: dir, ...asNobody })).code).toBe(0);
  });

  it("runs the server as an unprivileged user when started by root", async () => {
    const dir = project();
    expect((await runCli(["init"], { cwd: dir })).code).toBe(0);
    const status = json<{ server: { pid: number } }>(await runCli(["db", "status", "--json"], { cwd: dir }));
    const owner = readFileSync(`/proc/${status.server.pid}/status`, "utf8").match(/^Uid:\s+(\d+)/m)?.[1];
    expect(owner).not.toBe("0");
  });
});
