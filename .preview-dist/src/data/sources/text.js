import { isUtf8 } from "node:buffer";
import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import { createGunzip } from "node:zlib";
import { usageError } from "../../errors.js";
const DECODER_LABELS = { utf8: "utf-8", latin1: "windows-1252", utf16le: "utf-16le" };
/**
 * A source's bytes as received, made plain: transparently gunzipped (by magic number, so stdin
 * and URLs work too), hashed as received (the batch checksum) and counted for progress.
 */
export async function* plainBytes(bytes, options) {
    const iterator = bytes[Symbol.asyncIterator]();
    const first = await iterator.next();
    if (first.done)
        return;
    const head = first.value;
    async function* raw() {
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
        for await (const chunk of Readable.from(raw()).pipe(createGunzip()))
            yield chunk;
    }
    catch (error) {
        if (error.code?.startsWith("Z_")) {
            throw usageError("GZIP_INVALID", `${options.label} looks gzipped but does not decompress: ${error.message}.`, "Check that the file is complete.");
        }
        throw error;
    }
}
/**
 * Plain bytes as text, refusing binary data or text that is not in the expected encoding
 * instead of storing mojibake.
 */
export async function* decodeText(plain, options) {
    const decoder = new TextDecoder(DECODER_LABELS[options.encoding], { fatal: true });
    let lines = 0;
    let current;
    try {
        for await (const chunk of plain) {
            current = chunk;
            if (lines === 0 && options.encoding !== "utf16le" && current.includes(0))
                throw binaryError(options.label);
            const text = decoder.decode(current, { stream: true });
            lines += countLines(text);
            if (text !== "")
                yield text;
        }
        const rest = decoder.decode();
        if (rest !== "")
            yield rest;
    }
    catch (error) {
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
export async function* utf8Bytes(plain, options) {
    if (options.encoding !== "utf8") {
        for await (const text of decodeText(plain, options))
            yield Buffer.from(text, "utf8");
        return;
    }
    let carry;
    let lines = 0;
    let first = true;
    for await (const chunk of plain) {
        let bytes = carry === undefined ? chunk : Buffer.concat([carry, chunk]);
        if (first) {
            first = false;
            if (bytes.includes(0))
                throw binaryError(options.label);
            if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf)
                bytes = bytes.subarray(3);
        }
        const cut = characterBoundary(bytes);
        carry = cut < bytes.length ? Buffer.from(bytes.subarray(cut)) : undefined;
        const whole = bytes.subarray(0, cut);
        if (!isUtf8(whole))
            throw encodingError(options.label, "utf8", lines + firstBadLine(whole, "utf8"));
        lines += countNewlines(whole);
        if (whole.length > 0)
            yield whole;
    }
    if (carry !== undefined)
        throw encodingError(options.label, "utf8", lines + 1);
}
/** Where the last, possibly incomplete, multi-byte character of `bytes` starts (or its length). */
function characterBoundary(bytes) {
    for (let back = 1; back <= 3 && back <= bytes.length; back += 1) {
        const byte = bytes[bytes.length - back];
        if ((byte & 0xc0) === 0x80)
            continue;
        const needed = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
        return needed > back ? bytes.length - back : bytes.length;
    }
    return bytes.length;
}
function countNewlines(bytes) {
    let count = 0;
    for (let i = bytes.indexOf(10); i !== -1; i = bytes.indexOf(10, i + 1))
        count += 1;
    return count;
}
function encodingError(label, encoding, line) {
    return usageError("ENCODING_INVALID", `${label} is not valid ${encoding === "utf8" ? "UTF-8" : encoding} text: the first bad byte is on line ${line}.`, encoding === "utf8"
        ? "If it is Latin-1/Windows-1252, pass --encoding latin1; otherwise convert it with iconv -t UTF-8."
        : "Pass the right --encoding (utf8, latin1, utf16le).");
}
function countLines(text) {
    let count = 0;
    for (let i = text.indexOf("\n"); i !== -1; i = text.indexOf("\n", i + 1))
        count += 1;
    return count;
}
/** The 1-based line, within `chunk`, of the first byte that does not decode. */
function firstBadLine(chunk, encoding) {
    if (chunk === undefined)
        return 1;
    const lenient = new TextDecoder(DECODER_LABELS[encoding]).decode(chunk);
    const bad = lenient.indexOf("\uFFFD");
    return countLines(lenient.slice(0, bad === -1 ? lenient.length : bad)) + 1;
}
function binaryError(label) {
    return usageError("BINARY_INPUT", `${label} holds binary data (NUL bytes), not CSV or JSON text.`, "Point mlops at a CSV or JSONL file (optionally .gz).");
}
export function newChecksum() {
    return createHash("sha256");
}
//# sourceMappingURL=text.js.map