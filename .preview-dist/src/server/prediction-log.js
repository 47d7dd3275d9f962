import { appendFile, mkdir, readdir, readFile, rename, rm } from "node:fs/promises";
import path from "node:path";
import { BinaryTupleBuffer, copyBinaryIn } from "../db/copy-binary.js";
/** Microseconds from the Unix epoch to PostgreSQL's (2000-01-01), for binary timestamps. */
const PG_EPOCH_MS = 946_684_800_000;
const HEX_VALUE = new Int8Array(128).fill(-1);
for (let i = 0; i < 16; i += 1)
    HEX_VALUE["0123456789abcdef".charCodeAt(i)] = i;
/**
 * Logged predictions as binary COPY tuples in 1 MiB chunks. Binary spares both sides the text
 * round trip of uuids, floats and timestamps; bytes in Buffers rather than JavaScript strings
 * mean rows kept for a 200 ms flush interval do not make the garbage collector copy them.
 */
class CopyBuffer {
    static CHUNK = 1 << 20;
    sealed = [];
    current = new BinaryTupleBuffer(CopyBuffer.CHUNK);
    rows = 0;
    append(row) {
        // The worst case of the row (3 bytes of UTF-8 per UTF-16 unit): a chunk that cannot take it
        // is sealed rather than grown.
        const room = FIXED_BYTES + 3 * (row.featuresJson.length + (row.requestId?.length ?? 0));
        if (this.current.pos + room > this.current.buf.length)
            this.seal();
        const out = this.current;
        out.reserve(room);
        const start = out.pos;
        try {
            this.encode(out, row);
        }
        catch (error) {
            // Never leave half a tuple behind: it would make every later COPY of the log fail.
            out.pos = start;
            throw error;
        }
        this.rows += 1;
    }
    encode(out, row) {
        out.int16(LOG_COLUMNS.length);
        out.int32(16);
        const { id } = row;
        for (let i = 0; i < id.length; i += 1) {
            if (id.charCodeAt(i) === 45)
                continue; // "-"
            out.buf[out.pos++] = (HEX_VALUE[id.charCodeAt(i)] << 4) | HEX_VALUE[id.charCodeAt(++i)];
        }
        out.int32(4);
        out.int32(row.versionId);
        out.textField(row.requestId);
        out.textField(row.featuresJson);
        out.int32(8);
        out.float64(row.probability);
        out.int32(2);
        out.int16(row.label);
        out.int32(4);
        out.float32(row.latencyMs);
        const micros = (row.createdAt.getTime() - PG_EPOCH_MS) * 1000;
        out.int32(8);
        out.int32(Math.floor(micros / 4294967296));
        out.int32(micros | 0);
    }
    /** Everything appended so far, leaving the buffer empty. */
    take() {
        this.seal();
        const taken = { chunks: this.sealed, rows: this.rows };
        this.sealed = [];
        this.rows = 0;
        return taken;
    }
    /** Puts rows back in front (a write that failed), keeping their order. */
    restore(taken) {
        this.seal();
        this.sealed = taken.chunks.concat(this.sealed);
        this.rows += taken.rows;
    }
    /** Closes the current chunk and starts a fresh one. */
    seal() {
        if (this.current.pos > 0)
            this.sealed.push(this.current.take());
    }
}
const LOG_COLUMNS = ["id", "version_id", "request_id", "features", "probability", "label", "latency_ms", "created_at"];
/** A tuple's bytes but for the text of its two text fields: count, lengths, uuid, ids, floats, label, time. */
const FIXED_BYTES = 2 + 8 * 4 + 16 + 4 + 8 + 2 + 4 + 8;
/** SQLSTATEs of data PostgreSQL will never take: classes 22 and 23, and 08P01 for unreadable binary fields. */
const REFUSED_DATA = /^(22|23)...$|^08P01$/;
/** Spill files hold binary tuples without COPY's header and trailer, so appending is all a spill does. */
const SPILL_SUFFIX = ".tuples";
/**
 * The serve log, off the request path: `add` only appends a COPY line to a buffer; a timer
 * writes the buffer with COPY in one round trip. While the database is down the rows stay
 * buffered, and past `maxBuffered` they are appended to a spill file, replayed when the
 * database is back (and on the next start). Replays go through a staging table with ON
 * CONFLICT DO NOTHING, so a row written just before a crash is never stored twice. `close`
 * writes everything or spills it: no prediction is lost.
 */
export class PredictionLogWriter {
    options;
    buffer = new CopyBuffer();
    client;
    timer;
    flushing;
    /** Rows taken out of the buffer by the write in progress: still not in the database. */
    writing = 0;
    stats = { buffered: 0, written: 0, spilled: 0, databaseUp: true };
    maxBuffered;
    spillFile;
    constructor(options) {
        this.options = options;
        this.maxBuffered = options.maxBuffered ?? 100_000;
        this.spillFile = path.join(options.spillDir, `spill-${process.pid}-${Date.now()}${SPILL_SUFFIX}`);
    }
    start() {
        this.timer = setInterval(() => void this.flush(), this.options.flushIntervalMs ?? 200);
        this.timer.unref();
    }
    add(row) {
        this.buffer.append(row);
    }
    snapshot() {
        return { ...this.stats, buffered: this.buffer.rows + this.writing };
    }
    /** Writes what is buffered (and any spilled rows); one flush at a time. */
    flush() {
        this.flushing ??= this.flushOnce().finally(() => (this.flushing = undefined));
        return this.flushing;
    }
    async flushOnce() {
        if (this.buffer.rows === 0 && this.stats.databaseUp)
            return;
        const taken = this.buffer.take();
        this.writing = taken.rows;
        try {
            const client = await this.connection();
            if (taken.rows > 0) {
                await copyBinaryIn(client, "predictions", LOG_COLUMNS, taken.chunks);
                this.stats.written += taken.rows;
            }
            if (!this.stats.databaseUp) {
                this.stats.databaseUp = true;
                await this.replaySpills(client);
            }
        }
        catch (error) {
            this.writing = 0; // back in the buffer below
            this.stats.databaseUp = false;
            await this.client?.end().catch(() => undefined);
            this.client = undefined;
            this.buffer.restore(taken);
            if (this.buffer.rows > this.maxBuffered)
                await this.spill();
            this.options.onError?.(error);
        }
        finally {
            this.writing = 0;
        }
    }
    async connection() {
        if (!this.client) {
            const client = await this.options.connect();
            client.on("error", () => {
                this.stats.databaseUp = false;
                this.client = undefined;
            });
            this.client = client;
        }
        return this.client;
    }
    async spill() {
        const taken = this.buffer.take();
        await mkdir(this.options.spillDir, { recursive: true });
        await appendFile(this.spillFile, Buffer.concat(taken.chunks));
        this.stats.spilled += taken.rows;
    }
    /** Replays spill files (this process's and those left by earlier ones) without duplicates. */
    async replaySpills(client) {
        let files;
        try {
            files = (await readdir(this.options.spillDir)).filter((f) => f.endsWith(SPILL_SUFFIX)).sort();
        }
        catch {
            return 0;
        }
        if (files.length === 0)
            return 0;
        const db = client ?? (await this.connection());
        let replayed = 0;
        for (const name of files) {
            const file = path.join(this.options.spillDir, name);
            const read = await readFile(file);
            // A process killed while appending leaves a torn last row: replay the whole ones.
            const tuples = read.subarray(0, wholeTuplesLength(read));
            if (tuples.length < read.length)
                this.options.onNote?.(`${name}: left out a torn last row (${read.length - tuples.length} bytes)`);
            if (tuples.length > 0) {
                await db.query("BEGIN");
                try {
                    await db.query("CREATE TEMP TABLE mlops_spill (LIKE predictions INCLUDING DEFAULTS) ON COMMIT DROP");
                    await copyBinaryIn(db, "mlops_spill", LOG_COLUMNS, [tuples]);
                    const inserted = await db.query(`INSERT INTO predictions SELECT * FROM mlops_spill ON CONFLICT (id) DO NOTHING`);
                    await db.query("COMMIT");
                    replayed += inserted.rowCount ?? 0;
                }
                catch (error) {
                    await db.query("ROLLBACK").catch(() => undefined);
                    // PostgreSQL refusing the data (a data or integrity error, or binary fields it cannot
                    // read) will refuse it on every try: set the file aside, so it neither blocks the files
                    // after it nor is lost. Anything else (the connection) is retried on the next flush.
                    if (!REFUSED_DATA.test(String(error.code ?? "")))
                        throw error;
                    await rename(file, `${file}.rejected`);
                    this.options.onNote?.(`${name}: PostgreSQL refused it (${error.message}); moved to ${name}.rejected`);
                    continue;
                }
            }
            await rm(file, { force: true });
        }
        this.stats.written += replayed;
        return replayed;
    }
    /** Final flush: everything is written, or spilled to disk when the database is down. */
    async close() {
        if (this.timer)
            clearInterval(this.timer);
        await this.flushing;
        await this.flush();
        if (this.buffer.rows > 0)
            await this.spill();
        await this.client?.end().catch(() => undefined);
        this.client = undefined;
    }
}
/** How many leading bytes of `tuples` are whole binary COPY tuples (field count, then length-prefixed fields). */
function wholeTuplesLength(tuples) {
    let whole = 0;
    let pos = 0;
    while (pos + 2 <= tuples.length) {
        const fields = tuples.readInt16BE(pos);
        pos += 2;
        for (let f = 0; f < fields && pos <= tuples.length; f += 1) {
            if (pos + 4 > tuples.length)
                return whole;
            const length = tuples.readInt32BE(pos);
            pos += 4 + Math.max(0, length);
        }
        if (pos > tuples.length)
            return whole;
        whole = pos;
    }
    return whole;
}
//# sourceMappingURL=prediction-log.js.map