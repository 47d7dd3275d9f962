import { BinaryTupleBuffer } from "../db/copy-binary.js";
import { hashBytes, splitOf } from "./row-hash.js";
/** The examples columns ingest writes, in tuple order. */
export const EXAMPLE_COLUMNS = ["row_hash", "batch_id", "row_number", "row_key", "features", "label", "split"];
/** A tuple starts with its field count (2 bytes) and the hash's length (4). */
const HASH_OFFSET = 6;
const SPLIT_BYTES = { train: Buffer.from("train"), validation: Buffer.from("validation"), test: Buffer.from("test") };
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
    batchId;
    out = new BinaryTupleBuffer();
    /** The hash of the row last finished. */
    hash = { hi: 0, lo: 0 };
    rowStart = 0;
    hashPos = 0;
    keyStart = -1;
    keyEnd = -1;
    featuresAt = 0;
    constructor(batchId) {
        this.batchId = batchId;
    }
    /** Starts a row; `room` is the most its key and features can take. */
    begin(rowNumber, room) {
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
    keyBytes(source, start, end) {
        this.out.int32(end - start);
        this.keyStart = this.out.pos;
        this.out.bytes(source, start, end);
        this.keyEnd = this.out.pos;
    }
    keyText(key) {
        const start = this.out.textField(key);
        if (key === null)
            return;
        this.keyStart = start;
        this.keyEnd = this.out.pos;
    }
    /** Starts the features field; the caller writes the JSON into `out` (room was reserved by begin). */
    beginFeatures() {
        this.featuresAt = this.out.pos;
        this.out.pos += 4;
    }
    featuresText(json) {
        this.featuresAt = this.out.textField(json) - 4;
    }
    /** Ends the row; returns its split. `this.hash` holds its hash. */
    finish(label) {
        const out = this.out;
        const featuresStart = this.featuresAt + 4;
        out.buf.writeInt32BE(out.pos - featuresStart, this.featuresAt);
        if (this.keyStart >= 0)
            hashBytes(out.buf, this.keyStart, this.keyEnd, this.hash);
        else
            hashBytes(out.buf, featuresStart, out.pos, this.hash);
        out.buf.writeUInt32BE(this.hash.hi, this.hashPos);
        out.buf.writeUInt32BE(this.hash.lo, this.hashPos + 4);
        out.reserve(LABEL_AND_SPLIT);
        if (label === null)
            out.int32(-1);
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
    discard() {
        this.out.pos = this.rowStart;
    }
    /** Where the row last begun starts in `out`. */
    get start() {
        return this.rowStart;
    }
    /** The hash of the row starting at `start` in `out`. */
    hashAt(start, into) {
        into.hi = this.out.buf.readUInt32BE(start + HASH_OFFSET);
        into.lo = this.out.buf.readUInt32BE(start + HASH_OFFSET + 4);
        return into;
    }
}
//# sourceMappingURL=example-rows.js.map