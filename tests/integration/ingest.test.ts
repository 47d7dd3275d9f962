import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sampleConfig } from "../../src/config/sample.js";
import { configSchema } from "../../src/config/schema.js";
import { ingestBatch } from "../../src/data/ingest.js";
import type { SourceRecord } from "../../src/data/sources/formats.js";
import { openSource, type OpenedSource } from "../../src/data/sources/open.js";
import { generateRows } from "../../src/data/synthetic.js";
import { applyMigrations } from "../../src/db/migrate.js";
import type { DatabaseSession } from "../../src/db/session.js";
import { MIGRATIONS_DIR } from "../../src/package-root.js";
import { connect, createScratchDatabase, type ScratchDatabase } from "../helpers/database.js";

const config = configSchema.parse(sampleConfig());
let db: ScratchDatabase;
let client: pg.Client;
let session: DatabaseSession;
const options = { maxInvalid: 0.05, force: false };

beforeAll(async () => {
  db = await createScratchDatabase();
  client = await connect(db.url);
  await applyMigrations(client, MIGRATIONS_DIR);
  session = {
    client,
    target: { url: db.url, display: db.url, embedded: false },
    prisma: () => Promise.reject(new Error("ingest uses COPY, not Prisma")),
  };
});
afterAll(async () => {
  await client?.end();
  await db?.drop();
});

const count = async (table: string) => Number((await client.query(`SELECT count(*) AS n FROM ${table}`)).rows[0].n);

/** A source that yields `good` synthetic rows and then fails, like a connection dropping mid-file. */
function failingSource(good: number): OpenedSource {
  async function* records(): AsyncGenerator<SourceRecord[]> {
    let line = 0;
    for (const row of generateRows(config, { rows: good, seed: 99, drift: 0, unlabeledFraction: 0 })) yield [{ line: ++line, row }];
    throw new Error("connection reset by peer");
  }
  return { kind: "url", name: "flaky", records: records(), checksum: () => "x", progress: { bytes: 0 }, state: {} };
}

describe("ingestBatch", () => {
  it("stores nothing at all when the source fails mid-way", async () => {
    await expect(ingestBatch(session, config, failingSource(2500), options)).rejects.toThrow("connection reset by peer");
    expect(await count("batches")).toBe(0);
    expect(await count("examples")).toBe(0);
    expect(await count("quarantined_rows")).toBe(0);
  });

  it("keeps every row once across batches, and reports drift against the first batch", async () => {
    const first = await ingestBatch(
      session,
      config,
      await openSource({ kind: "synthetic", options: { rows: 3000, seed: 1, drift: 0, unlabeledFraction: 0 } }, config),
      options,
    );
    expect(first).toMatchObject({ status: "accepted", rows: { stored: 3000 }, drift: null });
    const overlapping = await ingestBatch(
      session,
      config,
      await openSource({ kind: "synthetic", options: { rows: 4000, seed: 1, drift: 0, unlabeledFraction: 0.5 } }, config),
      options,
    );
    // Same seed: the first 3000 rows have the same features (labels aside), so they are duplicates.
    expect(overlapping.rows).toMatchObject({ stored: 1000, duplicatesOfStored: 3000 });
    expect(overlapping.drift?.verdict).toBe("stable");
    const drifted = await ingestBatch(
      session,
      config,
      await openSource({ kind: "synthetic", options: { rows: 3000, seed: 2, drift: 1, unlabeledFraction: 0 } }, config),
      options,
    );
    expect(drifted.drift).toMatchObject({ verdict: "drift", reference: { source: `batch ${first.batchId}` } });
    expect(await count("examples")).toBe(7000);
  });

  it("serialises concurrent ingests so overlapping batches never store a row twice", async () => {
    const other = await connect(db.url);
    try {
      const sources = await Promise.all(
        [5, 5].map((seed) => openSource({ kind: "synthetic", options: { rows: 2000, seed: 500 + seed, drift: 0, unlabeledFraction: 0 } }, config)),
      );
      const results = await Promise.all([
        ingestBatch(session, config, sources[0]!, { ...options, force: true }),
        ingestBatch({ ...session, client: other }, config, sources[1]!, { ...options, force: true }),
      ]);
      expect(results.map((r) => r.rows.stored).sort()).toEqual([0, 2000]);
    } finally {
      await other.end();
    }
  });
});
