import { describe, expect, it } from "vitest";
import { sampleConfig } from "../../src/config/sample.js";
import type { MlopsConfig } from "../../src/config/schema.js";
import type { FeatureValue } from "../../src/data/types.js";
import { RowValidator } from "../../src/data/validate.js";
import { CsvLineValues } from "../../src/pipeline/predict/csv-line-values.js";

const config: MlopsConfig = {
  ...sampleConfig(),
  features: [
    { name: "a", type: "numeric", nullable: false, min: -10, max: 10 },
    { name: "b", type: "numeric", nullable: true },
    { name: "colour", type: "categorical", nullable: false, values: ["red", "green", "dark blue", "NA", "ünï"] },
  ],
  label: { name: "y", positive: 1, negative: 0 },
};
const columns = ["b", "y", "a", "extra", "colour"];
const validator = new RowValidator(config);
const plan = validator.planFor(columns);
const fast = new CsvLineValues(config, plan, columns.length, ",");

const lines = [
  "1.5,1,2,x,red",
  "1.50,0,-2.25,x,green",
  "-0,,0,x,dark blue",
  "1e3,1,3,x,ünï",
  "0.1,1,0.30000000000000004,x,red",
  "123456789012345678,1,1,x,red",
  "2,1,10,x,red",
  "2,1,10.0001,x,red",
  "2,1,-11,x,red",
  ",1,1,x,red",
  "NA,1,1,x,red",
  "abc,1,1,x,red",
  "1,1,abc,x,red",
  " 1,1,1,x,red",
  "1,1, 1,x,red",
  "1,1,1,x, red",
  "1,1,1,x,blue",
  "1,1,1,x,NA",
  "1,1,1,x,",
  "+1,1,1,x,red",
  ".5,1,1,x,red",
  "1.,1,1,x,red",
  "01,1,1,x,red",
  "NaN,1,1,x,red",
  "Infinity,1,1,x,red",
  "1,1,1,x",
  "1,1,1,x,red,more",
  "1,yes,1,x,red",
];

describe("the scoring fast path for plain CSV lines", () => {
  it("takes only rows the validator accepts, with the very same values", () => {
    let taken = 0;
    for (const text of lines) {
      const buffer = Buffer.from(`junk\n${text}\n`);
      const record = { line: 2, buffer, start: 5, end: 5 + Buffer.byteLength(text) };
      const values: FeatureValue[] = new Array(3).fill(null);
      const fields = text.split(",");
      const result = fields.length === columns.length ? validator.validateFields(fields, { ...plan, label: -1 }) : { ok: false as const };
      if (fast.read(record, values)) {
        taken += 1;
        expect(result.ok, text).toBe(true);
        if (result.ok) result.row.values.forEach((value, i) => expect(Object.is(values[i], value), `${text}: ${values[i]} vs ${value}`).toBe(true));
      } else if (result.ok) {
        // Left to the validator: allowed, as long as what is taken agrees.
        expect([
          "-0,,0,x,dark blue",
          ",1,1,x,red",
          "NA,1,1,x,red",
          "1,1,1,x,NA",
          "+1,1,1,x,red",
          ".5,1,1,x,red",
          "1.,1,1,x,red",
          "01,1,1,x,red",
          " 1,1,1,x,red",
          "1,1, 1,x,red",
          "1,1,1,x, red",
        ]).toContain(text);
      }
    }
    expect(taken).toBeGreaterThanOrEqual(8);
  });
});
