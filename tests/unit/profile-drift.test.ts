import { describe, expect, it } from "vitest";
import type { Feature } from "../../src/config/schema.js";
import { DRIFT_DEFAULTS, driftReport, psi, type DriftReport } from "../../src/data/drift.js";
import { OTHER_CATEGORY, ProfileAccumulator, type DataProfile } from "../../src/data/profile.js";
import type { FeatureValue } from "../../src/data/types.js";

const numeric = (name: string): Feature => ({ name, type: "numeric", nullable: true });
const categorical = (name: string, values: string[]): Feature => ({
  name,
  type: "categorical",
  values,
  nullable: true,
});

/** A seeded source of test data, so every run sees the same rows. */
function randomSource(seed: number) {
  let state = seed >>> 0;
  const uniform = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = Math.imul(state ^ (state >>> 15), state | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) + 0.5) / 4294967296;
  };
  // Box-Muller.
  const normal = (mean = 0, std = 1) => mean + std * Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
  const pick = (weights: Record<string, number>) => {
    let u = uniform();
    for (const [category, weight] of Object.entries(weights)) if ((u -= weight) < 0) return category;
    return Object.keys(weights).at(-1)!;
  };
  return { uniform, normal, pick };
}

function profileOf(features: Feature[], rows: number, row: (i: number) => FeatureValue[]): DataProfile {
  const accumulator = new ProfileAccumulator(features);
  for (let i = 0; i < rows; i++) accumulator.add(row(i));
  return accumulator.profile();
}

function compare(
  features: Feature[],
  reference: DataProfile,
  rows: number,
  row: (i: number) => FeatureValue[],
  options?: Parameters<typeof driftReport>[3],
) {
  const accumulator = new ProfileAccumulator(features, reference);
  for (let i = 0; i < rows; i++) accumulator.add(row(i));
  return driftReport(reference, "batch 1", accumulator.binnedAgainstReference()!, options);
}

/** Every leaf value but strings, found by walking the profile before JSON could turn NaN into null. */
function numbersIn(value: unknown): unknown[] {
  if (typeof value === "object" && value !== null) return Object.values(value).flatMap(numbersIn);
  return typeof value === "string" ? [] : [value];
}

const driftOf = (report: DriftReport, feature: string) => report.features.find((f) => f.feature === feature)!;

describe("psi", () => {
  it("is zero for identical distributions and finite when a bin empties", () => {
    expect(psi([0.2, 0.3, 0.5], [0.2, 0.3, 0.5])).toBe(0);
    const emptied = psi([0.5, 0.5], [1, 0]);
    expect(Number.isFinite(emptied)).toBe(true);
    expect(emptied).toBeGreaterThan(DRIFT_DEFAULTS.psiSignificant);
  });
});

describe("numeric drift", () => {
  const features = [numeric("x")];

  it("finds no drift between two samples of the same distribution", () => {
    const before = randomSource(1);
    const after = randomSource(2);
    const baseline = profileOf(features, 5000, () => [before.normal()]);
    const report = compare(features, baseline, 5000, () => [after.normal()]);
    expect(driftOf(report, "x").psi).toBeLessThan(0.02);
    expect(driftOf(report, "x").verdict).toBe("stable");
    expect(report.verdict).toBe("stable");
  });

  it("flags a mean shift of one standard deviation as drift", () => {
    const before = randomSource(3);
    const after = randomSource(4);
    const baseline = profileOf(features, 5000, () => [before.normal(10, 2)]);
    const report = compare(features, baseline, 5000, () => [after.normal(12, 2)]);
    expect(driftOf(report, "x").psi).toBeGreaterThan(0.25);
    expect(driftOf(report, "x").verdict).toBe("drift");
    expect(report.verdict).toBe("drift");
  });
});

describe("categorical drift", () => {
  const features = [categorical("plan", ["free", "pro", "team", "enterprise"])];

  it("detects a change in category frequencies and counts unseen categories as other", () => {
    const before = randomSource(5);
    const after = randomSource(6);
    const baseline = profileOf(features, 2000, () => [before.pick({ free: 0.6, pro: 0.3, team: 0.1 })]);
    const same = compare(features, baseline, 2000, () => [after.pick({ free: 0.6, pro: 0.3, team: 0.1 })]);
    expect(driftOf(same, "plan").verdict).toBe("stable");

    const accumulator = new ProfileAccumulator(features, baseline);
    for (let i = 0; i < 2000; i++) accumulator.add([after.pick({ free: 0.3, pro: 0.3, team: 0.1, enterprise: 0.3 })]);
    const bins = accumulator.binnedAgainstReference()!;
    const plan = bins.features[0]!;
    // "enterprise" never appeared in the reference, so it is counted as other.
    expect(plan.kind === "categorical" && plan.counts[OTHER_CATEGORY]).toBeGreaterThan(500);
    const shifted = driftReport(baseline, "batch 1", bins);
    expect(driftOf(shifted, "plan").psi).toBeGreaterThan(0.25);
    expect(driftOf(shifted, "plan").verdict).toBe("drift");
  });

  it("folds categories beyond the tracking cap into other", () => {
    const profile = profileOf([categorical("id", ["unused"])], 3000, (i) => [`id-${i % 1500}`]);
    const proportions = (profile.features.id as { proportions: Record<string, number> }).proportions;
    expect(Object.keys(proportions)).toHaveLength(1001);
    expect(proportions[OTHER_CATEGORY]).toBeCloseTo(500 / 1500, 5);
  });
});

describe("missing values", () => {
  const features = [numeric("x")];
  const baseline = (() => {
    const random = randomSource(7);
    return profileOf(features, 2000, () => [random.normal()]);
  })();

  it("drifts when a feature becomes mostly missing", () => {
    const random = randomSource(8);
    const report = compare(features, baseline, 2000, () => [random.uniform() < 0.6 ? null : random.normal()]);
    expect(driftOf(report, "x").verdict).toBe("drift");
  });

  it("drifts when too few values remain to compare, because the missing share moved", () => {
    const random = randomSource(9);
    const report = compare(features, baseline, 1000, (i) => [i % 20 === 0 ? random.normal() : null]);
    expect(driftOf(report, "x").verdict).toBe("drift");
    expect(driftOf(report, "x").psi).toBeGreaterThan(0.25);
  });
});

describe("sample size", () => {
  const features = [numeric("x"), numeric("sparse")];
  // One row in twenty has a value for "sparse": 50 in 1000 rows, half the minimum sample.
  const sparseRows = (seed: number) => {
    const random = randomSource(seed);
    return (i: number): FeatureValue[] => [random.normal(), i % 20 === 0 ? random.normal() : null];
  };
  const baseline = profileOf(features, 1000, sparseRows(10));

  it("reports insufficient data for a batch smaller than the minimum sample", () => {
    const random = randomSource(11);
    const report = compare(features, baseline, 50, () => [random.normal(), random.normal()]);
    expect(report.verdict).toBe("insufficient-data");
    expect(report.features.every((f) => f.verdict === "insufficient-data" && f.psi === null)).toBe(true);
  });

  it("reports insufficient data for a feature with too few values, and still judges the rest", () => {
    const report = compare(features, baseline, 1000, sparseRows(12));
    expect(driftOf(report, "sparse")).toEqual({ feature: "sparse", psi: null, verdict: "insufficient-data" });
    expect(driftOf(report, "x").verdict).toBe("stable");
    expect(report.verdict).toBe("stable");
  });

  it("honours a custom minimum sample size, and defaults for options left undefined", () => {
    const report = compare(features, baseline, 1000, sparseRows(12), { minSampleSize: 20, driftShare: undefined });
    expect(driftOf(report, "sparse").psi).not.toBeNull();
    expect(report.thresholds).toEqual({ ...DRIFT_DEFAULTS, minSampleSize: 20 });
  });
});

describe("dataset verdict", () => {
  const features = Array.from({ length: 10 }, (_, i) => numeric(`x${i}`));
  const before = randomSource(21);
  const baseline = profileOf(features, 2000, () => features.map(() => before.normal()));
  const withShifted = (shifted: number) => {
    const after = randomSource(22);
    return compare(features, baseline, 2000, () => features.map((_, j) => after.normal(j < shifted ? 2 : 0)));
  };

  it("stays stable while fewer than the drift share of features drift", () => {
    const report = withShifted(2);
    expect(report.features.filter((f) => f.verdict === "drift")).toHaveLength(2);
    expect(report.driftedShare).toBe(0.2);
    expect(report.verdict).toBe("stable");
  });

  it("drifts once the drift share of features drift", () => {
    const report = withShifted(3);
    expect(report.driftedShare).toBe(0.3);
    expect(report.verdict).toBe("drift");
  });

  it("leaves out features the reference does not hold", () => {
    const random = randomSource(23);
    const schema = [numeric("x0"), numeric("added")];
    const report = compare(schema, baseline, 500, () => [random.normal(), random.normal()]);
    expect(driftOf(report, "added")).toEqual({ feature: "added", psi: null, verdict: "not-in-reference" });
    expect(report.verdict).toBe("stable");
    expect(report.reference).toEqual({ rows: 2000, source: "batch 1" });
  });
});

describe("profile", () => {
  const features = [numeric("amount"), numeric("flag"), numeric("empty"), categorical("plan", ["free", "pro"])];
  const rowOf = (random: ReturnType<typeof randomSource>): FeatureValue[] => [
    Math.exp(random.normal(3, 1)),
    random.uniform() < 0.7 ? 0 : 1,
    null,
    random.pick({ free: 0.8, pro: 0.2 }),
  ];

  it("is deterministic beyond the reservoir, with deciles close to the data's", () => {
    const first = randomSource(14);
    const second = randomSource(14);
    const profile = profileOf(features, 60_000, () => rowOf(first));
    expect(profileOf(features, 60_000, () => rowOf(second))).toEqual(profile);
    const amount = profile.features.amount!;
    expect(amount.type === "numeric" && amount.edges).toHaveLength(9);
    // The median of exp(N(3, 1)) is e^3; the sample's should be within a few percent of it.
    expect(amount.type === "numeric" && amount.edges[4]! / Math.exp(3)).toBeCloseTo(1, 1);
  });

  it("round-trips through JSON and still serves as a reference", () => {
    const random = randomSource(15);
    const profile = profileOf(features, 3000, () => rowOf(random));
    const stored = JSON.parse(JSON.stringify(profile)) as DataProfile;
    expect(stored).toEqual(profile);
    // Rounded to six significant digits, to keep the stored profiles compact.
    const significantDigits = (n: number) => n.toExponential().replace(/e.*$|[-.]/g, "").length;
    const numbers = numbersIn(profile.features).filter((n): n is number => typeof n === "number");
    expect(Math.max(...numbers.map(significantDigits))).toBeLessThanOrEqual(6);
    const batch = randomSource(16);
    const rows = Array.from({ length: 1000 }, () => rowOf(batch));
    expect(compare(features, stored, 1000, (i) => rows[i]!)).toEqual(compare(features, profile, 1000, (i) => rows[i]!));
  });

  it("deduplicates edges of low-cardinality data and writes only finite numbers", () => {
    const random = randomSource(17);
    const profile = profileOf(features, 3000, () => rowOf(random));
    const flag = profile.features.flag!;
    expect(flag).toMatchObject({ type: "numeric", min: 0, max: 1, edges: [0, 1] });
    expect(flag.type === "numeric" && flag.proportions[0]).toBeCloseTo(0.7, 1);
    const { empty, ...withValues } = profile.features;
    expect(empty).toMatchObject({ count: 0, missing: 3000, min: null, mean: null, std: null, edges: [] });
    expect(numbersIn(withValues).every(Number.isFinite)).toBe(true);

    const batch = randomSource(18);
    const report = compare(features, profile, 3000, () => rowOf(batch));
    expect(driftOf(report, "flag").verdict).toBe("stable");
    expect(report.features.every((f) => f.psi === null || Number.isFinite(f.psi))).toBe(true);
  });

  it("counts proportions against the rounded edges it stores, so large ties do not drift", () => {
    // Account numbers round to 1.23457e7 at six digits; edges and proportions must agree on that.
    const accounts = (i: number): FeatureValue[] => [12_345_670 + (i % 10)];
    const profile = profileOf([numeric("account")], 1000, accounts);
    const report = compare([numeric("account")], profile, 1000, accounts);
    expect(driftOf(report, "account")).toEqual({ feature: "account", psi: 0, verdict: "stable" });
  });
});
