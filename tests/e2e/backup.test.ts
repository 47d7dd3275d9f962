import { existsSync, readdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { json, runCli, tempProject } from "../helpers/cli.js";

let project: ReturnType<typeof tempProject>;

beforeAll(async () => {
  project = tempProject();
  const init = await runCli(["init"], { cwd: project.dir });
  expect(init.code, init.stderr).toBe(0);
  const seed = await runCli(["seed", "500", "--seed", "7"], { cwd: project.dir });
  expect(seed.code, seed.stderr).toBe(0);
});
afterAll(async () => {
  await project?.cleanup();
});

interface BackupResult {
  path: string;
  name: string;
  totalRows: number;
  tables: Array<{ name: string; rows: number }>;
}

describe("mlops db backup and db restore on the embedded database", () => {
  it("refuses to restore before there is a backup, saying how to make one", async () => {
    const result = await runCli(["db", "restore", "--verify"], { cwd: project.dir });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("mlops db backup");
    const neither = await runCli(["db", "restore", "--json"], { cwd: project.dir });
    expect(json(neither)).toMatchObject({ error: { code: "OPTIONS_INVALID", exitCode: 2 } });
  });

  it("backs up into .mlops/backups and verifies the backup in a scratch database", async () => {
    const backup = await runCli(["db", "backup", "--json"], { cwd: project.dir });
    expect(backup.code, backup.stderr).toBe(0);
    const written = json<BackupResult>(backup);
    expect(path.dirname(written.path)).toBe(path.join(project.dir, ".mlops", "backups"));
    expect(written.tables).toContainEqual(expect.objectContaining({ name: "examples", rows: 500 }));
    expect(existsSync(path.join(written.path, "manifest.json"))).toBe(true);

    const verify = await runCli(["db", "restore", "--verify", "--json"], { cwd: project.dir });
    expect(verify.code, verify.stderr).toBe(0);
    expect(json(verify)).toMatchObject({ mode: "verify", status: "passed", backup: { name: written.name }, problems: [] });

    const human = await runCli(["db", "restore", "--verify"], { cwd: project.dir });
    expect(human.code).toBe(0);
    expect(human.stdout).toContain("every table's rows and checksum match");
  });

  it("exits 3 naming the table whose file was changed", async () => {
    const newest = readdirSync(path.join(project.dir, ".mlops", "backups"))
      .sort()
      .at(-1)!;
    writeFileSync(path.join(project.dir, ".mlops", "backups", newest, "batches.copy.gz"), gzipSync(""));
    const result = await runCli(["db", "restore", newest, "--verify"], { cwd: project.dir });
    expect(result.code).toBe(3);
    expect(result.stdout).toContain("batches: batches.copy.gz does not match its sha256");
  });
});
