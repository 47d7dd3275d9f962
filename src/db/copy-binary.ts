import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type pg from "pg";
import { from as copyFrom } from "pg-copy-streams";
import { quoteIdent } from "./identifiers.js";

/**
 * COPY's binary format, for the ingest hot path: PostgreSQL reads integers as they are and
 * text without unescaping, and the writer copies feature bytes straight from the input, so a
 * million rows cost neither number formatting nor escaping on either side.
 * Layout: a signature and two int32s, then per tuple an int16 field count and per field an
 * int32 length (-1: NULL) and the bytes; an int16 -1 ends the stream.
 */
const SIGNATURE = Buffer.from("PGCOPY\n\xff\r\n\0", "latin1");

const HEADER = Buffer.concat([SIGNATURE, Buffer.alloc(8)]);
const TRAILER = Buffer.from([0xff, 0xff]);

/** A growable buffer of binary COPY tuples. Callers reserve room before writing unchecked. */
/** Milliseconds from the Unix epoch to PostgreSQL's (2000-01-01). */
const PG_EPOCH_MS = 946_684_800_000;

export class BinaryTupleBuffer {
  buf: Buffer;
  pos = 0;

  constructor(private readonly initialSize = 1 << 20) {
    this.buf = Buffer.allocUnsafe(initialSize);
  }

  /** Makes room for `bytes` more bytes. */
  reserve(bytes: number): void {
    if (this.pos + bytes <= this.buf.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + bytes));
    this.buf.copy(grown, 0, 0, this.pos);
    this.buf = grown;
  }

  int16(value: number): void {
    this.buf.writeInt16BE(value, this.pos);
    this.pos += 2;
  }

  int32(value: number): void {
    this.buf.writeInt32BE(value, this.pos);
    this.pos += 4;
  }

  float32(value: number): void {
    this.pos = this.buf.writeFloatBE(value, this.pos);
  }

  float64(value: number): void {
    this.pos = this.buf.writeDoubleBE(value, this.pos);
  }

  /**
   * A whole field: its length, then the bytes of `text` as UTF-8, or NULL (reserves room itself).
   * Returns where the bytes start.
   */
  textField(text: string | null): number {
    if (text === null) {
      this.reserve(4);
      this.int32(-1);
      return this.pos;
    }
    // A UTF-16 code unit is at most 3 bytes of UTF-8: reserve the worst case, write once.
    this.reserve(4 + text.length * 3);
    const start = this.pos + 4;
    const written = this.buf.write(text, start, "utf8");
    this.int32(written);
    this.pos += written;
    return start;
  }

  /**
   * A timestamptz field (length and value; room must be reserved): PostgreSQL's binary form counts
   * microseconds from 2000-01-01, written as two 32-bit halves.
   */
  timestamptzField(unixMs: number): void {
    const micros = (unixMs - PG_EPOCH_MS) * 1000;
    this.int32(8);
    this.int32(Math.floor(micros / 4294967296));
    this.int32(micros | 0);
  }

  /** Raw bytes, no length (room must be reserved). Short runs are copied by hand: a call to copy() costs more. */
  bytes(source: Uint8Array, start: number, end: number): void {
    const { buf } = this;
    let pos = this.pos;
    if (end - start > 32) {
      pos += (source as Buffer).copy(buf, pos, start, end);
    } else {
      for (let i = start; i < end; i++) buf[pos++] = source[i]!;
    }
    this.pos = pos;
  }

  /** Hands over what was written and starts a fresh buffer. */
  take(): Buffer {
    const out = this.buf.subarray(0, this.pos);
    this.buf = Buffer.allocUnsafe(Math.max(this.initialSize, out.length));
    this.pos = 0;
    return out;
  }
}

/** Streams binary tuples (without header or trailer: this adds them) into `table`. */
export async function copyBinaryIn(
  client: pg.ClientBase,
  table: string,
  columns: readonly string[],
  chunks: Iterable<Buffer> | AsyncIterable<Buffer>,
): Promise<void> {
  async function* framed(): AsyncGenerator<Buffer> {
    yield HEADER;
    yield* chunks;
    yield TRAILER;
  }
  const sql = `COPY ${quoteIdent(table)} (${columns.map(quoteIdent).join(", ")}) FROM STDIN (FORMAT binary)`;
  await pipeline(Readable.from(framed(), { objectMode: false }), client.query(copyFrom(sql)));
}
