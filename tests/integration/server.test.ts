import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { appendFile, readdir, readFile, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { FastifyInstance } from "fastify";
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Project } from "../../src/config/load.js";
import { sampleConfig } from "../../src/config/sample.js";
import { configSchema } from "../../src/config/schema.js";
import { generateRows } from "../../src/data/synthetic.js";
import { applyMigrations } from "../../src/db/migrate.js";
import { saveModelFolder } from "../../src/model/artifacts.js";
import { loadTf } from "../../src/model/backend.js";
import { createClassifier } from "../../src/model/network.js";
import { fitPreprocess } from "../../src/model/preprocess.js";
import { MIGRATIONS_DIR } from "../../src/package-root.js";
import { registerVersion } from "../../src/registry/versions.js";
import { createPrisma, type PrismaClient } from "../../src/db/prisma.js";
import { buildApp } from "../../src/server/app.js";
import type { ModelHolder } from "../../src/server/context.js";
import { PredictionLogWriter } from "../../src/server/prediction-log.js";
import { loadServingModel } from "../../src/server/serving-model.js";
import { connect, createScratchDatabase, type ScratchDatabase } from "../helpers/database.js";
import { checkEveryAnswer } from "../helpers/openapi-contract.js";

const config = configSchema.parse(sampleConfig());
let db: ScratchDatabase;
let client: pg.Client;
let prisma: PrismaClient;
let project: Project;
let app: FastifyInstance;
let holder: ModelHolder;
let log: PredictionLogWriter;
const API_KEY = "test-key-with-enough-entropy-0123456789";

/** Saves and registers an untrained (seeded) classifier as version `name`: serving does not care how good it is. */
async function registerModel(name: string, id: number, seed: number) {
  const { tf } = await loadTf("wasm");
  const columns = {
    rows: 1,
    numeric: new Map(config.features.filter((f) => f.type === "numeric").map((f) => [f.name, new Float64Array([0])])),
    categorical: new Map(),
  };
  const preprocess = fitPreprocess(config.features, columns, new Uint8Array([1]));
  const model = createClassifier(tf, { inputDim: preprocess.inputDim, hidden: [16, 8], learningRate: 0.001, seed });
  const dir = path.join(project.root, "models", name);
  const manifest = await saveModelFolder(tf, model, dir, {
    version: name,
    createdAt: new Date().toISOString(),
    toolkitVersion: "test",
    backend: "wasm",
    seed,
    hyperparameters: {},
    featureSchema: config.features,
    label: config.label,
    preprocess,
    threshold: 0.5,
    metrics: { validation: { f1: 0.9 } },
    dataFingerprint: { rows: 0, batches: [], maxBatchId: 0 },
    profile: {},
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
}

const validRow = () => {
  const [row] = [...generateRows(config, { rows: 1, seed: 3, drift: 0, unlabeledFraction: 0 })];
  delete row!.label;
  return row!;
};

beforeAll(async () => {
  db = await createScratchDatabase();
  client = await connect(db.url);
  await applyMigrations(client, MIGRATIONS_DIR);
  prisma = await createPrisma({ url: db.url, display: db.url, embedded: false });
  const root = mkdtempSync(path.join(os.tmpdir(), "mlops-server-"));
  project = { root, configPath: path.join(root, "mlops.config.json"), config };
  await registerModel("v1", 1, 1);
  await registerModel("v2", 2, 2);
  await client.query("INSERT INTO promotions (to_version_id, action, actor) VALUES (1, 'force', 'test')");
  log = new PredictionLogWriter({ connect: () => connect(db.url), spillDir: path.join(root, "spill") });
  ({ app, holder } = await buildApp({
    config,
    log,
    apiKey: API_KEY,
    databaseUp: async () => true,
    loadModel: () => loadServingModel(project, client, "active"),
  }).then(async (built) => {
    await built.reload();
    // Every answer these tests receive is checked against the server's own OpenAPI document.
    checkEveryAnswer(built.app);
    return built;
  }));
});
afterAll(async () => {
  await app?.close();
  await log?.close();
  await prisma?.$disconnect();
  await client?.end();
  await db?.drop();
});

const predict = (payload: unknown, headers: Record<string, string> = {}) =>
  app.inject({ method: "POST", url: "/predict", payload: payload as object, headers: { "content-type": "application/json", ...headers } });

describe("prediction server", () => {
  it("reports health, model info and OpenAPI docs", async () => {
    const health = await app.inject("/health");
    expect(health.statusCode).toBe(200);
    expect(health.json()).toMatchObject({ status: "ok", model_loaded: true, model_version: "v1", database: "up" });
    expect((await app.inject("/model-info")).json()).toMatchObject({
      version: "v1",
      threshold: 0.5,
      backend: "wasm",
      feature_schema: config.features,
    });
    expect((await app.inject("/docs/json")).json()).toMatchObject({
      openapi: expect.any(String),
      paths: expect.objectContaining({ "/predict": expect.anything() }),
    });
    expect((await app.inject("/docs/")).statusCode).toBe(200);
  });

  it("answers one row (object or schema-order array) and batches, and logs every prediction", async () => {
    const row = validRow();
    const single = await predict({ features: row });
    expect(single.statusCode).toBe(200);
    const body = single.json();
    expect(body).toMatchObject({ model_version: "v1", prediction_id: expect.stringMatching(/^[0-9a-f-]{36}$/) });
    expect(body.probability).toBeGreaterThanOrEqual(0);
    expect(body.probability).toBeLessThanOrEqual(1);
    expect(body.label).toBe(body.probability >= 0.5 ? 1 : 0);
    const asArray = await predict({ features: config.features.map((f) => row[f.name]) });
    expect(asArray.json().probability).toBeCloseTo(body.probability, 6);
    const batch = await predict({ instances: [row, row, row] });
    expect(batch.json().predictions).toHaveLength(3);

    await log.flush();
    const logged = await client.query("SELECT count(*)::int AS n, min(probability) AS p FROM predictions");
    expect(logged.rows[0].n).toBe(5);
    const stored = await client.query("SELECT features FROM predictions WHERE id = $1", [body.prediction_id]);
    expect(stored.rows[0].features).toEqual(row);
  });

  it("answers 400 naming each bad field, and never 500 for bad input", async () => {
    const row = validRow();
    const cases: Array<[unknown, string, string]> = [
      [{ features: { ...row, x01: undefined } }, "x01", "missing"],
      [{ features: { ...row, extra: 1 } }, "extra", "unknown field"],
      [{ features: { ...row, x02: "twelve" } }, "x02", "not a finite number"],
      [{ features: { ...row, x03: "NaN" } }, "x03", "not a finite number"],
      [{ features: { ...row, x04: true } }, "x04", "expected a number"],
      [{ features: { ...row, segment: "zz" } }, "segment", "unknown category"],
      [{ features: [1, 2, 3] }, "(features)", "expected 22 values"],
      [{ instances: [] }, "instances", "non-empty"],
      [{ nothing: 1 }, "(body)", "exactly one of"],
      [{ features: row, request_id: 123 }, "request_id", "expected a string, got number"],
      [{ features: row, request_id: ["a"] }, "request_id", "expected a string, got an array"],
    ];
    for (const [payload, field, problem] of cases) {
      const response = await predict(payload);
      expect(response.statusCode, JSON.stringify(payload).slice(0, 80)).toBe(400);
      const details = response.json().details as Array<{ field: string; problem: string }>;
      expect(
        details.some((d) => d.field === field && d.problem.includes(problem)),
        `${field}: ${JSON.stringify(details)}`,
      ).toBe(true);
    }
    const infinity = await app.inject({
      method: "POST",
      url: "/predict",
      payload: `{"features": ${JSON.stringify({ ...row }).replace(/"x05":[^,]+/, '"x05":1e999')}}`,
      headers: { "content-type": "application/json" },
    });
    expect(infinity.statusCode).toBe(400);
    expect(infinity.json().details).toContainEqual({ instance: 0, field: "x05", problem: "not a finite number: Infinity" });
    expect(
      (await app.inject({ method: "POST", url: "/predict", payload: "{not json", headers: { "content-type": "application/json" } })).statusCode,
    ).toBe(400);
    expect((await predict({ instances: Array.from({ length: config.serve.maxBatch + 1 }, () => row) })).statusCode).toBe(400);
  });

  it("uses the usual statuses: 413 too large, 415 wrong type, 404, 405", async () => {
    const huge = JSON.stringify({ instances: Array.from({ length: 8000 }, () => validRow()) });
    expect((await app.inject({ method: "POST", url: "/predict", payload: huge, headers: { "content-type": "application/json" } })).statusCode).toBe(
      413,
    );
    expect((await app.inject({ method: "POST", url: "/predict", payload: "x01=1", headers: { "content-type": "text/plain" } })).statusCode).toBe(415);
    expect((await app.inject("/nowhere")).statusCode).toBe(404);
    const wrongMethod = await app.inject({ method: "GET", url: "/predict" });
    expect(wrongMethod.statusCode).toBe(405);
    expect(wrongMethod.headers.allow).toBe("POST");
  });

  it("reloads the active version only with the API key, swapping without failing requests", async () => {
    expect((await app.inject({ method: "POST", url: "/reload-model" })).statusCode).toBe(401);
    expect((await app.inject({ method: "POST", url: "/reload-model", headers: { "x-api-key": "wrong" } })).statusCode).toBe(401);
    await client.query("INSERT INTO promotions (from_version_id, to_version_id, action, actor) VALUES (1, 2, 'force', 'test')");
    const inFlight = Array.from({ length: 50 }, () => predict({ features: validRow() }));
    const reload = await app.inject({ method: "POST", url: "/reload-model", headers: { "x-api-key": API_KEY } });
    const responses = await Promise.all(inFlight);
    expect(reload.json()).toEqual({ previous_version: "v1", model_version: "v2" });
    expect(responses.every((r) => r.statusCode === 200)).toBe(true);
    expect((await predict({ features: validRow() })).json().model_version).toBe("v2");
    expect(holder.current?.version).toBe("v2");
  });

  it("exposes Prometheus metrics", async () => {
    const text = (await app.inject("/metrics")).body;
    expect(text).toMatch(/mlops_predictions_total\{version="v1",outcome="(positive|negative)"\} \d+/);
    expect(text).toContain("mlops_request_duration_seconds_bucket");
    expect(text).toContain('mlops_model_info{version="v2"} 1');
    expect(text).toContain("mlops_prediction_log_queue");
    expect(text).toMatch(/mlops_model_reloads_total\{result="ok"\} \d/);
  });

  it("speaks the Open Inference Protocol v2", async () => {
    expect((await app.inject("/v2/health/live")).json()).toEqual({ live: true });
    expect((await app.inject("/v2/health/ready")).statusCode).toBe(200);
    expect((await app.inject("/v2/models/mlops")).json()).toMatchObject({ name: "mlops", versions: ["v2"] });
    expect((await app.inject("/v2/models/other")).statusCode).toBe(404);
    const row = validRow();
    const perFeature = await app.inject({
      method: "POST",
      url: "/v2/models/mlops/infer",
      payload: {
        id: "r1",
        inputs: config.features.map((f) => ({ name: f.name, shape: [1], datatype: f.type === "numeric" ? "FP32" : "BYTES", data: [row[f.name]] })),
      },
    });
    expect(perFeature.statusCode).toBe(200);
    expect(perFeature.json()).toMatchObject({
      model_name: "mlops",
      model_version: "v2",
      id: "r1",
      outputs: [
        { name: "probability", shape: [1] },
        { name: "label", shape: [1] },
      ],
    });
    const tensor = await app.inject({
      method: "POST",
      url: "/v2/models/mlops/infer",
      payload: {
        inputs: [
          {
            name: "input",
            shape: [2, 22],
            datatype: "BYTES",
            data: [...config.features.map((f) => row[f.name]), ...config.features.map((f) => row[f.name])],
          },
        ],
      },
    });
    expect(tensor.json().outputs[0].data).toHaveLength(2);
    expect(
      (
        await app.inject({
          method: "POST",
          url: "/v2/models/mlops/infer",
          payload: { inputs: [{ name: "x01", shape: [1], datatype: "FP32", data: ["x"] }] },
        })
      ).statusCode,
    ).toBe(400);
    const numericId = await app.inject({
      method: "POST",
      url: "/v2/models/mlops/infer",
      payload: { id: 5, inputs: [{ name: "input", shape: [1, 22], datatype: "BYTES", data: config.features.map((f) => row[f.name]) }] },
    });
    expect(numericId.statusCode).toBe(400);
    expect(numericId.json().details).toEqual([{ instance: 0, field: "id", problem: "expected a string, got number" }]);
  });

  it("answers 503 while no model is loaded", async () => {
    const empty = await buildApp({
      config,
      databaseUp: async () => true,
      loadModel: async () => {
        throw new Error("none");
      },
    });
    checkEveryAnswer(empty.app);
    expect((await empty.app.inject("/health")).statusCode).toBe(503);
    expect((await empty.app.inject({ method: "POST", url: "/predict", payload: { features: validRow() } })).statusCode).toBe(503);
    await empty.app.close();
  });

  it("applies reloads in the order they were asked for, so a slow load of an older version cannot land last", async () => {
    // Two promotion notices close together: the first load (of v1, the version active when it
    // started) is slow, the second (of v2) is quick. The server must end on v2.
    let active = "v1";
    let loads = 0;
    const ordered = await buildApp({
      config,
      databaseUp: async () => true,
      loadModel: async () => {
        const version = active;
        loads += 1;
        if (loads === 1) await new Promise((resolve) => setTimeout(resolve, 300));
        return loadServingModel(project, client, version);
      },
    });
    const first = ordered.reload();
    while (loads === 0) await new Promise((resolve) => setImmediate(resolve));
    active = "v2";
    const second = ordered.reload();
    expect((await first).current).toBe("v1");
    expect((await second).current).toBe("v2");
    expect(ordered.holder.current?.version).toBe("v2");
    await ordered.app.close();
  });

  it("refuses a model whose files were tampered with", async () => {
    const weights = path.join(project.root, "models", "v1", "weights.bin");
    const bytes = readFileSync(weights);
    bytes[0] = bytes[0]! ^ 0xff;
    writeFileSync(weights, bytes);
    await expect(loadServingModel(project, client, "v1")).rejects.toMatchObject({ code: "MODEL_CHECKSUM_MISMATCH" });
  });
});

describe("prediction log", () => {
  it("keeps no part of a row it could not encode, so the rows around it are still written", async () => {
    const writer = new PredictionLogWriter({ connect: () => connect(db.url), spillDir: path.join(project.root, "spill-encode") });
    const row = (i: number) => ({
      id: `00000000-0000-4000-9000-${String(i).padStart(12, "0")}`,
      versionId: 1,
      requestId: null,
      featuresJson: "{}",
      probability: 0.5,
      label: 1 as const,
      latencyMs: 1,
      createdAt: new Date(),
    });
    writer.add(row(1));
    expect(() => writer.add({ ...row(2), requestId: 7 as unknown as string })).toThrow();
    writer.add(row(3));
    await writer.flush();
    expect(writer.snapshot()).toMatchObject({ databaseUp: true, buffered: 0 });
    await writer.close();
    const stored = await client.query("SELECT count(*)::int AS n FROM predictions WHERE id = ANY($1::uuid[])", [[row(1).id, row(2).id, row(3).id]]);
    expect(stored.rows[0].n).toBe(2);
  });
});

describe("prediction log queue", () => {
  it("counts the rows of a write in progress as buffered until they are in the database", async () => {
    let release!: () => void;
    const connected = new Promise<void>((resolve) => (release = resolve));
    const writer = new PredictionLogWriter({
      connect: async () => (await connected, connect(db.url)),
      spillDir: path.join(project.root, "spill-queue"),
    });
    for (let i = 0; i < 3; i += 1) {
      writer.add({
        id: `00000000-0000-4000-b000-${String(i).padStart(12, "0")}`,
        versionId: 1,
        requestId: null,
        featuresJson: "{}",
        probability: 0.5,
        label: 1,
        latencyMs: 1,
        createdAt: new Date(),
      });
    }
    const flushed = writer.flush();
    expect(writer.snapshot().buffered).toBe(3);
    release();
    await flushed;
    expect(writer.snapshot()).toMatchObject({ buffered: 0, written: 3 });
    await writer.close();
  });
});

describe("prediction log spill replay", () => {
  it("replays the whole rows of a torn file and sets aside a file PostgreSQL refuses, still replaying the others", async () => {
    const spillDir = path.join(project.root, "spill-torn");
    const writer = new PredictionLogWriter({ connect: async () => Promise.reject(new Error("connect ECONNREFUSED")), spillDir });
    const ids = [1, 2, 3].map((i) => `00000000-0000-4000-a000-${String(i).padStart(12, "0")}`);
    for (const id of ids)
      writer.add({ id, versionId: 1, requestId: "r", featuresJson: "{}", probability: 0.5, label: 1, latencyMs: 1, createdAt: new Date() });
    await writer.close();
    const [torn] = await readdir(spillDir);
    // A kill while appending: the start of a fourth row.
    await appendFile(path.join(spillDir, torn!), (await readFile(path.join(spillDir, torn!))).subarray(0, 30));
    // Whole tuples that PostgreSQL refuses (a one-byte uuid), sorted before the torn file.
    const refused = Buffer.alloc(2 + 8 * 5);
    refused.writeInt16BE(8, 0);
    for (let f = 0; f < 8; f += 1) refused.writeInt32BE(1, 2 + f * 5);
    await writeFile(path.join(spillDir, "spill-0.tuples"), refused);

    const notes: string[] = [];
    const next = new PredictionLogWriter({ connect: () => connect(db.url), spillDir, onNote: (note) => notes.push(note) });
    expect(await next.replaySpills()).toBe(3);
    await next.close();
    expect((await client.query("SELECT count(*)::int AS n FROM predictions WHERE id = ANY($1::uuid[])", [ids])).rows[0].n).toBe(3);
    expect(notes).toEqual([
      expect.stringMatching(
        /^spill-0\.tuples: PostgreSQL refused 1 row\(s\) .*; set aside in spill-0\.tuples\.rejected, the other rows were replayed$/,
      ),
      `${torn}: left out a torn last row (30 bytes)`,
    ]);
    expect(await readdir(spillDir)).toEqual(["spill-0.tuples.rejected"]);
  });
});

describe("prediction log while the database is down", () => {
  it("keeps serving into the buffer, spills it at every failed write, and writes every row exactly once when it returns", async () => {
    let up = false;
    const spillDir = path.join(project.root, "spill-fault");
    const writer = new PredictionLogWriter({
      connect: async () => {
        if (!up) throw Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" });
        return connect(db.url);
      },
      spillDir,
    });
    const before = (await client.query("SELECT count(*)::int AS n FROM predictions")).rows[0].n;
    const ids: string[] = [];
    for (let i = 0; i < 350; i += 1) {
      const id = `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`;
      ids.push(id);
      writer.add({ id, versionId: 1, requestId: null, featuresJson: "{}", probability: 0.5, label: 1, latencyMs: 1, createdAt: new Date() });
      if (i % 50 === 49) await writer.flush();
    }
    expect(writer.snapshot().databaseUp).toBe(false);
    expect(writer.snapshot().spilled).toBeGreaterThan(0);
    await writer.close();
    expect(writer.snapshot().buffered).toBe(0);

    // A new writer (the next start) finds the spill files and replays them once the database is up.
    up = true;
    const next = new PredictionLogWriter({ connect: () => connect(db.url), spillDir });
    expect(await next.replaySpills()).toBe(350);
    expect(await next.replaySpills()).toBe(0);
    await next.close();
    const after = await client.query("SELECT count(*)::int AS n FROM predictions WHERE id = ANY($1::uuid[])", [ids]);
    expect(after.rows[0].n).toBe(350);
    expect((await client.query("SELECT count(*)::int AS n FROM predictions")).rows[0].n).toBe(before + 350);
  });
});
