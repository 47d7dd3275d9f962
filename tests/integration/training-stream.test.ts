import { createHash } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Project } from "../../src/config/load.js";
import { sampleConfig } from "../../src/config/sample.js";
import { configSchema, type MlopsConfig } from "../../src/config/schema.js";
import { ingestBatch } from "../../src/data/ingest.js";
import { generateRows } from "../../src/data/synthetic.js";
import { openSource } from "../../src/data/sources/open.js";
import { applyMigrations } from "../../src/db/migrate.js";
import { createPrisma, type PrismaClient } from "../../src/db/prisma.js";
import type { DatabaseSession } from "../../src/db/session.js";
import { loadDataset } from "../../src/model/dataset.js";
import { readTrainingData } from "../../src/model/training-data.js";
import { MIGRATIONS_DIR } from "../../src/package-root.js";
import { evaluateVersion } from "../../src/registry/evaluate.js";
import { trainVersion } from "../../src/registry/train-version.js";
import { connect, createScratchDatabase, type ScratchDatabase } from "../helpers/database.js";

/** Training times on a shared 2-core machine vary widely; these runs are small but several. */
const TIMEOUT = 300_000;
const ROWS = 6000;

let db: ScratchDatabase;
let client: pg.Client;
let prisma: PrismaClient | undefined;
let root: string;
let session: DatabaseSession;

const configWith = (model: Partial<MlopsConfig["model"]>, extra: Partial<MlopsConfig> = {}): MlopsConfig =>
  configSchema.parse({ ...sampleConfig(), ...extra, model: { ...sampleConfig().model, ...model } });
const projectWith = (config: MlopsConfig): Project => ({ root, configPath: path.join(root, "mlops.config.json"), config });
const scratchRoot = () => path.join(root, ".mlops", "scratch");
const scratchLeft = () => readdirSync(scratchRoot());
const quick = { epochs: 2, pretrainEpochs: 1, batchSize: 64, learningRate: 0.003, hidden: [16, 8], seed: 5, pretrain: true, smallDataRows: 1000 };

beforeAll(async () => {
  db = await createScratchDatabase();
  client = await connect(db.url);
  await applyMigrations(client, MIGRATIONS_DIR);
  root = mkdtempSync(path.join(os.tmpdir(), "mlops-training-stream-"));
  const target = { url: db.url, display: db.name, embedded: false };
  session = { target, client, prisma: async () => (prisma ??= await createPrisma(target)) };
  const config = configWith({});
  for (const seed of [1, 2]) {
    const source = await openSource({ kind: "synthetic", options: { rows: ROWS / 2, seed, drift: 0, unlabeledFraction: 0.05 } }, config);
    await ingestBatch(session, config, source, { maxInvalid: 0.05, force: false });
  }
}, TIMEOUT);

afterAll(async () => {
  await prisma?.$disconnect();
  await client?.end();
  await db?.drop();
  if (root) rmSync(root, { recursive: true, force: true });
});

describe("training data read in chunks", () => {
  it("spills past one chunk to a file unlinked once open (no exit can leave it behind), reads back exactly the rows of one read, and frees it on close", async () => {
    const config = configWith({});
    const whole = await loadDataset(client, config, { ordered: true });
    // The spilled file, found through this process's open descriptors: its name is gone from the disk.
    const openScratch = () =>
      readdirSync("/proc/self/fd")
        .map((fd) => {
          try {
            return readlinkSync(`/proc/self/fd/${fd}`);
          } catch {
            return "";
          }
        })
        .filter((target) => target.startsWith(scratchRoot()));
    const data = await readTrainingData(client, config, { ordered: true }, scratchRoot(), 700);
    try {
      expect(data.rows).toBe(whole.rows);
      expect(Array.from(data.labels)).toEqual(Array.from(whole.labels));
      expect(statSync(scratchRoot()).mode & 0o777).toBe(0o700);
      expect(scratchLeft()).toEqual([]);
      expect(openScratch()).toEqual([expect.stringMatching(/examples\.bin \(deleted\)$/)]);
      let rows = 0;
      for await (const { start, columns } of data.chunks()) {
        expect(start).toBe(rows);
        expect(columns.rows).toBeLessThanOrEqual(700);
        for (const [name, values] of columns.numeric)
          expect(values.subarray(0, columns.rows)).toEqual(whole.numeric.get(name)!.subarray(start, start + columns.rows));
        for (const [name, values] of columns.categorical)
          expect(values.subarray(0, columns.rows)).toEqual(whole.categorical.get(name)!.subarray(start, start + columns.rows));
        rows += columns.rows;
      }
      expect(rows).toBe(whole.rows);
    } finally {
      await data.close();
    }
    expect(openScratch()).toEqual([]);
  });

  it(
    "trains the same weights, manifest and threshold with a 500-row chunk (scratch file) as with one chunk in memory, and leaves no scratch file",
    async () => {
      const streamed = await trainVersion(projectWith(configWith({ chunkRows: 500 })), session, { ...quick, backend: "wasm" });
      expect(scratchLeft()).toEqual([]);
      const inMemory = await trainVersion(projectWith(configWith({ chunkRows: 100_000 })), session, { ...quick, backend: "wasm" });
      expect(streamed.strategy).toBe("holdout");
      const file = (dir: string, name: string) => readFileSync(path.join(dir, name));
      const sha = (dir: string) => createHash("sha256").update(file(dir, "weights.bin")).digest("hex");
      expect(sha(streamed.path)).toBe(sha(inMemory.path));
      const manifest = (dir: string) => {
        const { version: _v, createdAt: _c, files: _f, ...rest } = JSON.parse(file(dir, "manifest.json").toString());
        return rest;
      };
      expect(manifest(streamed.path)).toEqual(manifest(inMemory.path));
      expect(streamed.threshold).toBe(inMemory.threshold);
      expect(streamed.rows).toEqual(inMemory.rows);

      // Evaluation streams too: chunks of 300 rows give the same metrics as one chunk.
      const small = await evaluateVersion(projectWith(configWith({ chunkRows: 300 })), session, streamed.version, { kind: "test-split" });
      const large = await evaluateVersion(projectWith(configWith({ chunkRows: 100_000 })), session, streamed.version, { kind: "test-split" });
      expect(small.rows).toBeGreaterThan(600);
      expect(small.metrics).toEqual(large.metrics);
      expect(small.logisticRegression).toEqual(large.logisticRegression);

      // A file is read in chunks as well: 1,000 rows in chunks of 300 score as one chunk does.
      const config = configWith({});
      const columns = [...config.features.map((f) => f.name), config.label.name];
      const lines = [...generateRows(config, { rows: 1000, seed: 9, drift: 0, unlabeledFraction: 0 })].map((row) =>
        columns.map((c) => row[c]).join(","),
      );
      const csv = path.join(root, "fresh.csv");
      writeFileSync(csv, `${columns.join(",")}\n${lines.join("\n")}\n`);
      const fromFile = (chunkRows: number) =>
        evaluateVersion(projectWith(configWith({ chunkRows })), session, streamed.version, { kind: "file", file: csv });
      const [fileSmall, fileLarge] = [await fromFile(300), await fromFile(100_000)];
      expect(fileSmall.rows).toBe(1000);
      expect(fileSmall.metrics).toEqual(fileLarge.metrics);
      expect(fileSmall.seenInTraining).toBe(0);

      // The first batch's rows again, every label filled in: its stored labelled train and
      // validation rows count (chunk after chunk), its test rows and unlabelled rows do not.
      const first = (await client.query<{ id: number }>("SELECT min(batch_id) AS id FROM examples")).rows[0]!.id;
      const again = [...generateRows(config, { rows: ROWS / 2, seed: 1, drift: 0, unlabeledFraction: 0.05 })];
      const seenCsv = path.join(root, "seen.csv");
      const filled = again.map((row) => columns.map((c) => (c === "label" && row[c] === null ? 1 : row[c])).join(","));
      writeFileSync(seenCsv, `${columns.join(",")}\n${filled.join("\n")}\n`);
      const count = async (sql: string) => Number((await client.query<{ n: string }>(sql, [first])).rows[0]!.n);
      const trainedOn = await count("SELECT count(*) AS n FROM examples WHERE batch_id = $1 AND label IS NOT NULL AND split <> 'test'");
      expect(trainedOn).toBeLessThan(ROWS / 2 - 300);
      const seen = await evaluateVersion(projectWith(configWith({ chunkRows: 300 })), session, streamed.version, { kind: "file", file: seenCsv });
      expect(seen.rows).toBe(ROWS / 2);
      expect(seen.seenInTraining).toBe(trainedOn);

      // A version trained on the first 2,000 rows (row-hash order) saw only those.
      const cut = await trainVersion(projectWith(configWith({})), session, { ...quick, backend: "wasm", maxRows: 2000 });
      const cutOn = await count(
        "SELECT count(*) AS n FROM (SELECT * FROM examples ORDER BY row_hash LIMIT 2000) e WHERE batch_id = $1 AND label IS NOT NULL AND split <> 'test'",
      );
      expect(cutOn).toBeLessThan(trainedOn / 2);
      const seenByCut = await evaluateVersion(projectWith(configWith({ chunkRows: 300 })), session, cut.version, { kind: "file", file: seenCsv });
      expect(seenByCut.seenInTraining).toBe(cutOn);
    },
    TIMEOUT,
  );

  it("removes the scratch file when training fails after the read", async () => {
    const config = configWith(
      { chunkRows: 500 },
      { features: [...sampleConfig().features, { name: "never_collected", type: "numeric", nullable: true }] },
    );
    await expect(trainVersion(projectWith(config), session, { ...quick, backend: "wasm" })).rejects.toMatchObject({ code: "FEATURES_MISSING" });
    expect(scratchLeft()).toEqual([]);
  });
});
