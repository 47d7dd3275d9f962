import { once } from "node:events";
import { createReadStream, createWriteStream, type WriteStream } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import type pg from "pg";
import { from as copyFrom } from "pg-copy-streams";
import { encodeCopyRow } from "../db/copy.js";
import type { RowProblem } from "./validate.js";

/**
 * Invalid rows of a batch, written to a temporary file in COPY format while the valid rows
 * stream into the database, then copied into quarantine in one go. A file keeps memory flat
 * however broken the input is; the examples COPY holds the connection meanwhile.
 */
export class QuarantineSpill {
  private count = 0;

  private constructor(
    private readonly batchId: number,
    private readonly dir: string,
    private readonly file: string,
    private readonly out: WriteStream,
  ) {}

  static async create(batchId: number): Promise<QuarantineSpill> {
    const dir = await mkdtemp(path.join(os.tmpdir(), "mlops-quarantine-"));
    const file = path.join(dir, "rows.copy");
    return new QuarantineSpill(batchId, dir, file, createWriteStream(file));
  }

  async add(line: number, raw: unknown, problems: RowProblem[]): Promise<void> {
    this.count += 1;
    if (!this.out.write(encodeCopyRow([this.batchId, line, JSON.stringify(raw), JSON.stringify(problems)]))) {
      await once(this.out, "drain");
    }
  }

  async copyInto(client: pg.ClientBase): Promise<number> {
    this.out.end();
    await once(this.out, "finish");
    if (this.count === 0) return 0;
    await pipeline(createReadStream(this.file), client.query(copyFrom("COPY quarantined_rows (batch_id, row_number, raw, reasons) FROM STDIN")));
    return this.count;
  }

  async dispose(): Promise<void> {
    if (!this.out.closed) this.out.destroy();
    await rm(this.dir, { recursive: true, force: true });
  }
}
