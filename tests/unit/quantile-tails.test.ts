import { describe, expect, it } from "vitest";
import { CLIP_QUANTILE, fitPreprocess, fitPreprocessChunks, QuantileTails, type FeatureColumns } from "../../src/model/preprocess.js";
import { seededRandom } from "../../src/model/random.js";

/** The quantile by sorting every value, as training computed it before it streamed. */
function sortedQuantile(values: Float64Array, q: number): number {
  const sorted = values.slice().sort();
  const position = q * (sorted.length - 1);
  const low = Math.floor(position);
  const high = Math.min(low + 1, sorted.length - 1);
  return sorted[low]! + (sorted[high]! - sorted[low]!) * (position - low);
}

describe("clip quantiles from bounded tails", () => {
  it.each([1, 2, 7, 999, 1001, 250_000])("equal the full sort's for %i values, with ties and a skewed tail", (n) => {
    const random = seededRandom(n);
    const values = Float64Array.from({ length: n }, () => (random() < 0.2 ? Math.round(random() * 5) : Math.exp(random() * 8) - random() * 100));
    const tails = new QuantileTails(n);
    for (const x of values) tails.add(x);
    expect(tails.clip()).toEqual([sortedQuantile(values, CLIP_QUANTILE), sortedQuantile(values, 1 - CLIP_QUANTILE)]);
  });

  it("fits the same preprocessing over chunks of 7 rows as over all rows at once, missing values and a row mask included", async () => {
    const rows = 5000;
    const random = seededRandom(3);
    const x = Float64Array.from({ length: rows }, () => (random() < 0.1 ? Number.NaN : random() * 10 - 3));
    const c = Int32Array.from({ length: rows }, () => Math.floor(random() * 4) - 1);
    const features = [
      { name: "x", type: "numeric" as const, nullable: true },
      { name: "c", type: "categorical" as const, values: ["a", "b", "c"], nullable: true },
    ];
    const mask = Uint8Array.from({ length: rows }, () => (random() < 0.7 ? 1 : 0));
    const all: FeatureColumns = { rows, numeric: new Map([["x", x]]), categorical: new Map([["c", c]]) };
    async function* chunks() {
      for (let start = 0; start < rows; start += 7) {
        const end = Math.min(rows, start + 7);
        yield {
          start,
          columns: { rows: end - start, numeric: new Map([["x", x.slice(start, end)]]), categorical: new Map([["c", c.slice(start, end)]]) },
        };
      }
    }
    expect(await fitPreprocessChunks(features, chunks, mask)).toEqual(fitPreprocess(features, all, mask));
  });
});
