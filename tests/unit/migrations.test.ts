import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { compareMigrations, readMigrations, sha256 } from "../../src/db/migrate.js";
import { MIGRATIONS_DIR } from "../../src/package-root.js";

const row = (name: string, checksum: string, finished = true, rolledBack = false) => ({
  migration_name: name,
  checksum,
  finished_at: finished ? new Date() : null,
  rolled_back_at: rolledBack ? new Date() : null,
});

describe("migration bookkeeping", () => {
  it("reads migration folders in name order with Prisma's sha256 checksum", () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "mlops-mig-"));
    for (const [name, sql] of [
      ["20260102000000_b", "select 2;\n"],
      ["20260101000000_a", "select 1;\n"],
    ]) {
      mkdirSync(path.join(dir, name!));
      writeFileSync(path.join(dir, name!, "migration.sql"), sql!);
    }
    writeFileSync(path.join(dir, "migration_lock.toml"), 'provider = "postgresql"\n');
    const files = readMigrations(dir);
    expect(files.map((f) => f.name)).toEqual(["20260101000000_a", "20260102000000_b"]);
    // The value `sha256sum migration.sql` prints, which is what Prisma stores.
    expect(files[0]!.checksum).toBe("4a45092ccf992ea92250053a80b931b787924ba61648f420555511b84f10ab6c");
  });

  it("ships at least the initial migration", () => {
    expect(readMigrations(MIGRATIONS_DIR).length).toBeGreaterThan(0);
  });

  it("classifies applied, pending, edited, failed and rolled-back migrations", () => {
    const files = ["a", "b", "c", "d"].map((name) => ({ name, sql: name, checksum: sha256(name) }));
    const status = compareMigrations(files, [
      row("a", sha256("a")),
      row("b", sha256("b changed")),
      row("c", sha256("c"), false),
      row("d", sha256("d"), false, true),
    ]);
    expect(status).toEqual({ applied: ["a", "b"], pending: ["d"], edited: ["b"], failed: ["c"] });
  });
});
