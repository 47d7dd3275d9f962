import pg from "pg";
import type { MlopsConfig } from "../../config/schema.js";
import type { SourceSpec } from "../../data/sources/open.js";
import { quoteIdent } from "../../db/identifiers.js";
import { usageError } from "../../errors.js";

export type StoredSelection = { split: "train" | "validation" | "test" } | { batch: number };

const literal = (text: string) => pg.escapeLiteral(text);

/**
 * Stored examples as a query source on the project's own database: each feature's value as it
 * was received (the JSON text of the stored value), the row key and the label in the config's
 * spelling, in the columns a CSV export would have. They then take the same path as a file,
 * through COPY, with no result set held in memory.
 */
export function storedRowsSpec(config: MlopsConfig, selection: StoredSelection, databaseUrl: string): SourceSpec {
  const columns = [
    ...(config.rowKey === undefined ? [] : [`row_key AS ${quoteIdent(config.rowKey)}`]),
    ...config.features.map((f) => `features->>${literal(f.name)} AS ${quoteIdent(f.name)}`),
    `CASE label WHEN 1 THEN ${literal(String(config.label.positive))} WHEN 0 THEN ${literal(String(config.label.negative))} END AS ${quoteIdent(config.label.name)}`,
  ];
  const where = "split" in selection ? `split = ${literal(selection.split)}` : `batch_id = ${Number(selection.batch)}`;
  const query = `SELECT ${columns.join(", ")} FROM examples WHERE ${where} ORDER BY batch_id, row_number`;
  return { kind: "query", query, fromDb: databaseUrl };
}

/** A batch that does not exist is a mistake to name, not an empty result. */
export async function checkStoredSelection(client: pg.ClientBase, selection: StoredSelection): Promise<void> {
  if (!("batch" in selection)) return;
  const found = await client.query("SELECT status FROM batches WHERE id = $1", [selection.batch]);
  if (found.rowCount === 0) throw usageError("BATCH_NOT_FOUND", `No batch ${selection.batch}.`, "List batches with `mlops data`.");
}

/**
 * The URL of a --from-db database with every transaction read-only, so `--query` can only read
 * whatever the statement is (PostgreSQL refuses writes in a read-only transaction).
 */
export function readOnlyUrl(url: string): string {
  try {
    const parsed = new URL(url);
    const options = parsed.searchParams.get("options");
    parsed.searchParams.set("options", `${options ? `${options} ` : ""}-c default_transaction_read_only=on`);
    return parsed.toString();
  } catch {
    // queryCsvStream names a URL it cannot parse.
    return url;
  }
}
