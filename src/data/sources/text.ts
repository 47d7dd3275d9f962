import { createHash, type Hash } from "node:crypto";
import { Readable } from "node:stream";
import { createGunzip } from "node:zlib";
import { usageError } from "../../errors.js";

export type TextEncoding = "utf8" | "latin1" | "utf16le";

const DECODER_LABELS: Record<TextEncoding, string> = { utf8: "utf-8", latin1: "windows-1252", utf16le: "utf-16le" };

export interface ByteCounter {
  /** Bytes read from the source so far (compressed bytes for .gz). */
  bytes: number;
}

/**
 * Turns a source's bytes into text: transparently gunzips (by magic number, so stdin and URLs
 * work too), hashes the bytes as received (the batch checksum), counts them for progress, and
 * refuses binary data or text that is not in the expected encoding instead of storing mojibake.
 */
export async function* decodeText(
  bytes: AsyncIterable<Buffer>,
  options: { encoding: TextEncoding; label: string; hash: Hash; counter: ByteCounter },
): AsyncGenerator<string> {
  const iterator = bytes[Symbol.asyncIterator]();
  const first = await iterator.next();
  if (first.done) return;
  const head = first.value;
  async function* raw(): AsyncGenerator<Buffer> {
    options.hash.update(head);
    options.counter.bytes += head.length;
    yield head;
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) {
      options.hash.update(next.value);
      options.counter.bytes += next.value.length;
      yield next.value;
    }
  }
  const gzipped = head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b;
  const plain: AsyncIterable<Buffer> = gzipped ? Readable.from(raw()).pipe(createGunzip()) : raw();

  const decoder = new TextDecoder(DECODER_LABELS[options.encoding], { fatal: true });
  let lines = 0;
  let current: Buffer | undefined;
  try {
    for await (const chunk of plain) {
      current = chunk as Buffer;
      if (lines === 0 && options.encoding !== "utf16le" && current.includes(0)) throw binaryError(options.label);
      const text = decoder.decode(current, { stream: true });
      lines += countLines(text);
      if (text !== "") yield text;
    }
    const rest = decoder.decode();
    if (rest !== "") yield rest;
  } catch (error) {
    if (error instanceof TypeError && /decode|encoded data/i.test(error.message)) {
      throw usageError(
        "ENCODING_INVALID",
        `${options.label} is not valid ${options.encoding === "utf8" ? "UTF-8" : options.encoding} text: the first bad byte is on line ${lines + firstBadLine(current, options.encoding)}.`,
        options.encoding === "utf8"
          ? "If it is Latin-1/Windows-1252, pass --encoding latin1; otherwise convert it with iconv -t UTF-8."
          : "Pass the right --encoding (utf8, latin1, utf16le).",
      );
    }
    if ((error as NodeJS.ErrnoException).code?.startsWith("Z_")) {
      throw usageError("GZIP_INVALID", `${options.label} looks gzipped but does not decompress: ${(error as Error).message}.`, "Check that the file is complete.");
    }
    throw error;
  }
}

function countLines(text: string): number {
  let count = 0;
  for (let i = text.indexOf("\n"); i !== -1; i = text.indexOf("\n", i + 1)) count += 1;
  return count;
}

/** The 1-based line, within `chunk`, of the first byte that does not decode. */
function firstBadLine(chunk: Buffer | undefined, encoding: TextEncoding): number {
  if (chunk === undefined) return 1;
  const lenient = new TextDecoder(DECODER_LABELS[encoding]).decode(chunk);
  const bad = lenient.indexOf("\uFFFD");
  return countLines(lenient.slice(0, bad === -1 ? lenient.length : bad)) + 1;
}

function binaryError(label: string) {
  return usageError("BINARY_INPUT", `${label} holds binary data (NUL bytes), not CSV or JSON text.`, "Point mlops at a CSV or JSONL file (optionally .gz).");
}

export function newChecksum(): Hash {
  return createHash("sha256");
}
