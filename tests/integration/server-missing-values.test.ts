import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sampleConfig } from "../../src/config/sample.js";
import { servingFixture, type ServingFixture } from "../helpers/serving.js";

// `collect` reads an empty cell ("", "NA", "null", ...) as a missing value and stores the row;
// /predict must take the same row as sent, or a project built from a user's CSV fails its own
// checklist (which posts a stored row).
let fixture: ServingFixture;
let app: FastifyInstance;

beforeAll(async () => {
  const features = sampleConfig().features.map((f) => (f.name === "x01" || f.name === "segment" ? { ...f, nullable: true } : f));
  fixture = await servingFixture({ features });
  await fixture.registerModel("v1", 1, 1);
  await fixture.promote(1);
  ({ app } = await fixture.build());
});
afterAll(async () => {
  await app?.close();
  await fixture?.close();
});

const predict = (features: Record<string, unknown>) =>
  app.inject({ method: "POST", url: "/predict", payload: { features }, headers: { "content-type": "application/json" } });

describe("empty values on /predict", () => {
  it("takes an empty cell in a nullable feature as missing, scoring it like null", async () => {
    const row = fixture.validRow();
    const asNull = await predict({ ...row, x01: null, segment: null });
    expect(asNull.statusCode).toBe(200);
    for (const empty of ["", "  ", "NA", "null"]) {
      const response = await predict({ ...row, x01: empty, segment: empty });
      expect(response.statusCode, empty).toBe(200);
      expect(response.json().probability).toBe(asNull.json().probability);
    }
  });

  it("refuses an empty cell in a feature that is not nullable, naming it", async () => {
    const response = await predict({ ...fixture.validRow(), x02: "", channel: "NA" });
    expect(response.statusCode).toBe(400);
    expect(response.json().details).toEqual([
      { instance: 0, field: "x02", problem: '"" (no value), but the feature is not nullable' },
      { instance: 0, field: "channel", problem: '"NA" (no value), but the feature is not nullable' },
    ]);
  });
});
