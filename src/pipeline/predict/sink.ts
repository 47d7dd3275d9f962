import { once } from "node:events";
import { createWriteStream } from "node:fs";
import { rename, rm } from "node:fs/promises";
import path from "node:path";
import type { Writable } from "node:stream";
import { createGzip } from "node:zlib";
import { ExitCode, MlopsError } from "../../errors.js";
import { isSpecialFile } from "../../output-file.js";

/** Bytes gathered before a write: one write per MiB keeps the stream's per-call cost out of the row loop. */
const CHUNK = 1 << 20;

/**
 * Where a file of results goes: standard output, or a hidden temporary file beside the target
 * (mode 0600: it holds user data) renamed into place once complete, so a reader never sees half
 * a file and a failed run leaves the previous file as it was. A name ending in .gz is gzipped.
 * Rows are gathered into a growable buffer and written a MiB at a time with back-pressure, so
 * memory stays flat however many rows pass.
 */
export class ByteSink {
  buf = Buffer.allocUnsafe(CHUNK * 2);
  pos = 0;
  private failure: Error | undefined;

  private constructor(
    private readonly stream: Writable,
    private readonly file: Writable | undefined,
    /** The temporary file and the target, or undefined for stdout. */
    private readonly paths: { temp: string; target: string } | undefined,
  ) {
    for (const each of new Set([stream, file ?? stream])) each.on("error", (error: Error) => (this.failure ??= error));
  }

  static open(target: string): ByteSink {
    if (target === "-") return new ByteSink(process.stdout, undefined, undefined);
    // A device or a pipe (/dev/null, /dev/stdout) is written in place: a rename would replace it.
    const temp = isSpecialFile(target) ? target : path.join(path.dirname(target), `.${path.basename(target)}.partial-${process.pid}`);
    const file = createWriteStream(temp, { mode: 0o600 });
    if (!target.toLowerCase().endsWith(".gz")) return new ByteSink(file, file, { temp, target });
    const gzip = createGzip({ level: 6 });
    gzip.pipe(file);
    return new ByteSink(gzip, file, { temp, target });
  }

  /** Makes room for `bytes` more bytes. */
  reserve(bytes: number): void {
    if (this.pos + bytes <= this.buf.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + bytes));
    this.buf.copy(grown, 0, 0, this.pos);
    this.buf = grown;
  }

  bytes(source: Buffer, start: number, end: number): void {
    this.reserve(end - start);
    this.pos += source.copy(this.buf, this.pos, start, end);
  }

  newline(): void {
    this.reserve(1);
    this.buf[this.pos++] = 10;
  }

  /** Text known to be ASCII (a number's digits): written without UTF-8 encoding. */
  ascii(value: string): void {
    this.reserve(value.length);
    this.pos += this.buf.write(value, this.pos, "latin1");
  }

  text(value: string): void {
    // A UTF-16 code unit is at most 3 bytes of UTF-8.
    this.reserve(value.length * 3);
    this.pos += this.buf.write(value, this.pos, "utf8");
  }

  /** Writes what was gathered once it reaches a chunk, waiting while the stream is full. */
  async maybeFlush(): Promise<void> {
    if (this.pos >= CHUNK) await this.flush();
  }

  private async flush(): Promise<void> {
    this.check();
    if (this.pos === 0) return;
    const chunk = Buffer.from(this.buf.subarray(0, this.pos));
    this.pos = 0;
    // An error rejects once(): a failed stream never drains.
    if (!this.stream.write(chunk)) await once(this.stream, "drain");
    this.check();
  }

  /** Writes the rest and, for a file, renames it into place. */
  async commit(): Promise<void> {
    await this.flush();
    if (this.paths === undefined) return;
    this.stream.end();
    await once(this.file!, "close");
    this.check();
    if (this.paths.temp !== this.paths.target) await rename(this.paths.temp, this.paths.target);
  }

  /** Drops a file that will not be completed. */
  async abandon(): Promise<void> {
    if (this.paths === undefined) return;
    this.stream.destroy();
    this.file?.destroy();
    if (this.paths.temp !== this.paths.target) await rm(this.paths.temp, { force: true });
  }

  private check(): void {
    if (this.failure === undefined) return;
    const where = this.paths?.target ?? "standard output";
    throw new MlopsError("OUTPUT_FAILED", `Cannot write ${where}: ${this.failure.message}.`, {
      exitCode: ExitCode.usage,
      hint: this.paths ? "Check that the folder exists, is writable and has space." : "Check what standard output is piped into.",
    });
  }
}
