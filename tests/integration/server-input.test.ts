import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { servingFixture, type ServingFixture } from "../helpers/serving.js";

// What reaches the log must be storable, numbers must fit the model, bodies must be shallow,
// and the v2 routes must follow the protocol (issues 12 and 14).
let fixture: ServingFixture;
let app: FastifyInstance;
let tiny: FastifyInstance;
const API_KEY = "input-test-key-0123456789abcdef";

beforeAll(async () => {
  fixture = await servingFixture({ rowKey: "customer_id", ignoredColumns: ["signup_note"] } as never);
  await fixture.registerModel("v1", 1, 1);
  // A version whose numeric features have a tiny spread: 1e36 fits float32 but its standardised value does not.
  await fixture.registerModel("v2", 2, 2, 1e-3);
  await fixture.promote(1);
  ({ app } = await fixture.build({ apiKey: API_KEY }));
  await fixture.promote(2);
  ({ app: tiny } = await fixture.build());
});
afterAll(async () => {
  await app?.close();
  await tiny?.close();
  await fixture?.close();
});

const post = (url: string, payload: string | object, headers: Record<string, string> = {}, on = app) =>
  on.inject({ method: "POST", url, payload, headers: { "content-type": "application/json", ...headers } });
const details = (response: { json(): { details?: Array<{ field: string; problem: string }> } }) => response.json().details ?? [];
const tensor = (row: Record<string, unknown>, extra: object = {}) => ({
  inputs: [{ name: "input", shape: [1, fixture.config.features.length], datatype: "BYTES", data: fixture.config.features.map((f) => row[f.name]) }],
  ...extra,
});

describe("text that reaches the prediction log", () => {
  it("refuses a NUL or a lone surrogate in request ids with a 400 naming the field", async () => {
    const row = fixture.validRow();
    const nul = await post("/predict", { features: row, request_id: "a\u0000b" });
    expect(nul.statusCode).toBe(400);
    expect(details(nul)).toEqual([{ instance: 0, field: "request_id", problem: expect.stringContaining("NUL") }]);
    // A lone surrogate, as JSON escapes it.
    const surrogate = await post("/predict", `{"features": ${JSON.stringify(row)}, "request_id": "x\\ud800"}`);
    expect(surrogate.statusCode).toBe(400);
    expect(details(surrogate)[0]).toMatchObject({ field: "request_id", problem: expect.stringContaining("surrogate") });
    const v2 = await post("/v2/models/mlops/infer", tensor(row, { id: "\u0000" }));
    expect(v2.statusCode).toBe(400);
    expect(details(v2)[0]).toMatchObject({ field: "id", problem: expect.stringContaining("NUL") });
    const category = await post("/predict", { features: { ...row, segment: "a\u0000" } });
    expect(category.statusCode).toBe(400);
    expect(details(category)[0]).toMatchObject({ field: "segment" });
  });
});

describe("numbers beyond float32", () => {
  it("answers 400 naming the field, never probability null", async () => {
    const row = fixture.validRow();
    for (const value of ["3.5e38", "1e39", "-1e300"]) {
      const response = await post("/predict", JSON.stringify({ features: row }).replace(/"x01":[^,]+/, `"x01":${value}`));
      expect(response.statusCode, value).toBe(400);
      expect(details(response), value).toEqual([{ instance: 0, field: "x01", problem: expect.stringContaining("float32") }]);
    }
    expect((await post("/predict", { features: { ...row, x01: 3.4e38 } })).statusCode).toBe(200);
    const v2 = await post("/v2/models/mlops/infer", tensor({ ...row, x02: 1e39 }));
    expect(v2.statusCode).toBe(400);
    expect(details(v2)[0]).toMatchObject({ field: "x02" });
  });

  it("clips a value in float32's range but far outside the training data, so it cannot overflow, in single rows and batches", async () => {
    // Preprocessing clips each numeric feature to the training split's 0.1%/99.9% quantiles before
    // standardising (issue 13): 1e36 and 1e30 both land on the upper bound, so they score the same.
    const row = fixture.validRow();
    const huge = await post("/predict", { features: { ...row, x03: 1e36 } }, {}, tiny);
    const large = await post("/predict", { features: { ...row, x03: 1e30 } }, {}, tiny);
    expect(huge.statusCode).toBe(200);
    expect(Number.isFinite(huge.json().probability)).toBe(true);
    expect(huge.json().probability).toBe(large.json().probability);
    const batch = await post("/predict", { instances: [row, { ...row, x04: -1e37 }, { ...row, x04: -1e30 }] }, {}, tiny);
    expect(batch.statusCode).toBe(200);
    const [, lowest, low] = batch.json().predictions as Array<{ probability: number }>;
    expect(Number.isFinite(lowest!.probability)).toBe(true);
    expect(lowest!.probability).toBe(low!.probability);
  });
});

describe("deep nesting", () => {
  it("answers 400 for a body nested deeper than 64 levels, even 400,000 deep", async () => {
    const nested = `${"[".repeat(400_000)}${"]".repeat(400_000)}`;
    for (const deep of [
      `{"features": ${nested}}`,
      JSON.stringify({ features: { ...fixture.validRow(), segment: 0 } }).replace('"segment":0', `"segment":${nested}`),
    ]) {
      const response = await post("/predict", deep);
      expect(response.statusCode).toBe(400);
      expect(response.json().error).toContain("deeper than 64");
    }
    const v2 = await post(
      "/v2/models/mlops/infer",
      `{"inputs": [{"name": "x01", "shape": [1], "datatype": "FP32", "data": ${"[".repeat(70)}1${"]".repeat(70)}}]}`,
    );
    expect(v2.statusCode).toBe(400);
    // Brackets inside strings are not nesting.
    const inString = await post("/predict", { features: fixture.validRow(), request_id: "[".repeat(200) });
    expect(inString.statusCode).toBe(200);
  });
});

describe("the Open Inference Protocol routes", () => {
  it("answers 405 to GET on the infer route, with Allow", async () => {
    const response = await app.inject({ method: "GET", url: "/v2/models/mlops/infer" });
    expect(response.statusCode).toBe(405);
    expect(response.headers.allow).toBe("POST");
    expect((await app.inject({ method: "DELETE", url: "/v2/models/mlops" })).statusCode).toBe(405);
    expect((await app.inject({ method: "GET", url: "/v2/models/mlops/nowhere" })).statusCode).toBe(404);
  });

  it("checks the declared shape against the data", async () => {
    const row = fixture.validRow();
    const perFeature = (shape: number[]) =>
      post("/v2/models/mlops/infer", {
        inputs: fixture.config.features.map((f) => ({ name: f.name, shape: f.name === "x01" ? shape : [1], datatype: "FP32", data: [row[f.name]] })),
      });
    const wrong = await perFeature([4]);
    expect(wrong.statusCode).toBe(400);
    expect(wrong.json().error).toBe('input "x01": shape [4] declares 4 values, data holds 1');
    expect((await perFeature([1, 1])).statusCode).toBe(200);
    const bad2d = await post("/v2/models/mlops/infer", {
      inputs: [{ name: "input", shape: [2, 22], datatype: "BYTES", data: fixture.config.features.map((f) => row[f.name]) }],
    });
    expect(bad2d.statusCode).toBe(400);
    expect((await post("/v2/models/mlops/infer", { inputs: [{ name: "x01", shape: [-1], datatype: "FP32", data: [1] }] })).statusCode).toBe(400);
    const datatype = await post("/v2/models/mlops/infer", { inputs: [{ name: "x01", shape: [1], datatype: "FLOAT", data: [1] }] });
    expect(datatype.statusCode).toBe(400);
    expect(datatype.json().error).toContain('unknown datatype "FLOAT"');
  });

  it("documents the infer request in the OpenAPI document", async () => {
    const document = (await app.inject("/docs/json")).json();
    const body = document.paths["/v2/models/{name}/infer"].post.requestBody.content["application/json"].schema;
    expect(body.required).toEqual(["inputs"]);
    expect(body.properties.inputs.items.required).toEqual(["name", "shape", "datatype", "data"]);
  });

  it("answers only the outputs the request asks for", async () => {
    const row = fixture.validRow();
    const labelOnly = await post("/v2/models/mlops/infer", tensor(row, { outputs: [{ name: "label" }] }));
    expect(labelOnly.statusCode).toBe(200);
    expect(labelOnly.json().outputs.map((o: { name: string }) => o.name)).toEqual(["label"]);
    const both = await post("/v2/models/mlops/infer", tensor(row));
    expect(both.json().outputs.map((o: { name: string }) => o.name)).toEqual(["probability", "label"]);
    const unknown = await post("/v2/models/mlops/infer", tensor(row, { outputs: [{ name: "logits" }] }));
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json().error).toContain('unknown output "logits"');
  });
});

describe("the API key", () => {
  it("is accepted as X-API-Key or Authorization: Bearer, not as a bare Authorization value", async () => {
    const reload = (headers: Record<string, string>) => app.inject({ method: "POST", url: "/reload-model", headers });
    expect((await reload({ authorization: API_KEY })).statusCode).toBe(401);
    expect((await reload({ authorization: `Basic ${API_KEY}` })).statusCode).toBe(401);
    expect((await reload({ authorization: `Bearer ${API_KEY}` })).statusCode).toBe(200);
    expect((await reload({ "x-api-key": API_KEY })).statusCode).toBe(200);
  });
});

describe("the user's own rows", () => {
  it("accepts and ignores the row key, the label and the ignored columns, logging the features only", async () => {
    const row = fixture.validRow();
    const response = await post("/predict", { features: { customer_id: "C-17", ...row, label: 1, signup_note: "called twice" } });
    expect(response.statusCode, response.body).toBe(200);
    const unknown = await post("/predict", { features: { ...row, shoe_size: 44 } });
    expect(unknown.statusCode).toBe(400);
    expect(details(unknown)).toEqual([{ instance: 0, field: "shoe_size", problem: "unknown field (not in the feature schema)" }]);
  });

  it("lists every bad field, of the body and of each instance", async () => {
    const row = fixture.validRow();
    const response = await post("/predict", {
      instances: [
        { ...row, x01: "one", segment: "zz" },
        { ...row, x02: undefined },
      ],
      request_id: 7,
      extra: true,
    });
    expect(response.statusCode).toBe(400);
    expect(
      details(response)
        .map((d) => `${(d as { instance?: number }).instance}:${d.field}`)
        .sort(),
    ).toEqual(["0:extra", "0:request_id", "0:segment", "0:x01", "1:x02"]);
  });
});
