import SwaggerParser from "@apidevtools/swagger-parser";
import { Ajv } from "ajv";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Feature } from "../../src/config/schema.js";
import { servingFixture, type ServingFixture } from "../helpers/serving.js";

// The OpenAPI document is the served version's contract (issue 19).
let fixture: ServingFixture;
let app: FastifyInstance;
let reload: () => Promise<unknown>;
const API_KEY = "openapi-test-key-0123456789abcdef";

/** v2 has another schema: a bounded numeric feature, a nullable category with other values. */
const otherSchema: Feature[] = [
  { name: "age", type: "numeric", min: 18, max: 99, nullable: false },
  { name: "income", type: "numeric", nullable: true },
  { name: "plan", type: "categorical", values: ["basic", "plus", "pro"], nullable: true },
];
const otherProfile = {
  rows: 10,
  features: {
    age: { type: "numeric", count: 10, missing: 0, min: 20, max: 70, mean: 41.25, std: 9, edges: [], proportions: [] },
    income: { type: "numeric", count: 9, missing: 1, min: 0, max: 9, mean: 3.5, std: 1, edges: [], proportions: [] },
    plan: { type: "categorical", count: 10, missing: 0, proportions: { basic: 0.2, plus: 0.7, pro: 0.1 } },
  },
};

beforeAll(async () => {
  fixture = await servingFixture({ rowKey: "customer_id", ignoredColumns: ["signup_note"], serve: { maxBatch: 50 } } as never);
  await fixture.registerModel("v1", 1, 1);
  await fixture.registerModel("v2", 2, 2, 1, { features: otherSchema, profile: otherProfile });
  await fixture.promote(1);
  ({ app, reload } = await fixture.build({ apiKey: API_KEY, projectName: "churn" }));
});
afterAll(async () => {
  await app?.close();
  await fixture?.close();
});

const documentOf = async () => (await app.inject("/docs/json")).json();
// biome-ignore lint/suspicious/noExplicitAny: the document is read by its OpenAPI paths
const predictBody = (document: any) => document.paths["/predict"].post.requestBody.content["application/json"].schema;

describe("the OpenAPI document", () => {
  it("passes a standard OpenAPI validator", async () => {
    const document = await documentOf();
    await expect(SwaggerParser.validate(structuredClone(document))).resolves.toBeTruthy();
    expect(document.info.title).toContain("version v1");
  });

  it("lists each feature of the served version with its type, and the columns the server ignores", async () => {
    const document = await documentOf();
    const instance = document.components.schemas.PredictInstance;
    expect(instance.required).toEqual(fixture.config.features.map((f) => f.name));
    const segment = fixture.config.features.find((f) => f.name === "segment");
    expect(instance.properties.segment).toMatchObject({ type: "string", enum: segment?.type === "categorical" ? segment.values : "not categorical" });
    expect(instance.properties.x01.type).toBe("number");
    expect(Object.keys(instance.properties)).toEqual(expect.arrayContaining(["customer_id", "signup_note", fixture.config.label.name]));
    expect(instance.additionalProperties).toBe(false);
    expect(predictBody(document).properties.instances.maxItems).toBe(50);
  });

  it("follows a promotion to a version with another schema, without a restart", async () => {
    await fixture.promote(2);
    await reload();
    try {
      const document = await documentOf();
      await expect(SwaggerParser.validate(structuredClone(document))).resolves.toBeTruthy();
      expect(document.info.title).toContain("version v2");
      const instance = document.components.schemas.PredictInstance;
      expect(instance.required).toEqual(["age", "income", "plan"]);
      expect(instance.properties.age).toMatchObject({ type: "number", minimum: 18, maximum: 99 });
      expect(instance.properties.income).toMatchObject({ type: "number", nullable: true });
      expect(instance.properties.plan).toMatchObject({ type: "string", enum: ["basic", "plus", "pro", null], nullable: true });
      // The example is the profile's typical row, and the document's own schema accepts it.
      const body = predictBody(document);
      expect(body.example).toEqual({ features: { age: 41.25, income: 3.5, plan: "plus" } });
      const ajv = new Ajv({ strict: false });
      ajv.addSchema({ $id: "openapi", components: document.components });
      const validate = ajv.compile(JSON.parse(JSON.stringify(body).replaceAll('"#/components/', '"openapi#/components/')));
      expect(validate(body.example), JSON.stringify(validate.errors)).toBe(true);
      expect(validate({ features: { age: 12, income: null, plan: "basic" } })).toBe(false);
      // The server checks requests against the same schema: the example is served, a row of
      // the config file's schema is not.
      const post = (payload: object) => app.inject({ method: "POST", url: "/predict", payload, headers: { "content-type": "application/json" } });
      const served = await post(body.example);
      expect(served.statusCode, served.body).toBe(200);
      expect(served.json().model_version).toBe("v2");
      expect((await post({ features: { age: 30, income: null, plan: null } })).statusCode).toBe(200);
      const old = await post({ features: fixture.validRow() });
      expect(old.statusCode).toBe(400);
      expect(old.json().details).toContainEqual({ instance: 0, field: "age", problem: "missing" });
    } finally {
      await fixture.promote(1);
      await reload();
    }
  });

  it("gives a working example row: /predict accepts it", async () => {
    const example = predictBody(await documentOf()).example;
    const response = await app.inject({ method: "POST", url: "/predict", payload: example, headers: { "content-type": "application/json" } });
    expect(response.statusCode, response.body).toBe(200);
  });

  it("describes the answers and the API key of each route", async () => {
    const document = await documentOf();
    expect(Object.keys(document.paths["/predict"].post.responses).sort()).toEqual(["200", "400", "413", "415", "500", "503"]);
    const reloadOperation = document.paths["/reload-model"].post;
    expect(Object.keys(reloadOperation.responses)).toEqual(expect.arrayContaining(["200", "401", "403", "409"]));
    expect(reloadOperation.security).toEqual([{ apiKey: [] }, { bearer: [] }]);
    expect(document.components.securitySchemes.bearer).toMatchObject({ type: "http", scheme: "bearer" });
    expect(document.components.schemas.Error.properties.details.items.required).toEqual(["instance", "field", "problem"]);
    expect(Object.keys(document.paths["/metrics"].get.responses["200"].content)).toEqual(["text/plain"]);
  });
});

describe("every answer checked against the document", () => {
  it("accepts the server's real answers of each route and status", async () => {
    const row = fixture.validRow();
    const json = { "content-type": "application/json" };
    // Each inject below goes through the fixture's contract check: an undocumented answer throws.
    for (const request of [
      { method: "GET", url: "/health" },
      { method: "GET", url: "/model-info" },
      { method: "GET", url: "/metrics" },
      { method: "POST", url: "/predict", payload: { features: row }, headers: json },
      { method: "POST", url: "/predict", payload: { instances: [row, row] }, headers: json },
      { method: "POST", url: "/predict", payload: { features: { ...row, x01: "one" } }, headers: json },
      { method: "POST", url: "/predict", payload: "{not json", headers: json },
      { method: "POST", url: "/predict", payload: "text", headers: { "content-type": "text/plain" } },
      { method: "GET", url: "/predict" },
      { method: "GET", url: "/nowhere" },
      { method: "POST", url: "/reload-model" },
      { method: "POST", url: "/reload-model", headers: { "x-api-key": API_KEY } },
      { method: "GET", url: "/v2" },
      { method: "GET", url: "/v2/health/live" },
      { method: "GET", url: "/v2/health/ready" },
      { method: "GET", url: "/v2/models/mlops" },
      { method: "GET", url: "/v2/models/other" },
      { method: "GET", url: "/v2/models/mlops/ready" },
      { method: "POST", url: "/v2/models/mlops/infer", payload: { inputs: [{ name: "x", shape: [2], datatype: "FP32", data: [1] }] }, headers: json },
    ] as const) {
      const response = await app.inject(request as never);
      expect(response.statusCode).toBeLessThan(500);
    }
  });

  it("fails a test whose answer the document does not describe", async () => {
    // A route added without documenting its answers: the check must refuse what it returns.
    const { app: other } = await fixture.build();
    try {
      const { checkAgainstDocument } = await import("../helpers/openapi-contract.js");
      const inject = other.inject.bind(other);
      const health = await inject("/health");
      const tampered = { ...health, statusCode: 418 } as typeof health;
      await expect(checkAgainstDocument(inject, "GET", "/health", tampered)).rejects.toThrow("does not list");
      const wrongBody = { ...health, json: () => ({ status: "fine" }) } as typeof health;
      await expect(checkAgainstDocument(inject, "GET", "/health", wrongBody)).rejects.toThrow("does not match");
    } finally {
      await other.close();
    }
  });
});

describe("/docs", () => {
  it("shows the project and the served version in its title and loads nothing from the network", async () => {
    const page = await app.inject("/docs/");
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain("<title>churn: mlops prediction server, version v1</title>");
    const assets = [...page.body.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(assets.length).toBeGreaterThan(2);
    for (const asset of assets) {
      expect(asset).not.toMatch(/^(https?:)?\/\//);
      expect((await app.inject(new URL(asset, "http://server/docs/").pathname)).statusCode, asset).toBe(200);
    }
    // Comments aside (one cites a web page), the page's script names no address on the network,
    // and Swagger UI's validator badge (validator.swagger.io) is off.
    const initializer = (await app.inject("/docs/static/swagger-initializer.js")).body.replace(/^\s*\/\/.*$/gm, "");
    expect(initializer).not.toMatch(/https?:\/\//);
    expect(initializer).toContain("validatorUrl: null");
  });
});
