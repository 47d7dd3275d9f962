import { describe, expect, it } from "vitest";
import { isCsvLine, parseCsv, splitCsvLine, type CsvRecord } from "../../src/data/sources/csv-parser.js";

async function parseAll(text: string, chunkSize?: number, maxRecordLength?: number): Promise<CsvRecord[]> {
  const bytes = Buffer.from(text);
  const size = chunkSize ?? (bytes.length || 1);
  const chunks: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) chunks.push(bytes.subarray(i, i + size));
  const out: CsvRecord[] = [];
  for await (const records of parseCsv(
    (async function* () {
      yield* chunks;
    })(),
    { maxRecordLength },
  ))
    out.push(...records);
  return out;
}

const fields = (records: CsvRecord[]) =>
  records.map((r) => (isCsvLine(r) ? splitCsvLine(r, ",") : "fields" in r ? r.fields : `ERROR@${r.line}: ${r.error}`));

describe("parseCsv", () => {
  it("splits plain lines, CRLF and a last line without newline", async () => {
    expect(fields(await parseAll("a,b\r\n1,2\n3,4"))).toEqual([
      ["a", "b"],
      ["1", "2"],
      ["3", "4"],
    ]);
  });

  it("handles quoted delimiters, doubled quotes and newlines inside quotes, at any chunk size", async () => {
    const text = 'a,b\n"x, y","he said ""hi"""\n"multi\nline",2\nlast,"q"\n';
    const expected = [
      ["a", "b"],
      ["x, y", 'he said "hi"'],
      ["multi\nline", "2"],
      ["last", "q"],
    ];
    for (const size of [1, 2, 3, 7, 1000]) expect(fields(await parseAll(text, size)), `chunk ${size}`).toEqual(expected);
  });

  it("counts lines across quoted newlines so errors point at the right line", async () => {
    const records = await parseAll('a\n"1\n2"\n"bad"x\n3\n');
    expect(records.map((r) => r.line)).toEqual([1, 2, 4, 5]);
    expect(fields(records)[2]).toMatch(/ERROR@4: unexpected character after a closing quote/);
  });

  it("reports an unterminated quote as an error record instead of swallowing the rest", async () => {
    const records = await parseAll('a,b\n1,2\n"3,4\n5,6\n');
    expect(fields(records)).toEqual([["a", "b"], ["1", "2"], "ERROR@3: quote opened but never closed before the end of the input"]);
  });

  it("keeps wrong column counts for the caller to judge, and skips blank lines", async () => {
    expect(fields(await parseAll("a,b\n\n3\n4,5,6\n"))).toEqual([["a", "b"], ["3"], ["4", "5", "6"]]);
  });

  it("turns an over-long line into an error and resumes at the next line", async () => {
    const long = "x".repeat(5000);
    for (const size of [64, 100_000]) {
      const records = await parseAll(`a\n${long}\nok\n`, size, 1000);
      expect(fields(records), `chunk ${size}`).toEqual([["a"], "ERROR@2: record longer than 1000 bytes", ["ok"]]);
      const kept = records[1] as { text: string };
      expect(kept.text).toBe(`${"x".repeat(200)}… [cut: the record is longer than 1000 bytes]`);
    }
  });

  it("keeps a bad record's text whole up to 1,000 bytes, and marks it cut beyond that", async () => {
    const text = async (field: string) => (await parseAll(`a\n"${field}"x\n`))[1] as { error: string; text: string };
    const short = await text("y".repeat(10));
    expect(short).toMatchObject({ error: expect.stringContaining("quote"), text: `"${"y".repeat(10)}"x\n` });
    const long = await text("y".repeat(1500));
    expect(long.text).toBe(`"${"y".repeat(999)}… [cut: 1504 bytes in all]`);
  });

  it("keeps multi-byte characters whole when a chunk ends inside one, quoted or not", async () => {
    const text = 'a,b\nü,"ß, ""€"""\n';
    for (const size of [1, 2, 3, 5])
      expect(fields(await parseAll(text, size)), `chunk ${size}`).toEqual([
        ["a", "b"],
        ["ü", 'ß, "€"'],
      ]);
  });
});
