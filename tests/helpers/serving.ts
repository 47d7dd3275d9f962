import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { FastifyInstance } from "fastify";
import type pg from "pg";
import type { Project } from "../../src/config/load.js";
import { sampleConfig } from "../../src/config/sample.js";
import { configSchema, type Feature, type MlopsConfig } from "../../src/config/schema.js";
import { generateRows } from "../../src/data/synthetic.js";
import { applyMigrations } from "../../src/db/migrate.js";
import { createPrisma, type PrismaClient } from "../../src/db/prisma.js";
import { saveModelFolder } from "../../src/model/artifacts.js";
import { loadTf } from "../../src/model/backend.js";
import { createClassifier } from "../../src/model/network.js";
import { fitPreprocess } from "../../src/model/preprocess.js";
import { MIGRATIONS_DIR } from "../../src/package-root.js";
import { registerVersion } from "../../src/registry/versions.js";
import { buildApp } from "../../src/server/app.js";
import type { AppOptions, ModelHolder } from "../../src/server/context.js";
import { loadServingModel } from "../../src/server/serving-model.js";
import { connect, createScratchDatabase, type ScratchDatabase } from "./database.js";
import { checkEveryAnswer } from "./openapi-contract.js";

/** A scratch database with migrations, a project folder and a way to register untrained versions. */
export interface ServingFixture {
  db: ScratchDatabase;
  client: pg.Client;
  prisma: PrismaClient;
  project: Project;
  config: MlopsConfig;
  registerModel(name: string, id: number, seed: number, std?: number, schema?: { features?: Feature[]; profile?: unknown }): Promise<string>;
  promote(id: number): Promise<void>;
  validRow(): Record<string, unknown>;
  /** An app on the project's active version; the caller closes it. */
  build(options?: Partial<AppOptions>): Promise<{ app: FastifyInstance; holder: ModelHolder; reload: () => Promise<unknown> }>;
  close(): Promise<void>;
}

export async function servingFixture(overrides: Partial<MlopsConfig> = {}): Promise<ServingFixture> {
  const config = configSchema.parse({ ...sampleConfig(), ...overrides });
  const db = await createScratchDatabase();
  const client = await connect(db.url);
  await applyMigrations(client, MIGRATIONS_DIR);
  const prisma = await createPrisma({ url: db.url, display: db.url, embedded: false });
  const root = mkdtempSync(path.join(os.tmpdir(), "mlops-serving-"));
  const project: Project = { root, configPath: path.join(root, "mlops.config.json"), config };
  return {
    db,
    client,
    prisma,
    project,
    config,
    /** Saves and registers an untrained (seeded) classifier; `std` sets every numeric feature's standard deviation. */
    async registerModel(name, id, seed, std = 1, schema = {}) {
      const { tf } = await loadTf("wasm");
      const features = schema.features ?? config.features;
      const numeric = features.filter((f) => f.type === "numeric");
      const columns = { rows: 2, numeric: new Map(numeric.map((f) => [f.name, new Float64Array([-std, std])])), categorical: new Map() };
      const preprocess = fitPreprocess(features, columns, new Uint8Array([1, 1]));
      const model = createClassifier(tf, { inputDim: preprocess.inputDim, hidden: [16, 8], learningRate: 0.001, seed });
      const dir = path.join(root, "models", name);
      const manifest = await saveModelFolder(tf, model, dir, {
        version: name,
        createdAt: new Date().toISOString(),
        toolkitVersion: "test",
        backend: "wasm",
        seed,
        hyperparameters: {},
        featureSchema: features,
        label: config.label,
        preprocess,
        threshold: 0.5,
        metrics: { validation: { f1: 0.9 } },
        dataFingerprint: { rows: 0, batches: [], maxBatchId: 0 },
        profile: schema.profile ?? {},
      });
      await registerVersion(prisma, {
        id,
        version: name,
        path: `models/${name}`,
        manifest: manifest as never,
        metrics: {},
        threshold: 0.5,
        backend: "wasm",
        dataFingerprint: { rows: 0, batches: [], maxBatchId: 0 },
      });
      return dir;
    },
    async promote(id) {
      await client.query("INSERT INTO promotions (to_version_id, action, actor) VALUES ($1, 'force', 'test')", [id]);
    },
    validRow() {
      const [row] = [...generateRows(config, { rows: 1, seed: 3, drift: 0, unlabeledFraction: 0 })];
      delete row!.label;
      return row!;
    },
    async build(options = {}) {
      const built = await buildApp({
        config,
        databaseUp: async () => true,
        loadModel: () => loadServingModel(project, client, "active"),
        ...options,
      });
      await built.reload();
      // Every answer the tests receive is checked against the server's own OpenAPI document.
      checkEveryAnswer(built.app);
      return built;
    },
    async close() {
      await prisma.$disconnect();
      await client.end();
      await db.drop();
    },
  };
}
