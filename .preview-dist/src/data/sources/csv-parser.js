const DEFAULT_MAX_RECORD = 1 << 20;
const NEWLINE = 10;
const CR = 13;
const QUOTE = 34;
export function isCsvLine(record) {
    return "buffer" in record;
}
/** The fields of a line without quotes. */
export function splitCsvLine(record, delimiter) {
    return record.buffer.toString("utf8", record.start, record.end).split(delimiter);
}
export async function* parseCsv(chunks, options = {}) {
    const delimiter = (options.delimiter ?? ",").charCodeAt(0);
    const maxRecord = options.maxRecordLength ?? DEFAULT_MAX_RECORD;
    let buffer = Buffer.alloc(0);
    let line = 1;
    let skippingLongLine = false;
    for await (const chunk of chunks) {
        const out = [];
        buffer = buffer.length === 0 ? chunk : Buffer.concat([buffer, chunk]);
        let pos = 0;
        if (skippingLongLine) {
            const newline = buffer.indexOf(NEWLINE);
            if (newline === -1) {
                buffer = Buffer.alloc(0);
                continue;
            }
            pos = newline + 1;
            line += 1;
            skippingLongLine = false;
        }
        let nextQuote = buffer.indexOf(QUOTE, pos);
        for (;;) {
            const newline = buffer.indexOf(NEWLINE, pos);
            if (newline === -1)
                break;
            if (nextQuote !== -1 && nextQuote < pos)
                nextQuote = buffer.indexOf(QUOTE, pos);
            if (nextQuote === -1 || nextQuote > newline) {
                const end = newline > pos && buffer[newline - 1] === CR ? newline - 1 : newline;
                if (end - pos > maxRecord)
                    out.push(tooLong(line, buffer, pos, maxRecord));
                else if (end > pos)
                    out.push({ line, buffer, start: pos, end });
                pos = newline + 1;
                line += 1;
                continue;
            }
            const quoted = parseQuotedRecord(buffer, pos, delimiter, false);
            if (quoted === undefined)
                break;
            if ("error" in quoted)
                out.push({ line, error: quoted.error, text: buffer.toString("utf8", pos, Math.min(quoted.end, pos + 1000)) });
            else
                out.push({ line, fields: quoted.fields });
            line += quoted.newlines + 1;
            pos = quoted.end;
        }
        buffer = buffer.subarray(pos);
        if (buffer.length > maxRecord) {
            out.push(tooLong(line, buffer, 0, maxRecord));
            const newline = buffer.indexOf(NEWLINE);
            skippingLongLine = newline === -1;
            buffer = newline === -1 ? Buffer.alloc(0) : buffer.subarray(newline + 1);
            if (newline !== -1)
                line += 1;
        }
        if (out.length > 0)
            yield out;
    }
    if (buffer.length > 0 && !skippingLongLine) {
        const last = parseQuotedRecord(buffer, 0, delimiter, true);
        if (last === undefined)
            return;
        if ("error" in last)
            yield [{ line, error: last.error, text: buffer.toString("utf8", 0, 1000) }];
        else if (!(last.fields.length === 1 && last.fields[0] === ""))
            yield [{ line, fields: last.fields }];
    }
}
function tooLong(line, buffer, start, max) {
    return { line, error: `record longer than ${max} bytes`, text: buffer.toString("utf8", start, start + 200) };
}
/**
 * Parses one record starting at `start`. Returns undefined when the buffer ends before the
 * record does (more input needed), unless `final`, when an open quote is an error. A field is
 * decoded from runs of bytes between its quotes, so multi-byte characters stay whole.
 */
function parseQuotedRecord(bytes, start, delimiter, final) {
    const fields = [];
    let field = "";
    let run = start;
    let i = start;
    let newlines = 0;
    let inQuotes = false;
    let afterQuote = false;
    let error;
    const flush = (to) => {
        if (to > run)
            field += bytes.toString("utf8", run, to);
    };
    while (i < bytes.length) {
        const byte = bytes[i];
        if (inQuotes) {
            if (byte === QUOTE) {
                if (bytes[i + 1] === QUOTE) {
                    flush(i + 1);
                    i += 2;
                    run = i;
                    continue;
                }
                if (i + 1 >= bytes.length && !final)
                    return undefined;
                flush(i);
                inQuotes = false;
                afterQuote = true;
                run = i + 1;
            }
            else if (byte === NEWLINE) {
                newlines += 1;
            }
            i += 1;
            continue;
        }
        if (byte === delimiter || byte === NEWLINE) {
            if (!afterQuote)
                flush(byte === NEWLINE && i > run && bytes[i - 1] === CR ? i - 1 : i);
            fields.push(field);
            field = "";
            afterQuote = false;
            run = i + 1;
            if (byte === NEWLINE)
                return error === undefined ? { fields, end: i + 1, newlines } : { error, end: i + 1, newlines };
        }
        else if (byte === QUOTE && i === run && field === "" && !afterQuote) {
            inQuotes = true;
            run = i + 1;
        }
        else if (afterQuote && byte !== CR) {
            error ??= `unexpected character after a closing quote in field ${fields.length + 1}`;
        }
        i += 1;
    }
    if (!final)
        return undefined;
    if (inQuotes)
        return { error: "quote opened but never closed before the end of the input", end: i, newlines };
    if (!afterQuote)
        flush(i > run && bytes[i - 1] === CR ? i - 1 : i);
    fields.push(field);
    return error === undefined ? { fields, end: i, newlines } : { error, end: i, newlines };
}
//# sourceMappingURL=csv-parser.js.map