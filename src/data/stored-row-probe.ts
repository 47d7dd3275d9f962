import type pg from "pg";
import { connectPg, type DatabaseTarget } from "../db/connection.js";
import type { ChunkRows } from "./chunk-rows.js";
import type { ExampleRows } from "./example-rows.js";
import { hashToDecimal, type RowHash } from "./row-hash.js";

/**
 * Finds the rows of a chunk that committed batches already hold. It asks on a connection of its
 * own: the ingest's connection is busy streaming COPY, and only committed rows count (the
 * advisory lock makes sure no other ingest is between).
 */
export class StoredRowProbe {
  private constructor(private readonly client: pg.Client) {}

  static async open(target: DatabaseTarget): Promise<StoredRowProbe> {
    const client = await connectPg(target);
    try {
      // Right after a big batch the planner may have no statistics yet and scan the whole table
      // for each chunk's probe; the hash index is always the right plan here.
      await client.query("SET enable_seqscan = off");
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
    return new StoredRowProbe(client);
  }

  /** Takes out of `rows.out` the rows of this chunk that committed batches already hold; returns how many. */
  async dropStored(rows: ExampleRows, fresh: ChunkRows): Promise<number> {
    const { out } = rows;
    if (fresh.size === 0) return 0;
    const hash: RowHash = { hi: 0, lo: 0 };
    const hashes = fresh.starts.slice(0, fresh.size).map((start) => hashToDecimal(rows.hashAt(start, hash)));
    const found = await this.client.query<{ h: string }>("SELECT DISTINCT row_hash::text AS h FROM examples WHERE row_hash = ANY($1::bigint[])", [
      hashes,
    ]);
    if (found.rows.length === 0) return 0;
    const stored = new Set(found.rows.map((r) => r.h));
    let write = fresh.starts[0]!;
    let kept = 0;
    let dropped = 0;
    for (let i = 0; i < fresh.size; i += 1) {
      const start = fresh.starts[i]!;
      const end = i + 1 < fresh.size ? fresh.starts[i + 1]! : out.pos;
      if (stored.has(hashes[i]!)) {
        dropped += 1;
        continue;
      }
      if (write !== start) out.buf.copy(out.buf, write, start, end);
      write += end - start;
      fresh.move(i, kept++);
    }
    out.pos = write;
    fresh.size = kept;
    return dropped;
  }

  async close(): Promise<void> {
    await this.client.end().catch(() => undefined);
  }
}
