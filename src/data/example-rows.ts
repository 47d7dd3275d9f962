import { BinaryTupleBuffer } from "../db/copy-binary.js";
import type { Split } from "../generated/prisma/enums.js";
import { hashBytes, splitOf, type RowHash } from "./row-hash.js";
import type { LabelValue } from "./types.js";

/** The examples columns ingest writes, in tuple order. */
export const EXAMPLE_COLUMNS = ["row_hash", "batch_id", "row_number", "row_key", "features", "label", "split"] as const;

/** A tuple starts with its field count (2 bytes) and the hash's length (4). */
const HASH_OFFSET = 6;
const SPLIT_BYTES: Record<Split, Buffer> = { train: Buffer.from("train"), validation: Buffer.from("validation"), test: Buffer.from("test") };
/** The label (length and int16) and the split (length and at most "validation"). */
const LABEL_AND_SPLIT = 6 + 14;
/** What a row needs beyond its key and features: field count, lengths, hash, ids, label, split. */
const ROW_OVERHEAD = 2 + 12 + 8 + 8 + 4 + 4 + LABEL_AND_SPLIT;

/**
 * Writes examples rows as binary COPY tuples. A row is begun, its key and features JSON are
 * written (the features by the caller, straight into the buffer, or as text), then it is
 * finished: the row hash is computed over the bytes just written (the key's, else the
 * features') and patched in, and the split follows from it. A duplicate is discarded again.
 */
export class ExampleRows {
  readonly out = new BinaryTupleBuffer();
  /** The hash of the row last finished. */
  readonly hash: RowHash = { hi: 0, lo: 0 };
  private rowStart = 0;
  private hashPos = 0;
  private keyStart = -1;
  private keyEnd = -1;
  private featuresAt = 0;

  constructor(private readonly batchId: number) {}

  /** Starts a row; `room` is the most its key and features can take. */
  begin(rowNumber: number, room: number): void {
    const out = this.out;
    out.reserve(ROW_OVERHEAD + room);
    this.rowStart = out.pos;
    out.int16(EXAMPLE_COLUMNS.length);
    out.int32(8);
    this.hashPos = out.pos;
    out.pos += 8;
    out.int32(4);
    out.int32(this.batchId);
    out.int32(4);
    out.int32(rowNumber);
    this.keyStart = -1;
  }

  /** The row key as bytes of `source` (room was reserved by begin). */
  keyBytes(source: Uint8Array, start: number, end: number): void {
    this.out.int32(end - start);
    this.keyStart = this.out.pos;
    this.out.bytes(source, start, end);
    this.keyEnd = this.out.pos;
  }

  keyText(key: string | null): void {
    const start = this.out.textField(key);
    if (key === null) return;
    this.keyStart = start;
    this.keyEnd = this.out.pos;
  }

  /** Starts the features field; the caller writes the JSON into `out` (room was reserved by begin). */
  beginFeatures(): void {
    this.featuresAt = this.out.pos;
    this.out.pos += 4;
  }

  featuresText(json: string): void {
    this.featuresAt = this.out.textField(json) - 4;
  }

  /** Ends the row; returns its split. `this.hash` holds its hash. */
  finish(label: LabelValue): Split {
    const out = this.out;
    const featuresStart = this.featuresAt + 4;
    out.buf.writeInt32BE(out.pos - featuresStart, this.featuresAt);
    if (this.keyStart >= 0) hashBytes(out.buf, this.keyStart, this.keyEnd, this.hash);
    else hashBytes(out.buf, featuresStart, out.pos, this.hash);
    out.buf.writeUInt32BE(this.hash.hi, this.hashPos);
    out.buf.writeUInt32BE(this.hash.lo, this.hashPos + 4);
    out.reserve(LABEL_AND_SPLIT);
    if (label === null) out.int32(-1);
    else {
      out.int32(2);
      out.int16(label);
    }
    const split = splitOf(this.hash);
    const bytes = SPLIT_BYTES[split];
    out.int32(bytes.length);
    out.bytes(bytes, 0, bytes.length);
    return split;
  }

  /** Takes back the row last begun. */
  discard(): void {
    this.out.pos = this.rowStart;
  }

  /** Where the row last begun starts in `out`. */
  get start(): number {
    return this.rowStart;
  }

  /** The hash of the row starting at `start` in `out`. */
  hashAt(start: number, into: RowHash): RowHash {
    into.hi = this.out.buf.readUInt32BE(start + HASH_OFFSET);
    into.lo = this.out.buf.readUInt32BE(start + HASH_OFFSET + 4);
    return into;
  }
}
