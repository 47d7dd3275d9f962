import { spawnSync } from "node:child_process";
import { readdir, stat } from "node:fs/promises";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { activeVersionName } from "../../src/server/active-version.js";
import { PredictionLogWriter } from "../../src/server/prediction-log.js";
import { connect } from "../helpers/database.js";
import { servingFixture, type ServingFixture } from "../helpers/serving.js";

let fixture: ServingFixture;
let app: FastifyInstance;
let log: PredictionLogWriter;
let spillDir: string;
const notes: string[] = [];
const API_KEY = "log-test-key-0123456789abcdef";

beforeAll(async () => {
  fixture = await servingFixture();
  await fixture.registerModel("v1", 1, 1);
  await fixture.registerModel("v2", 2, 2);
  await fixture.promote(1);
  spillDir = path.join(fixture.project.root, ".mlops", "prediction-spill");
  log = new PredictionLogWriter({ connect: () => connect(fixture.db.url), spillDir, onNote: (note) => notes.push(note) });
  ({ app } = await fixture.build({ log, apiKey: API_KEY, activeVersion: () => activeVersionName(fixture.client) }));
});
afterAll(async () => {
  await app?.close();
  await log?.close();
  await fixture?.close();
});

const predict = (payload: object) => app.inject({ method: "POST", url: "/predict", payload, headers: { "content-type": "application/json" } });

describe("a batch PostgreSQL refuses", () => {
  it("is split so that only the bad row is set aside; every other row is logged and the bad one counted", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 30; i += 1) {
      const response = await predict({ features: fixture.validRow(), request_id: `r${i}` });
      expect(response.statusCode).toBe(200);
      ids.push(response.json().prediction_id);
      // Below the HTTP layer (which refuses it): a row whose text PostgreSQL cannot store.
      if (i === 17)
        log.add({
          id: "00000000-0000-4000-8000-00000000bad0",
          versionId: 1,
          requestId: "bad\u0000row",
          featuresJson: "{}",
          probability: 0.5,
          label: 1,
          latencyMs: 1,
          createdAt: new Date(),
        });
    }
    await log.flush();
    expect(log.snapshot()).toMatchObject({ databaseUp: true, buffered: 0, rejected: 1 });
    const logged = await fixture.client.query("SELECT count(*)::int AS n FROM predictions WHERE id = ANY($1::uuid[])", [ids]);
    expect(logged.rows[0].n).toBe(30);
    expect(notes.join("\n")).toMatch(/PostgreSQL refused 1 row\(s\) \(invalid byte sequence for encoding "UTF8": 0x00\)/);
    const rejected = (await readdir(spillDir)).filter((f) => f.endsWith(".rejected"));
    expect(rejected).toHaveLength(1);
    expect((await stat(path.join(spillDir, rejected[0]!))).mode & 0o777).toBe(0o600);
    expect((await stat(spillDir)).mode & 0o777).toBe(0o700);
    const exposition = (await app.inject("/metrics")).body;
    expect(exposition).toMatch(/^mlops_prediction_log_rejected_total 1$/m);
    // The whole served exposition, log metrics included, passes Prometheus's checker where it is installed.
    const promtool = spawnSync("promtool", ["check", "metrics"], { input: exposition, encoding: "utf8" });
    if (!promtool.error) expect(`${promtool.stdout}${promtool.stderr}`.trim()).toBe("");
    // The log goes on: later rows are written as usual.
    const after = await predict({ features: fixture.validRow() });
    await log.flush();
    expect((await fixture.client.query("SELECT count(*)::int AS n FROM predictions WHERE id = $1", [after.json().prediction_id])).rows[0].n).toBe(1);
  });
});

describe("a spill file holding a row PostgreSQL refuses", () => {
  it("is replayed but for that row, which is set aside and counted", async () => {
    const dir = path.join(fixture.project.root, "spill-bisect");
    const down = new PredictionLogWriter({ connect: async () => Promise.reject(new Error("connect ECONNREFUSED")), spillDir: dir });
    const ids = Array.from({ length: 9 }, (_, i) => `00000000-0000-4000-8000-0000000001${String(i).padStart(2, "0")}`);
    ids.forEach((id, i) =>
      down.add({
        id,
        versionId: 1,
        requestId: i === 4 ? "nul\u0000" : `ok${i}`,
        featuresJson: "{}",
        probability: 0.5,
        label: 1,
        latencyMs: 1,
        createdAt: new Date(),
      }),
    );
    await down.close();
    const replayNotes: string[] = [];
    const next = new PredictionLogWriter({ connect: () => connect(fixture.db.url), spillDir: dir, onNote: (note) => replayNotes.push(note) });
    expect(await next.replaySpills()).toBe(8);
    expect(next.snapshot().rejected).toBe(1);
    await next.close();
    expect((await fixture.client.query("SELECT count(*)::int AS n FROM predictions WHERE id = ANY($1::uuid[])", [ids])).rows[0].n).toBe(8);
    expect(replayNotes).toEqual([expect.stringMatching(/PostgreSQL refused 1 row\(s\) .*the other rows were replayed$/)]);
    expect((await readdir(dir)).every((f) => f.endsWith(".tuples.rejected"))).toBe(true);
  });
});

describe("/health", () => {
  it("says degraded, naming both versions, when the registry's active version failed to load", async () => {
    expect((await app.inject("/health")).json()).toMatchObject({ status: "ok", model_version: "v1", active_version: "v1" });
    // v2's weights no longer match their checksum: promoted anyway (directly in the registry), the reload fails.
    const weights = path.join(fixture.project.root, "models", "v2", "weights.bin");
    const bytes = readFileSync(weights);
    bytes[0] = bytes[0]! ^ 0xff;
    writeFileSync(weights, bytes);
    await fixture.promote(2);
    expect((await app.inject({ method: "POST", url: "/reload-model", headers: { "x-api-key": API_KEY } })).statusCode).toBe(409);
    const health = await app.inject("/health");
    expect(health.statusCode).toBe(200);
    expect(health.json()).toMatchObject({ status: "degraded", model_version: "v1", active_version: "v2" });
    expect(health.json().problem).toContain("active version is v2 but this server has v1 loaded");
  });
});
