import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/load.js";
import { sampleConfig } from "../../src/config/sample.js";
import { ExitCode, MlopsError } from "../../src/errors.js";

const parse = (value: unknown) => parseConfig(JSON.stringify(value), "mlops.config.json");

function problemsOf(value: unknown): string[] {
  try {
    parse(value);
  } catch (error) {
    expect(error).toBeInstanceOf(MlopsError);
    expect((error as MlopsError).exitCode).toBe(ExitCode.usage);
    return ((error as MlopsError).details?.problems as string[]) ?? [];
  }
  throw new Error("expected the config to be rejected");
}

describe("config", () => {
  it("accepts the sample config init writes, with 20 numeric and 2 categorical features", () => {
    const config = parse(sampleConfig());
    expect(config.features.filter((f) => f.type === "numeric")).toHaveLength(20);
    expect(config.features.filter((f) => f.type === "categorical")).toHaveLength(2);
    expect(config.gate.f1Threshold).toBe(0.8);
    expect(config.serve.port).toBe(8000);
  });

  it("gives an omitted section the settings init writes out in full", () => {
    const { gate, model, serve, database, ...minimal } = sampleConfig();
    const config = parse(minimal);
    const full = parse(sampleConfig());
    expect(config.gate).toEqual(full.gate);
    expect(config.model).toEqual(full.model);
    expect(config.serve).toEqual(full.serve);
    expect(config.database).toEqual(full.database);
  });

  it("lists every problem with its path", () => {
    // biome-ignore lint/suspicious/noExplicitAny: a config broken on purpose, field by field.
    const broken = sampleConfig() as unknown as Record<string, any>;
    broken.gate.f1Threshold = 1.5;
    broken.serve.port = "eighty";
    broken.features[1].name = "x01";
    broken.colour = "blue";
    const problems = problemsOf(broken);
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^gate\.f1Threshold: /),
        expect.stringMatching(/^serve\.port: /),
        expect.stringMatching(/^features\.1\.name: duplicate feature name "x01"/),
        expect.stringMatching(/^\(top level\): .*colour/),
      ]),
    );
  });

  it("rejects a label that is also a feature and equal label values", () => {
    const broken = sampleConfig();
    broken.label = { name: "x02", positive: 1, negative: 1 };
    const problems = problemsOf(broken);
    expect(problems.some((p) => p.startsWith("label.negative"))).toBe(true);
  });

  it("reports invalid JSON as a usage error naming the file", () => {
    expect(() => parseConfig("{ not json", "/p/mlops.config.json")).toThrowError(/\/p\/mlops.config.json is not valid JSON/);
  });
});
