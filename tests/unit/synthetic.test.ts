import { describe, expect, it } from "vitest";
import { sampleConfig } from "../../src/config/sample.js";
import type { Feature, MlopsConfig } from "../../src/config/schema.js";
import { generateRows, trueProbability, type SyntheticOptions } from "../../src/data/synthetic.js";
import type { RawRow } from "../../src/data/types.js";
import { ExitCode, MlopsError } from "../../src/errors.js";

const sample = sampleConfig();

function rowsOf(config: MlopsConfig, options: Partial<SyntheticOptions> = {}): RawRow[] {
  return [...generateRows(config, { rows: 2000, seed: 7, drift: 0, unlabeledFraction: 0, ...options })];
}

function withFeatures(features: Feature[], label: MlopsConfig["label"] = sample.label): MlopsConfig {
  return { ...sampleConfig(), features, label };
}

/** F1 of `predict` against the labelled rows, positive meaning the config's positive value. */
function f1(config: MlopsConfig, rows: RawRow[], predict: (row: RawRow) => boolean): number {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  for (const row of rows) {
    const label = row[config.label.name];
    if (label === null) continue;
    const actual = label === config.label.positive;
    const predicted = predict(row);
    if (predicted && actual) tp += 1;
    else if (predicted) fp += 1;
    else if (actual) fn += 1;
  }
  return (2 * tp) / (2 * tp + fp + fn);
}

const positiveRate = (config: MlopsConfig, rows: RawRow[]) =>
  rows.filter((row) => row[config.label.name] === config.label.positive).length / rows.length;

const mean = (values: number[]) => values.reduce((sum, v) => sum + v, 0) / values.length;
const sd = (values: number[]) => {
  const centre = mean(values);
  return Math.sqrt(mean(values.map((v) => (v - centre) ** 2)));
};

describe("synthetic rows", () => {
  it("are the same for the same seed and differ for another seed", () => {
    const first = rowsOf(sample, { rows: 300, seed: 123 });
    expect(rowsOf(sample, { rows: 300, seed: 123 })).toEqual(first);
    const other = rowsOf(sample, { rows: 300, seed: 124 });
    expect(other.filter((row, i) => row.x01 === first[i]?.x01).length).toBeLessThan(5);
    // A longer run starts with the shorter one's rows, so `seed 1000` is a prefix of `seed 5000`.
    expect(rowsOf(sample, { rows: 600, seed: 123 }).slice(0, 300)).toEqual(first);
  });

  it("leave the features untouched when only the unlabelled share changes", () => {
    const labelled = rowsOf(sample, { rows: 500 });
    const partly = rowsOf(sample, { rows: 500, unlabeledFraction: 0.5 });
    partly.forEach((row, i) => {
      const { label, ...features } = row;
      const { label: original, ...originalFeatures } = labelled[i] as RawRow;
      expect(features).toEqual(originalFeatures);
      if (label !== null) expect(label).toBe(original);
    });
  });

  it("hold every feature of the schema in schema order, then the label", () => {
    const rows = rowsOf(sample, { rows: 1000 });
    const columns = [...sample.features.map((f) => f.name), "label"];
    for (const row of rows) {
      expect(Object.keys(row)).toEqual(columns);
      for (const feature of sample.features) {
        const value = row[feature.name];
        if (feature.type === "numeric") expect(Number.isFinite(value)).toBe(true);
        else expect(feature.values).toContain(value);
      }
      expect([0, 1]).toContain(row.label);
    }
    // Every category occurs, and numeric columns differ in location and scale like real data.
    expect(new Set(rows.map((r) => r.segment))).toEqual(new Set(["a", "b", "c", "d"]));
    const numericNames = sample.features.filter((f) => f.type === "numeric").map((f) => f.name);
    const spreads = numericNames.map((name) => sd(rows.map((r) => r[name] as number)));
    const centres = numericNames.map((name) => mean(rows.map((r) => r[name] as number)));
    expect(Math.max(...spreads) / Math.min(...spreads)).toBeGreaterThan(5);
    expect(Math.max(...centres) - Math.min(...centres)).toBeGreaterThan(30);
  });

  it("respect numeric bounds, even under drift", () => {
    const config = withFeatures([
      { name: "age", type: "numeric", min: 18, max: 90, nullable: false },
      { name: "income", type: "numeric", min: 0, nullable: false },
      { name: "debt", type: "numeric", max: 0, nullable: false },
      { name: "constant", type: "numeric", min: 3, max: 3, nullable: false },
      { name: "plan", type: "categorical", values: ["basic", "pro"], nullable: false },
    ]);
    for (const drift of [0, 1]) {
      const rows = rowsOf(config, { drift });
      for (const row of rows) {
        expect(row.age).toBeGreaterThanOrEqual(18);
        expect(row.age).toBeLessThanOrEqual(90);
        expect(row.income).toBeGreaterThanOrEqual(0);
        expect(row.debt).toBeLessThanOrEqual(0);
        expect(row.constant).toBe(3);
        expect(["basic", "pro"]).toContain(row.plan);
      }
      // Bounds shape the distribution; they do not swallow it.
      expect(rows.filter((r) => r.age === 18 || r.age === 90).length).toBeLessThan(rows.length * 0.1);
    }
  });

  it("round numeric values to at most four decimals", () => {
    for (const row of rowsOf(sample, { rows: 200 })) {
      expect(Math.round((row.x05 as number) * 1e4) / 1e4).toBe(row.x05);
    }
  });

  it("leave the asked share of rows unlabelled and label the rest", () => {
    const rows = rowsOf(sample, { rows: 10_000, unlabeledFraction: 0.3 });
    const unlabelled = rows.filter((r) => r.label === null).length / rows.length;
    expect(unlabelled).toBeGreaterThan(0.28);
    expect(unlabelled).toBeLessThan(0.32);
    expect(rowsOf(sample, { unlabeledFraction: 1 }).every((r) => r.label === null)).toBe(true);
    expect(rowsOf(sample).some((r) => r.label === null)).toBe(false);
  });

  it("write the config's own label values, strings included", () => {
    const config = withFeatures(sample.features, { name: "churned", positive: "yes", negative: "no" });
    const rows = rowsOf(config);
    expect(new Set(rows.map((r) => r.churned))).toEqual(new Set(["yes", "no"]));
    expect(rows.every((r) => !("label" in r))).toBe(true);
    // The same world as the sample schema: only the label's spelling differs.
    expect(rows.map((r) => r.churned === "yes")).toEqual(rowsOf(sample).map((r) => r.label === 1));
  });

  it("lead with a row key unique per row when the schema names one", () => {
    const config: MlopsConfig = { ...sampleConfig(), rowKey: "id" };
    const rows = rowsOf(config, { rows: 500, seed: 9 });
    expect(Object.keys(rows[0] as RawRow)[0]).toBe("id");
    expect(new Set(rows.map((r) => r.id)).size).toBe(500);
    expect(rows[0]?.id).not.toBe(rowsOf(config, { rows: 1, seed: 10 })[0]?.id);
  });

  it("reject options outside their ranges as usage errors", () => {
    const bad: Partial<SyntheticOptions>[] = [{ rows: -1 }, { rows: 1.5 }, { seed: 2 ** 32 }, { drift: 1.2 }, { unlabeledFraction: Number.NaN }];
    for (const options of bad) {
      const attempt = () => generateRows(sample, { rows: 10, seed: 1, drift: 0, unlabeledFraction: 0, ...options });
      expect(attempt).toThrow(MlopsError);
      try {
        attempt();
      } catch (error) {
        expect((error as MlopsError).exitCode).toBe(ExitCode.usage);
      }
    }
  });
});

describe("the labelling rule", () => {
  const calm = rowsOf(sample, { rows: 20_000, seed: 11 });
  const drifted = rowsOf(sample, { rows: 20_000, seed: 12, drift: 1 });
  const bayes = (drift: number) => (row: RawRow) => trueProbability(sample, row, drift) > 0.5;

  it("labels a minority of rows positive, so always saying positive scores poorly", () => {
    const rate = positiveRate(sample, calm);
    expect(rate).toBeGreaterThan(0.3);
    expect(rate).toBeLessThan(0.5);
    expect(f1(sample, calm, () => true)).toBeLessThan(0.75);
    const driftedRate = positiveRate(sample, drifted);
    expect(driftedRate).toBeGreaterThan(0.25);
    expect(driftedRate).toBeLessThan(0.6);
  });

  it("is learnable: the Bayes-optimal decision reaches an F1 of at least 0.9", () => {
    expect(f1(sample, calm, bayes(0))).toBeGreaterThanOrEqual(0.9);
    expect(f1(sample, calm, bayes(0))).toBeLessThan(0.99); // the labels carry noise
    expect(f1(sample, drifted, bayes(1))).toBeGreaterThanOrEqual(0.9);
  });

  it("defeats a model of the drift-0 world on drifted rows", () => {
    expect(f1(sample, drifted, bayes(0))).toBeLessThan(0.7);
    const halfway = rowsOf(sample, { rows: 20_000, seed: 13, drift: 0.5 });
    const stale = f1(sample, halfway, bayes(0));
    expect(stale).toBeLessThan(f1(sample, calm, bayes(0)) - 0.1);
    expect(stale).toBeGreaterThan(f1(sample, drifted, bayes(0)));
  });

  it("shifts feature distributions and category frequencies under drift", () => {
    const numericNames = sample.features.filter((f) => f.type === "numeric").map((f) => f.name);
    const shifts = numericNames.map((name) => {
      const before = calm.map((r) => r[name] as number);
      const after = drifted.map((r) => r[name] as number);
      return Math.abs(mean(after) - mean(before)) / sd(before);
    });
    expect(shifts.filter((s) => s > 0.4).length).toBeGreaterThan(numericNames.length / 2);
    const share = (rows: RawRow[], value: string) => rows.filter((r) => r.channel === value).length / rows.length;
    const moved = ["web", "store", "app"].map((value) => Math.abs(share(drifted, value) - share(calm, value)));
    expect(Math.max(...moved)).toBeGreaterThan(0.15);
  });

  it("reads values as a CSV source delivers them, as strings", () => {
    for (const row of calm.slice(0, 50)) {
      const asText = Object.fromEntries(Object.entries(row).map(([k, v]) => [k, String(v)]));
      expect(trueProbability(sample, asText, 0)).toBeCloseTo(trueProbability(sample, row, 0), 12);
    }
  });
});

describe("tiny schemas", () => {
  it("work with a single numeric feature", () => {
    const config = withFeatures([{ name: "v", type: "numeric", nullable: false }]);
    const rows = rowsOf(config, { rows: 5000 });
    expect(Object.keys(rows[0] as RawRow)).toEqual(["v", "label"]);
    expect(rows.every((r) => Number.isFinite(r.v))).toBe(true);
    const rate = positiveRate(config, rows);
    expect(rate).toBeGreaterThan(0.2);
    expect(rate).toBeLessThan(0.6);
    expect(f1(config, rows, (row) => trueProbability(config, row, 0) > 0.5)).toBeGreaterThan(0.9);
    expect(f1(config, rowsOf(config, { rows: 5000, drift: 1 }), (row) => trueProbability(config, row, 0) > 0.5)).toBeLessThan(0.7);
  });

  it("work with two categorical features only", () => {
    const config = withFeatures([
      { name: "colour", type: "categorical", values: ["red", "green", "blue"], nullable: false },
      { name: "size", type: "categorical", values: ["s", "m"], nullable: false },
    ]);
    const rows = rowsOf(config, { rows: 3000 });
    for (const row of rows) {
      expect(Object.keys(row)).toEqual(["colour", "size", "label"]);
      expect(["red", "green", "blue"]).toContain(row.colour);
      expect(["s", "m"]).toContain(row.size);
    }
    expect(new Set(rows.map((r) => r.label))).toEqual(new Set([0, 1]));
    expect(new Set(rows.map((r) => r.size))).toEqual(new Set(["s", "m"]));
  });
});
