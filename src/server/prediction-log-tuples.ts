import { BinaryTupleBuffer } from "../db/copy-binary.js";

/** One answered prediction, as the log writes it. */
export interface LoggedPrediction {
  id: string;
  versionId: number;
  requestId: string | null;
  featuresJson: string;
  probability: number;
  label: 0 | 1;
  latencyMs: number;
  createdAt: Date;
}

const HEX_VALUE = new Int8Array(128).fill(-1);
for (let i = 0; i < 16; i += 1) HEX_VALUE["0123456789abcdef".charCodeAt(i)] = i;

/** What a row of the log holds besides its version, request id or row key, time and source: the same for the server and `mlops predict --log`. */
export interface PredictionTupleValues {
  id: string;
  featuresJson: string;
  probability: number;
  label: 0 | 1;
  latencyMs: number;
}

/**
 * The most bytes one tuple can take (3 bytes of UTF-8 per UTF-16 unit of its text), so callers
 * reserve once and write unchecked.
 */
export function predictionTupleRoom(row: PredictionTupleValues, requestId: string | null, source: Buffer | null): number {
  return FIXED_BYTES + 3 * (row.featuresJson.length + (requestId?.length ?? 0)) + (source ? 4 + source.length : 0);
}

/**
 * One row of the prediction log as a binary COPY tuple, in the order of LOG_COLUMNS (then
 * `source`, when given: the server leaves it out and gets the column's default, `live`). Room
 * must be reserved (predictionTupleRoom). The one encoder of the log: the server's writer and
 * `mlops predict --log` (pipeline/predict/batch-log.ts) both call it.
 */
export function encodePredictionTuple(
  out: BinaryTupleBuffer,
  row: PredictionTupleValues,
  versionId: number,
  requestId: string | null,
  createdAtMs: number,
  source: Buffer | null,
): void {
  out.int16(source ? LOG_COLUMNS.length + 1 : LOG_COLUMNS.length);
  out.int32(16);
  const { id } = row;
  for (let i = 0; i < id.length; i += 1) {
    if (id.charCodeAt(i) === 45) continue; // "-"
    out.buf[out.pos++] = (HEX_VALUE[id.charCodeAt(i)]! << 4) | HEX_VALUE[id.charCodeAt(++i)]!;
  }
  out.int32(4);
  out.int32(versionId);
  out.textField(requestId);
  out.textField(row.featuresJson);
  out.int32(8);
  out.float64(row.probability);
  out.int32(2);
  out.int16(row.label);
  out.int32(4);
  out.float32(row.latencyMs);
  out.timestamptzField(createdAtMs);
  if (source) {
    out.int32(source.length);
    out.bytes(source, 0, source.length);
  }
}

/**
 * The server's log between flushes: its rows encoded as binary COPY tuples in sealed 1 MiB
 * chunks that one COPY sends whole, and that a failed write puts back in front. (BinaryTupleBuffer,
 * which it writes into, is one growable buffer; this is the list of chunks.) Binary spares both
 * sides the text round trip of uuids, floats and timestamps; bytes in Buffers rather than
 * JavaScript strings mean rows kept for a 200 ms flush interval do not make the garbage collector
 * copy them.
 */
export class PredictionCopyChunks {
  private static readonly CHUNK = 1 << 20;
  private sealed: Buffer[] = [];
  private current = new BinaryTupleBuffer(PredictionCopyChunks.CHUNK);
  rows = 0;

  append(row: LoggedPrediction): void {
    // A chunk that cannot take the row's worst case is sealed rather than grown.
    const room = predictionTupleRoom(row, row.requestId, null);
    if (this.current.pos + room > this.current.buf.length) this.seal();
    const out = this.current;
    out.reserve(room);
    const start = out.pos;
    try {
      encodePredictionTuple(out, row, row.versionId, row.requestId, row.createdAt.getTime(), null);
    } catch (error) {
      // Never leave half a tuple behind: it would make every later COPY of the log fail.
      out.pos = start;
      throw error;
    }
    this.rows += 1;
  }

  /** Everything appended so far, leaving the buffer empty. */
  take(): { chunks: Buffer[]; rows: number } {
    this.seal();
    const taken = { chunks: this.sealed, rows: this.rows };
    this.sealed = [];
    this.rows = 0;
    return taken;
  }

  /** Puts rows back in front (a write that failed), keeping their order. */
  restore(taken: { chunks: Buffer[]; rows: number }): void {
    this.seal();
    this.sealed = taken.chunks.concat(this.sealed);
    this.rows += taken.rows;
  }

  /** Closes the current chunk and starts a fresh one. */
  private seal(): void {
    if (this.current.pos > 0) this.sealed.push(this.current.take());
  }
}

export const LOG_COLUMNS = ["id", "version_id", "request_id", "features", "probability", "label", "latency_ms", "created_at"];
/** A tuple's bytes but for the text of its two text fields and its source: count, lengths, uuid, ids, floats, label, time. */
const FIXED_BYTES = 2 + 8 * 4 + 16 + 4 + 8 + 2 + 4 + 8;
/** How many leading bytes of `tuples` are whole binary COPY tuples (field count, then length-prefixed fields). */
export function wholeTuplesLength(tuples: Buffer): number {
  let whole = 0;
  let pos = 0;
  while (pos + 2 <= tuples.length) {
    const fields = tuples.readInt16BE(pos);
    pos += 2;
    for (let f = 0; f < fields && pos <= tuples.length; f += 1) {
      if (pos + 4 > tuples.length) return whole;
      const length = tuples.readInt32BE(pos);
      pos += 4 + Math.max(0, length);
    }
    if (pos > tuples.length) return whole;
    whole = pos;
  }
  return whole;
}

/** Where each tuple of `tuples` (whole tuples only, see wholeTuplesLength) starts, and last where the last one ends. */
export function tupleBounds(tuples: Buffer): number[] {
  const bounds = [0];
  let pos = 0;
  while (pos + 2 <= tuples.length) {
    const fields = tuples.readInt16BE(pos);
    pos += 2;
    for (let f = 0; f < fields; f += 1) pos += 4 + Math.max(0, tuples.readInt32BE(pos));
    if (pos > tuples.length) break;
    bounds.push(pos);
  }
  return bounds;
}
