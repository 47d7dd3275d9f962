import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { copyRowsIn, copyRowsOut } from "../../src/db/copy.js";
import { applyMigrations } from "../../src/db/migrate.js";
import { createPrisma } from "../../src/db/prisma.js";
import { MIGRATIONS_DIR } from "../../src/package-root.js";
import { connect, createScratchDatabase, type ScratchDatabase } from "../helpers/database.js";

let db: ScratchDatabase;
let client: pg.Client;

beforeAll(async () => {
  db = await createScratchDatabase();
  client = await connect(db.url);
  await applyMigrations(client, MIGRATIONS_DIR);
});
afterAll(async () => {
  await client?.end();
  await db?.drop();
});

describe("COPY helpers", () => {
  it("round-trips awkward values exactly", async () => {
    await client.query("CREATE TABLE copy_check (n int, t text, j jsonb, f double precision)");
    const awkward = ["tab\there", "new\nline", "back\\slash", "\\N", "ünïcødé 🚀", "", "carriage\rreturn"];
    const rows = awkward.map((text, index) => [index, text, { text, nested: [index, null] }, index / 3]);
    rows.push([99, null, null, null]);
    expect(await copyRowsIn(client, "copy_check", ["n", "t", "j", "f"], rows)).toBe(rows.length);

    const back: Array<Array<string | null>> = [];
    for await (const row of copyRowsOut(client, "SELECT n, t, j, f FROM copy_check ORDER BY n")) back.push(row);
    expect(back.map((r) => r[1])).toEqual([...awkward, null]);
    expect(back.slice(0, -1).map((r) => JSON.parse(r[2]!).text)).toEqual(awkward);
    expect(Number(back[1]![3])).toBe(1 / 3);
  });

  it("streams a large batch from an async source", async () => {
    async function* many() {
      for (let i = 0; i < 50_000; i += 1) yield [i, `row ${i}`, null, i];
    }
    await client.query("CREATE TABLE copy_many (n int, t text, j jsonb, f double precision)");
    expect(await copyRowsIn(client, "copy_many", ["n", "t", "j", "f"], many())).toBe(50_000);
    const count = await client.query("SELECT count(*)::int AS n, sum(n)::bigint AS s FROM copy_many");
    expect(count.rows[0]).toEqual({ n: 50_000, s: String((49_999 * 50_000) / 2) });
  });
});

describe("Prisma client over the migrated schema", () => {
  it("writes and reads through the generated client", async () => {
    const prisma = await createPrisma({ url: db.url, display: db.url, embedded: false });
    try {
      const now = new Date();
      const batch = await prisma.batch.create({
        data: {
          source: "test",
          sourceKind: "synthetic",
          checksum: "abc",
          status: "accepted",
          rowsRead: 1,
          rowsAccepted: 1,
          rowsQuarantined: 0,
          rowsDuplicate: 0,
          report: { ok: true },
          startedAt: now,
          finishedAt: now,
          quarantined: { create: [{ rowNumber: 1, raw: { x01: "1.5" }, reasons: [{ code: "out_of_range" }] }] },
        },
        include: { quarantined: true },
      });
      expect(batch.quarantined[0]).toMatchObject({ rowNumber: 1, raw: { x01: "1.5" }, reasons: [{ code: "out_of_range" }] });
    } finally {
      await prisma.$disconnect();
    }
  });
});
