import type pg from "pg";
import { BinaryTupleBuffer, copyBinaryIn } from "../../db/copy-binary.js";

const COLUMNS = ["id", "version_id", "request_id", "features", "probability", "label", "latency_ms", "created_at", "source"];
const SOURCE = Buffer.from("batch");
/** Rows gathered before a COPY: a few MiB per round trip. */
const CHUNK_BYTES = 4 << 20;

export interface BatchLoggedPrediction {
  id: string;
  /** The row key, when the schema has one: batch rows are joined back by it. */
  rowKey: string | null;
  featuresJson: string;
  probability: number;
  label: 0 | 1;
  latencyMs: number;
}

/**
 * Batch predictions into the prediction log (`mlops predict --log`), with `source` batch, in one
 * transaction: a run that fails logs nothing, so a rerun does not log its rows twice. Rows are
 * binary COPY tuples (db/copy-binary.ts) sent a few MiB at a time, which keeps memory flat.
 */
export class BatchPredictionLog {
  private readonly out = new BinaryTupleBuffer(CHUNK_BYTES + (1 << 16));
  private readonly createdAt: number;
  rows = 0;

  private constructor(
    private readonly client: pg.ClientBase,
    private readonly versionId: number,
  ) {
    this.createdAt = Date.now();
  }

  static async begin(client: pg.ClientBase, versionId: number): Promise<BatchPredictionLog> {
    await client.query("BEGIN");
    return new BatchPredictionLog(client, versionId);
  }

  async add(row: BatchLoggedPrediction): Promise<void> {
    const out = this.out;
    out.reserve(2 + 9 * 4 + 16 + 4 + 8 + 2 + 4 + 8 + SOURCE.length);
    out.int16(COLUMNS.length);
    out.int32(16);
    const hex = row.id.replace(/-/g, "");
    out.pos += out.buf.write(hex, out.pos, "hex");
    out.int32(4);
    out.int32(this.versionId);
    out.textField(row.rowKey);
    out.textField(row.featuresJson);
    out.reserve(64);
    out.int32(8);
    out.float64(row.probability);
    out.int32(2);
    out.int16(row.label);
    out.int32(4);
    out.float32(row.latencyMs);
    out.timestamptzField(this.createdAt);
    out.int32(SOURCE.length);
    out.bytes(SOURCE, 0, SOURCE.length);
    this.rows += 1;
    if (out.pos >= CHUNK_BYTES) await this.send();
  }

  private async send(): Promise<void> {
    if (this.out.pos === 0) return;
    await copyBinaryIn(this.client, "predictions", COLUMNS, [this.out.take()]);
  }

  async commit(): Promise<void> {
    await this.send();
    await this.client.query("COMMIT");
  }

  async rollback(): Promise<void> {
    await this.client.query("ROLLBACK").catch(() => undefined);
  }
}
