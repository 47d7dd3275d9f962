import type pg from "pg";
import { BinaryTupleBuffer, copyBinaryIn } from "../../db/copy-binary.js";
import { encodePredictionTuple, LOG_COLUMNS, type PredictionTupleValues, predictionTupleRoom } from "../../server/prediction-log-tuples.js";

const COLUMNS = [...LOG_COLUMNS, "source"];
const SOURCE = Buffer.from("batch");
/** Rows gathered before a COPY: a few MiB per round trip. */
const CHUNK_BYTES = 4 << 20;

export interface BatchLoggedPrediction extends PredictionTupleValues {
  /** The row key, when the schema has one (stored as the request id): batch rows are joined back by it. */
  rowKey: string | null;
}

/**
 * Batch predictions into the prediction log (`mlops predict --log`), with `source` batch, in one
 * transaction: a run that fails logs nothing, so a rerun does not log its rows twice. Rows are
 * the server's binary COPY tuples (server/prediction-log-tuples.ts) plus `source`, sent a few MiB
 * at a time, which keeps memory flat.
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
    this.out.reserve(predictionTupleRoom(row, row.rowKey, SOURCE));
    encodePredictionTuple(this.out, row, this.versionId, row.rowKey, this.createdAt, SOURCE);
    this.rows += 1;
    if (this.out.pos >= CHUNK_BYTES) await this.send();
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
