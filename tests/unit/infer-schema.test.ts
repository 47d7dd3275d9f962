import { describe, expect, it } from "vitest";
import { configSchema } from "../../src/config/schema.js";
import { inferSchema, type InferOptions } from "../../src/data/infer-schema.js";
import type { RawRow } from "../../src/data/types.js";
import { ExitCode, MlopsError } from "../../src/errors.js";

/** A CSV-like sample: every value a string, with the NA spellings real exports use. */
const census: RawRow[] = [
  { user_id: "u-01", age: "39", hours: "40", workclass: "State-gov", notes: "", income: "<=50K" },
  { user_id: "u-02", age: "50", hours: "13.5", workclass: "Self-emp", notes: "NA", income: "<=50K" },
  { user_id: "u-03", age: " 38 ", hours: "N/A", workclass: "Private", notes: "?", income: ">50K" },
  { user_id: "u-04", age: "53", hours: "1e1", workclass: " Private", notes: "null", income: "<=50K" },
  { user_id: "u-05", age: "28", hours: "-0.5", workclass: "na", notes: "nan", income: ">50K" },
  { user_id: "u-06", age: "37", hours: "45", workclass: "Private", notes: "", income: "<=50K" },
];

async function usageFailure(rows: RawRow[], options: InferOptions): Promise<MlopsError> {
  const error = await inferSchema(rows, options).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(MlopsError);
  expect((error as MlopsError).exitCode).toBe(ExitCode.usage);
  return error as MlopsError;
}

const column = (schema: Awaited<ReturnType<typeof inferSchema>>, name: string) => schema.columns.find((c) => c.name === name);

describe("inferSchema", () => {
  it("infers numeric and categorical features, the id column as row key, and the minority class as positive", async () => {
    const schema = await inferSchema(census, { label: "income" });
    expect(schema.rowsSampled).toBe(6);
    expect(schema.columns.map((c) => [c.name, c.role, c.type])).toEqual([
      ["user_id", "row-key", null],
      ["age", "feature", "numeric"],
      ["hours", "feature", "numeric"],
      ["workclass", "feature", "categorical"],
      ["notes", "ignored", null],
      ["income", "label", "categorical"],
    ]);
    expect(schema.features).toEqual([
      { name: "age", type: "numeric", nullable: false },
      { name: "hours", type: "numeric", nullable: true },
      { name: "workclass", type: "categorical", values: ["Private", "Self-emp", "State-gov"], nullable: true },
    ]);
    expect(schema.rowKey).toBe("user_id");
    expect(schema.label).toEqual({ name: "income", positive: ">50K", negative: "<=50K" });
    expect(column(schema, "hours")).toMatchObject({ min: -0.5, max: 45, missing: 1, distinct: 5 });
    expect(column(schema, "notes")).toMatchObject({ missing: 6, note: "no values in the sample" });
    expect(schema.warnings).toEqual([]);
  });

  it("produces a config the project's config schema accepts", async () => {
    const { features, label, rowKey } = await inferSchema(census, { label: "income" });
    const config = configSchema.parse({ version: 1, features, label, ...(rowKey ? { rowKey } : {}) });
    expect(config.rowKey).toBe("user_id");
    expect(config.features.every((f) => f.type !== "numeric" || (f.min === undefined && f.max === undefined))).toBe(true);
  });

  it("keeps JSON types: booleans are categorical, a boolean label stays boolean", async () => {
    const rows: RawRow[] = [
      { score: 0.25, member: true, churned: false },
      { score: 3, member: false, churned: true },
      { score: null, member: true, churned: false },
    ];
    const schema = await inferSchema(rows, { label: "churned" });
    expect(schema.features).toEqual([
      { name: "score", type: "numeric", nullable: true },
      { name: "member", type: "categorical", values: ["false", "true"], nullable: false },
    ]);
    expect(schema.label).toEqual({ name: "churned", positive: true, negative: false });
  });

  it("makes 1 the positive class of a 0/1 label and keeps it a number, even when 1 is the majority", async () => {
    const rows = ["1", "1", "0", "1.0", ""].map((label, i) => ({ x: String(i), label }));
    const schema = await inferSchema(rows, { label: "label" });
    expect(schema.label).toEqual({ name: "label", positive: 1, negative: 0 });
    expect(column(schema, "label")).toMatchObject({ type: "numeric", distinct: 2, missing: 1 });
    expect(schema.warnings).toEqual([expect.stringMatching(/^1 of 5 sampled rows have no label "label"/)]);
  });

  it("makes yes the positive class of a yes/no label whatever its case", async () => {
    const rows = ["No", "Yes", "Yes", "Yes"].map((bought, i) => ({ visits: i, bought }));
    const { label } = await inferSchema(rows, { label: "bought" });
    expect(label).toEqual({ name: "bought", positive: "Yes", negative: "No" });
  });

  it("treats numbers written with separators or hex as text", async () => {
    const rows = ["1,000", "0x10", "12", "7"].map((amount, i) => ({ amount, y: i % 2 }));
    const { features } = await inferSchema(rows, { label: "y" });
    expect(features).toEqual([{ name: "amount", type: "categorical", values: ["0x10", "1,000", "12", "7"], nullable: false }]);
  });

  it("keeps a column numeric when some values are NaN or Infinity (validation rejects those later)", async () => {
    const rows = ["1.5", "NaN", "-inf", "12"].map((amount, i) => ({ amount, y: i % 2 }));
    const { features } = await inferSchema(rows, { label: "y" });
    expect(features).toEqual([{ name: "amount", type: "numeric", nullable: true }]);
  });

  it("rejects a label missing from the data, listing the columns there are", async () => {
    const error = await usageFailure(census, { label: "salary" });
    expect(error.code).toBe("LABEL_NOT_FOUND");
    expect(error.message).toContain('"salary"');
    expect(error.message).toContain("user_id, age, hours, workclass, notes, income");
  });

  it("rejects a label with three values, naming them", async () => {
    const rows = ["cat", "dog", "bird", "dog"].map((species, i) => ({ weight: i, species }));
    const error = await usageFailure(rows, { label: "species" });
    expect(error.code).toBe("LABEL_NOT_BINARY");
    expect(error.message).toContain("dog (2), bird (1), cat (1)");
    expect(error.hint).toContain("--positive VALUE --negative VALUE");
  });

  it("keeps a column numeric when at most 1% of its values are not numbers, and names those values", async () => {
    const rows: RawRow[] = Array.from({ length: 3000 }, (_, i) => ({ tenure_months: String(i % 72), churned: i % 3 === 0 ? "yes" : "no" }));
    rows[1234] = { tenure_months: "abc", churned: "no" };
    const schema = await inferSchema(rows, { label: "churned" });
    expect(schema.features).toEqual([{ name: "tenure_months", type: "numeric", nullable: false }]);
    expect(column(schema, "tenure_months")?.badValues).toEqual([{ value: "abc", count: 1 }]);
    expect(schema.warnings.join("\n")).toContain('Column "tenure_months" is numeric, but 1 sampled value is not a number ("abc")');
    // Past 1% the column is text again (here: more distinct values than a category may have).
    for (let i = 0; i < 40; i++) rows[i] = { tenure_months: `x${i}`, churned: "no" };
    const text = await inferSchema(rows, { label: "churned" }).catch((e: unknown) => e);
    expect((text as MlopsError).code).toBe("NO_FEATURES");
  });

  it("takes the two dominant label values when the rest is a stray 1%, with a warning", async () => {
    const rows: RawRow[] = Array.from({ length: 3004 }, (_, i) => ({ x: String(i), churned: i % 4 === 0 ? "1" : "0" }));
    rows[77] = { x: "77", churned: "maybe" };
    const schema = await inferSchema(rows, { label: "churned" });
    expect(schema.label).toEqual({ name: "churned", positive: 1, negative: 0 });
    expect(schema.warnings.join("\n")).toContain('also holds "maybe" ×1 (1 of 3004 labelled rows)');
  });

  it("takes the classes named by --positive and --negative, whatever the others", async () => {
    const rows: RawRow[] = ["cat", "dog", "bird", "dog", "cat", "bird"].map((species, i) => ({ weight: i, species }));
    const schema = await inferSchema(rows, { label: "species", positive: "cat", negative: "dog" });
    expect(schema.label).toEqual({ name: "species", positive: "cat", negative: "dog" });
    expect(schema.warnings.join("\n")).toContain('"bird" ×2');
    const flipped = await inferSchema(
      [
        { a: 1, y: "yes" },
        { a: 2, y: "no" },
      ],
      { label: "y", positive: "no" },
    );
    expect(flipped.label).toEqual({ name: "y", positive: "no", negative: "yes" });
    const unknown = await usageFailure(rows, { label: "species", positive: "fish" });
    expect(unknown.code).toBe("LABEL_VALUE_NOT_FOUND");
  });

  it("names every column whose name the config cannot hold, and asks to rename it in the data", async () => {
    const rows: RawRow[] = [
      { "hours-per-week": "40", "2nd_job": "no", ok: "1", y: "1" },
      { "hours-per-week": "30", "2nd_job": "yes", ok: "2", y: "0" },
    ];
    const error = await usageFailure(rows, { label: "y" });
    expect(error.code).toBe("INVALID_COLUMN_NAMES");
    expect(error.details?.columns).toEqual(["hours-per-week", "2nd_job"]);
    expect(error.hint).toMatch(/rename the columns in the data/i);
  });

  it("ignores a high-cardinality text column whose name does not look like an id", async () => {
    const rows = Array.from({ length: 60 }, (_, i) => ({ comment: `comment number ${i}`, size: i % 3 === 0 ? "S" : "M", y: i % 2 }));
    const schema = await inferSchema(rows, { label: "y" });
    expect(column(schema, "comment")).toMatchObject({ role: "ignored", distinct: 60, note: expect.stringMatching(/ID or free text/) });
    expect(schema.rowKey).toBeUndefined();
    expect(schema.features.map((f) => f.name)).toEqual(["size"]);
  });

  it("keeps an explicit row key out of the features", async () => {
    const schema = await inferSchema(census, { label: "income", rowKey: "age" });
    expect(schema.rowKey).toBe("age");
    expect(schema.features.map((f) => f.name)).toEqual(["user_id", "hours", "workclass"]);
  });

  it("stops reading after sampleSize rows, so an endless source ends", async () => {
    let produced = 0;
    function* endless(): Generator<RawRow> {
      for (;;) yield { x: String(produced++), y: produced % 2 === 0 ? "a" : "b" };
    }
    const schema = await inferSchema(endless(), { label: "y", sampleSize: 25 });
    expect(schema.rowsSampled).toBe(25);
    expect(produced).toBe(25);
  });

  it("reads async sources and rejects an empty one", async () => {
    async function* none(): AsyncGenerator<RawRow> {}
    const error = await inferSchema(none(), { label: "y" }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "NO_ROWS", exitCode: ExitCode.usage });
  });
});
