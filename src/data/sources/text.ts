import { isUtf8 } from "node:buffer";
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
 * A source's bytes as received, made plain: transparently gunzipped (by magic number, so stdin
 * and URLs work too), hashed as received (the batch checksum) and counted for progress.
 */
export async function* plainBytes(
  bytes: AsyncIterable<Buffer>,
  options: { hash: Hash; counter: ByteCounter; label: string },
): AsyncGenerator<Buffer> {
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
  if (!(head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b)) {
    yield* raw();
    return;
  }
  try {
    for await (const chunk of Readable.from(raw()).pipe(createGunzip())) yield chunk as Buffer;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code?.startsWith("Z_")) {
      throw usageError(
        "GZIP_INVALID",
        `${options.label} looks gzipped but does not decompress: ${(error as Error).message}.`,
        "Check that the file is complete.",
      );
    }
    throw error;
  }
}

/**
 * Plain bytes as text, refusing binary data or text that is not in the expected encoding
 * instead of storing mojibake.
 */
export async function* decodeText(plain: AsyncIterable<Buffer>, options: { encoding: TextEncoding; label: string }): AsyncGenerator<string> {
  const decoder = new TextDecoder(DECODER_LABELS[options.encoding], { fatal: true });
  let lines = 0;
  let current: Buffer | undefined;
  try {
    for await (const chunk of plain) {
      current = chunk;
      if (lines === 0 && options.encoding !== "utf16le" && (current.includes(0) || utf16Kind(current.subarray(0, 2)) !== undefined)) {
        throw binaryError(options.label, current);
      }
      const text = decoder.decode(current, { stream: true });
      lines += countLines(text);
      if (text !== "") yield text;
    }
    const rest = decoder.decode();
    if (rest !== "") yield rest;
  } catch (error) {
    if (error instanceof TypeError && /decode|encoded data/i.test(error.message)) {
      throw encodingError(options.label, options.encoding, lines + firstBadLine(current, options.encoding));
    }
    throw error;
  }
}

/**
 * Plain bytes as UTF-8 bytes, checked but not decoded: the CSV hot path works on bytes. Other
 * encodings are decoded and re-encoded. Chunks end on a character boundary; a leading BOM goes.
 */
export async function* utf8Bytes(plain: AsyncIterable<Buffer>, options: { encoding: TextEncoding; label: string }): AsyncGenerator<Buffer> {
  if (options.encoding !== "utf8") {
    for await (const text of decodeText(plain, options)) yield Buffer.from(text, "utf8");
    return;
  }
  let carry: Buffer | undefined;
  let lines = 0;
  let first = true;
  for await (const chunk of plain) {
    let bytes = carry === undefined ? chunk : Buffer.concat([carry, chunk]);
    if (first) {
      first = false;
      if (bytes.includes(0) || utf16Kind(bytes.subarray(0, 2)) !== undefined) throw binaryError(options.label, bytes);
      if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) bytes = bytes.subarray(3);
    }
    const cut = characterBoundary(bytes);
    carry = cut < bytes.length ? Buffer.from(bytes.subarray(cut)) : undefined;
    const whole = bytes.subarray(0, cut);
    if (!isUtf8(whole)) throw encodingError(options.label, "utf8", lines + firstBadLine(whole, "utf8"));
    lines += countNewlines(whole);
    if (whole.length > 0) yield whole;
  }
  if (carry !== undefined) throw encodingError(options.label, "utf8", lines + 1);
}

/** Where the last, possibly incomplete, multi-byte character of `bytes` starts (or its length). */
function characterBoundary(bytes: Buffer): number {
  for (let back = 1; back <= 3 && back <= bytes.length; back += 1) {
    const byte = bytes[bytes.length - back]!;
    if ((byte & 0xc0) === 0x80) continue;
    const needed = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
    return needed > back ? bytes.length - back : bytes.length;
  }
  return bytes.length;
}

function countNewlines(bytes: Buffer): number {
  let count = 0;
  for (let i = bytes.indexOf(10); i !== -1; i = bytes.indexOf(10, i + 1)) count += 1;
  return count;
}

function encodingError(label: string, encoding: TextEncoding, line: number) {
  return usageError(
    "ENCODING_INVALID",
    `${label} is not valid ${encoding === "utf8" ? "UTF-8" : encoding} text: the first bad byte is on line ${line}.`,
    encoding === "utf8"
      ? "If it is Latin-1/Windows-1252, pass --encoding latin1; otherwise convert it with iconv -t UTF-8."
      : "Pass the right --encoding (utf8, latin1, utf16le).",
  );
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

/**
 * UTF-16 text by its byte order mark, else by its pattern: ASCII characters in UTF-16 have a NUL
 * in every other byte (the odd bytes for little-endian), which binary data rarely does for long.
 */
function utf16Kind(head: Buffer): "utf16le" | "utf16be" | undefined {
  if (head[0] === 0xff && head[1] === 0xfe) return "utf16le";
  if (head[0] === 0xfe && head[1] === 0xff) return "utf16be";
  const pairs = Math.min(256, head.length >> 1);
  if (pairs < 4) return undefined;
  let evenNul = 0;
  let oddNul = 0;
  for (let i = 0; i < pairs; i++) {
    if (head[2 * i] === 0) evenNul += 1;
    if (head[2 * i + 1] === 0) oddNul += 1;
  }
  if (oddNul >= 0.9 * pairs && evenNul <= 0.1 * pairs) return "utf16le";
  if (evenNul >= 0.9 * pairs && oddNul <= 0.1 * pairs) return "utf16be";
  return undefined;
}

function binaryError(label: string, head: Buffer) {
  const utf16 = utf16Kind(head);
  if (utf16 === "utf16le") {
    return usageError("ENCODING_UTF16", `${label} is UTF-16 (little-endian) text, not UTF-8.`, "Pass --encoding utf16le.");
  }
  if (utf16 === "utf16be") {
    return usageError(
      "ENCODING_UTF16",
      `${label} is UTF-16 big-endian text, which mlops does not read.`,
      "Convert it: iconv -f UTF-16BE -t UTF-8 FILE > FILE.utf8.csv, then collect that.",
    );
  }
  return usageError(
    "BINARY_INPUT",
    `${label} holds binary data (NUL bytes), not CSV or JSON text.`,
    "Point mlops at a CSV or JSONL file (optionally .gz).",
  );
}

export function newChecksum(): Hash {
  return createHash("sha256");
}
