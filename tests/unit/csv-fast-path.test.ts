import { describe, expect, it } from "vitest";
import { sampleConfig } from "../../src/config/sample.js";
import type { MlopsConfig } from "../../src/config/schema.js";
import { CsvFastPath, jsonNumber, NOT_HANDLED } from "../../src/data/csv-fast-path.js";
import { ExampleRows } from "../../src/data/example-rows.js";
import { hash64 } from "../../src/data/row-hash.js";
import type { FeatureValue } from "../../src/data/types.js";
import { RowValidator } from "../../src/data/validate.js";

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

/** Reads back the tuple ExampleRows wrote: hash, features JSON, label and split. */
function readTuple(buffer: Buffer) {
  let pos = 2;
  const field = () => {
    const length = buffer.readInt32BE(pos);
    pos += 4;
    if (length < 0) return null;
    const bytes = buffer.subarray(pos, pos + length);
    pos += length;
    return bytes;
  };
  const hash = field()!;
  field();
  field();
  const key = field();
  const features = field()!.toString();
  const label = field();
  const split = field()!.toString();
  return { hi: hash.readUInt32BE(0), lo: hash.readUInt32BE(4), key, features, label: label === null ? null : label.readInt16BE(0), split };
}

describe("the CSV fast path", () => {
  const validator = new RowValidator(config);
  const plan = validator.planFor(columns);
  const fast = new CsvFastPath(config, plan, columns.length, ",");

  const values = [
    "0",
    "-0",
    "9007199254740993",
    "1.5",
    "1.50",
    "-9.75",
    "10",
    "10.0001",
    "-11",
    "1e1",
    "2E-3",
    "1.",
    ".5",
    "+1",
    "01",
    "00.5",
    "1e",
    "",
    " 1",
    "NaN",
    "inf",
    "1e999",
    "0x10",
    "1234567890123456789",
    "0.1234567890123456789",
    "abc",
  ];
  const colours = ["red", "green", "dark blue", "NA", "na", "ünï", "blue", " red", 'r"d', "", "Red"];
  const labels = ["1", "0", "", "1.0", "yes", " 1", "NA"];

  it("takes only lines the validator accepts, and writes what the validator would", () => {
    let taken = 0;
    const rows = new ExampleRows(7);
    const fastValues: FeatureValue[] = [null, null, null];
    for (const a of values) {
      for (const b of values.slice(0, 9).concat("", "NA")) {
        for (const colour of colours) {
          for (const y of labels) {
            const fields = [b, y, a, "whatever", colour];
            const line = Buffer.from(`${fields.join(",")}`);
            rows.out.pos = 0;
            const label = fast.write({ line: 2, buffer: line, start: 0, end: line.length }, rows, fastValues);
            const slow = validator.validateFields(fields, plan);
            if (label === NOT_HANDLED) {
              expect(rows.out.pos, "nothing written").toBe(0);
              continue;
            }
            taken += 1;
            expect(slow.ok, fields.join("|")).toBe(true);
            if (!slow.ok) continue;
            rows.finish(label);
            const tuple = readTuple(rows.out.buf.subarray(0, rows.out.pos));
            expect(tuple.features).toBe(slow.row.featuresJson);
            expect(JSON.parse(tuple.features)).toBeTypeOf("object");
            expect(label).toBe(slow.row.label);
            expect(tuple.label).toBe(slow.row.label);
            expect(fastValues).toEqual(slow.row.values);
            expect({ hi: tuple.hi, lo: tuple.lo }).toEqual(hash64(slow.row.featuresJson));
          }
        }
      }
    }
    expect(taken).toBeGreaterThan(500);
  });

  it("reads JSON-syntax numbers exactly as Number() does, and refuses other spellings", () => {
    const number = (text: string) => jsonNumber(Buffer.from(text), 0, Buffer.byteLength(text));
    for (const text of [
      "0",
      "-0",
      "1.5",
      "-12.3456",
      "123456789012345",
      "1234567890123456",
      "0.000000000000001",
      "1e-7",
      "2.5E+3",
      "9007199254740993",
    ]) {
      expect(Object.is(number(text), Number(text)), text).toBe(true);
    }
    for (const text of ["", "-", "+1", ".5", "1.", "01", "1e", "1e+", "1x", "NaN", "Infinity", " 1"]) expect(number(text), text).toBeNaN();
  });

  it("stores numbers outside JSON's syntax as valid JSON on the general path", () => {
    const slow = validator.validateFields(["+1", "1", ".5", "x", "red"], plan);
    expect(slow.ok && JSON.parse(slow.row.featuresJson)).toEqual({ a: 0.5, b: 1, colour: "red" });
  });
});
