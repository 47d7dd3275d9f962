import path from "node:path";
import type pg from "pg";
import { copyBinaryIn } from "../db/copy-binary.js";
import { BisectInterrupted, copyBisecting, refusedData } from "./copy-bisect.js";
import { LOG_COLUMNS, type LoggedPrediction, PredictionCopyChunks } from "./prediction-log-tuples.js";
import { replaySpillFiles } from "./spill-replay.js";
import { appendDurably } from "./spill-file.js";

export type { LoggedPrediction } from "./prediction-log-tuples.js";

export interface PredictionLogOptions {
  /** Opens a new connection for writing (after the previous one failed). */
  connect: () => Promise<pg.Client>;
  /** Where rows go while the database is down (and rows PostgreSQL refuses, as `*.rejected`). */
  spillDir: string;
  flushIntervalMs?: number;
  onError?: (error: Error) => void;
  /** What a write or replay had to set aside (a torn last row, rows PostgreSQL refuses). */
  onNote?: (message: string) => void;
}

export interface PredictionLogStats {
  buffered: number;
  written: number;
  spilled: number;
  /** Rows PostgreSQL refused on their own, set aside in a `.rejected` file. */
  rejected: number;
  databaseUp: boolean;
}

/** Spill files hold binary tuples without COPY's header and trailer, so appending is all a spill does. */
const SPILL_SUFFIX = ".tuples";

/**
 * The serve log, off the request path: `add` only appends a COPY tuple to a buffer; a timer
 * writes the buffer with COPY in one round trip every interval. While the database is down,
 * each interval appends the buffer to a spill file (fsynced), so a crash loses at most one
 * interval; spill files are replayed when the database is back (and on the next start)
 * through a staging table with ON CONFLICT DO NOTHING, so a row written just before a crash is
 * never stored twice. A batch PostgreSQL refuses is bisected: only the rows it refuses on
 * their own are set aside (in `<spill file>.rejected`, counted). `close` writes everything or
 * spills it.
 */
export class PredictionLogWriter {
  private readonly buffer = new PredictionCopyChunks();
  private client: pg.Client | undefined;
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  /** Spill appends, replays and rejects, one at a time: a replay never reads a file mid-append. */
  private files: Promise<unknown> = Promise.resolve();
  /** Rows taken out of the buffer by the write in progress: still not in the database. */
  private writing = 0;
  private readonly stats: PredictionLogStats = { buffered: 0, written: 0, spilled: 0, rejected: 0, databaseUp: true };
  private readonly spillFile: string;

  constructor(private readonly options: PredictionLogOptions) {
    this.spillFile = path.join(options.spillDir, `spill-${process.pid}-${Date.now()}${SPILL_SUFFIX}`);
  }

  start(): void {
    this.timer = setInterval(() => this.tick(), this.options.flushIntervalMs ?? 200);
    this.timer.unref();
  }

  /**
   * Every interval: while the database is down, the buffer goes to disk first (even while a
   * reconnect is still waiting for its timeout), then a write or reconnect is tried.
   */
  private tick(): void {
    if (!this.stats.databaseUp && this.buffer.rows > 0) void this.spillBuffered().catch((error: Error) => this.options.onError?.(error));
    void this.flush();
  }

  add(row: LoggedPrediction): void {
    this.buffer.append(row);
  }

  snapshot(): PredictionLogStats {
    return { ...this.stats, buffered: this.buffer.rows + this.writing };
  }

  /** Writes what is buffered (and any spilled rows); one flush at a time. */
  flush(): Promise<void> {
    this.flushing ??= this.flushOnce().finally(() => (this.flushing = undefined));
    return this.flushing;
  }

  private async flushOnce(): Promise<void> {
    if (this.buffer.rows === 0 && this.stats.databaseUp) return;
    let taken: { chunks: Buffer[]; rows: number } = { chunks: [], rows: 0 };
    try {
      // Rows are taken only once there is a connection: while a reconnect waits for its
      // timeout they stay in the buffer, which every tick spills to disk.
      const client = await this.connection();
      taken = this.buffer.take();
      this.writing = taken.rows;
      if (taken.rows > 0) {
        try {
          await copyBinaryIn(client, "predictions", LOG_COLUMNS, taken.chunks);
          this.stats.written += taken.rows;
        } catch (error) {
          if (!refusedData(error)) throw error;
          // One bad row must not hold back the others: find it by halves, set it aside.
          await this.writeBisecting(Buffer.concat(taken.chunks), (part) => copyBinaryIn(client, "predictions", LOG_COLUMNS, [part]));
        }
        taken = { chunks: [], rows: 0 };
      }
      if (!this.stats.databaseUp) {
        this.stats.databaseUp = true;
        await this.replaySpills(client);
      }
    } catch (error) {
      if (error instanceof BisectInterrupted) taken = { chunks: [error.remaining], rows: error.remainingRows };
      this.stats.databaseUp = false;
      await this.client?.end().catch(() => undefined);
      this.client = undefined;
      // To disk at once: what was being written, and what waits behind it.
      if (taken.rows > 0) await this.spillRows(taken).catch(() => undefined);
      await this.spillBuffered().catch(() => undefined);
      this.options.onError?.((error instanceof BisectInterrupted ? error.cause : error) as Error);
    } finally {
      this.writing = 0;
    }
  }

  /** Bisects refused tuples; the rows refused alone go to the rejected file and are counted. */
  private async writeBisecting(tuples: Buffer, copy: (part: Buffer) => Promise<void>): Promise<number> {
    let result: Awaited<ReturnType<typeof copyBisecting>>;
    try {
      result = await copyBisecting(tuples, copy);
    } catch (error) {
      if (error instanceof BisectInterrupted) {
        this.stats.written += error.done.written;
        await this.reject(error.done.rejected, error.done.reason);
      }
      throw error;
    }
    this.stats.written += result.written;
    await this.reject(result.rejected, result.reason);
    return result.written;
  }

  private async reject(tuples: Buffer[], reason: string | undefined): Promise<void> {
    if (tuples.length === 0) return;
    const file = `${this.spillFile}.rejected`;
    await this.fileOp(() => appendDurably(file, Buffer.concat(tuples)));
    this.stats.rejected += tuples.length;
    this.options.onNote?.(
      `PostgreSQL refused ${tuples.length} row(s) (${reason ?? "no reason given"}); set aside in ${path.basename(file)}, every other row was written`,
    );
  }

  private async connection(): Promise<pg.Client> {
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

  private fileOp<T>(op: () => Promise<T>): Promise<T> {
    const next = this.files.then(op, op);
    this.files = next.catch(() => undefined);
    return next;
  }

  /** Appends rows to this process's spill file (kept in memory if even that fails). */
  private async spillRows(taken: { chunks: Buffer[]; rows: number }): Promise<void> {
    try {
      await this.fileOp(() => appendDurably(this.spillFile, Buffer.concat(taken.chunks)));
      this.stats.spilled += taken.rows;
    } catch (error) {
      this.buffer.restore(taken);
      throw error;
    }
  }

  private spillBuffered(): Promise<void> {
    const taken = this.buffer.take();
    return taken.rows > 0 ? this.spillRows(taken) : Promise.resolve();
  }

  /** Replays spill files (this process's and those left by earlier ones) without duplicates. */
  replaySpills(client?: pg.Client): Promise<number> {
    return this.fileOp(() => this.replayFiles(client));
  }

  private async replayFiles(client?: pg.Client): Promise<number> {
    const result = await replaySpillFiles(
      this.options.spillDir,
      SPILL_SUFFIX,
      () => (client ? Promise.resolve(client) : this.connection()),
      (note) => this.options.onNote?.(note),
    );
    this.stats.written += result.replayed;
    this.stats.rejected += result.rejected;
    return result.replayed;
  }

  /** Final flush: everything is written, or spilled to disk when the database is down. */
  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.flushing;
    await this.flush();
    if (this.buffer.rows > 0) await this.spillBuffered();
    await this.files;
    await this.client?.end().catch(() => undefined);
    this.client = undefined;
  }
}
