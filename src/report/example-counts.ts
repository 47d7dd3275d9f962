import type pg from "pg";

/** Stored examples counted per batch and split: the one scan of the examples table the report makes. */
export interface ExampleCounts {
  rows: Array<{ batchId: number; split: "train" | "validation" | "test"; rows: number; labelled: number; positive: number }>;
}

/**
 * The overview's rows per split, the label rate per batch and the size of a version's test split
 * all come from this one grouped scan: three separate queries read a million-row examples table
 * three times.
 */
export async function readExampleCounts(client: pg.ClientBase): Promise<ExampleCounts> {
  const result = await client.query<{
    batch_id: number;
    split: "train" | "validation" | "test";
    n: string;
    labelled: string;
    positive: string | null;
  }>("SELECT batch_id, split, count(*) AS n, count(label) AS labelled, sum(label) AS positive FROM examples GROUP BY 1, 2");
  return {
    rows: result.rows.map((r) => ({
      batchId: r.batch_id,
      split: r.split,
      rows: Number(r.n),
      labelled: Number(r.labelled),
      positive: Number(r.positive ?? 0),
    })),
  };
}

/** Share of labelled rows that are positive, per batch. */
export function labelRates(counts: ExampleCounts): Map<number, number> {
  const sums = new Map<number, { labelled: number; positive: number }>();
  for (const r of counts.rows) {
    const s = sums.get(r.batchId) ?? { labelled: 0, positive: 0 };
    s.labelled += r.labelled;
    s.positive += r.positive;
    sums.set(r.batchId, s);
  }
  return new Map([...sums].filter(([, s]) => s.labelled > 0).map(([id, s]) => [id, Number((s.positive / s.labelled).toFixed(4))]));
}
