import { describe, expect, it } from "vitest";
import { jsonArrayRecords } from "../../src/data/sources/formats.js";
import type { SourceRecord } from "../../src/data/sources/formats.js";
import { MlopsError } from "../../src/errors.js";

async function* chunked(text: string, size: number): AsyncGenerator<string> {
  for (let i = 0; i < text.length; i += size) yield text.slice(i, i + size);
}

async function read(text: string, size: number): Promise<SourceRecord[]> {
  const out: SourceRecord[] = [];
  for await (const records of jsonArrayRecords(chunked(text, size), "rows.json")) out.push(...records);
  return out;
}

describe("jsonArrayRecords (streamed JSON arrays)", () => {
  const rows = [
    { a: 1, s: 'quote " and \\\\ backslash, comma ] bracket } brace', nested: { list: [1, [2, 3]], o: {} } },
    { a: -2.5e3, s: "ünïcode ✓", empty: "" },
    { a: null, s: "\\\\" },
  ];
  const text = ` \n[ ${rows.map((r) => JSON.stringify(r)).join(" ,\n")} ]\n `;

  it("reads the same rows whatever the chunk boundaries (in strings, escapes, between elements)", async () => {
    for (const size of [1, 2, 3, 7, 64, 1 << 16]) {
      const records = await read(text, size);
      expect(records, `chunks of ${size}`).toEqual(rows.map((row, i) => ({ line: i + 1, row })));
    }
  });

  it("marks elements that are not objects, and reads an empty array as no rows", async () => {
    expect(await read('[{"a":1}, 2, [3], "x"]', 3)).toEqual([
      { line: 1, row: { a: 1 } },
      { line: 2, error: "not a JSON object", raw: "2" },
      { line: 3, error: "not a JSON object", raw: "[3]" },
      { line: 4, error: "not a JSON object", raw: '"x"' },
    ]);
    expect(await read("[ ]", 1)).toEqual([]);
  });

  it("keeps a long non-object's text cut at 1,000 characters, marked as cut", async () => {
    const long = `"${"z".repeat(2000)}"`;
    expect(await read(`[${long}]`, 64)).toEqual([
      { line: 1, error: "not a JSON object", raw: `${long.slice(0, 1000)}… [cut: 2002 characters in all]` },
    ]);
  });

  it("refuses what is not one JSON array, as a usage error", async () => {
    for (const [bad, why] of [
      ['{"a":1}', "not an array of rows"],
      ['[{"a":1},]', "element 2 is empty"],
      ['[{"a":1}', "ends before"],
      ['[{"a":1}] x', "more text after"],
      ['[{"a":}]', "element 1"],
      ["", "it is empty"],
    ] as const) {
      const error = await read(bad, 2).catch((e: unknown) => e);
      expect(error, bad).toBeInstanceOf(MlopsError);
      expect((error as MlopsError).exitCode).toBe(2);
      expect((error as MlopsError).message, bad).toContain(why);
    }
  });
});
