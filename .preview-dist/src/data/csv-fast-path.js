import { isMissingToken, MAX_EXACT_DIGITS, POWERS_OF_TEN } from "./values.js";
const NOT_HANDLED = 2;
/**
 * The ingest hot path: a CSV line without quotes is checked where it lies in the input buffer,
 * and its features JSON written straight into the COPY buffer, byte for byte, without a string
 * per field. It takes only what is plainly valid: numbers in JSON's own syntax within range,
 * allowed categories that need no escaping or trimming, a label spelled exactly as configured
 * or empty. Anything else (a wrong field count, a missing value, a problem to report) is left
 * to RowValidator, which gives the same answer for what this path takes (tested side by side).
 */
export class CsvFastPath {
    plan;
    features;
    numeric;
    min;
    max;
    allowed;
    /** Per feature, `{"name":` or `,"name":` as bytes. */
    prefixes;
    prefixBytes;
    positive;
    negative;
    starts;
    ends;
    delimiter;
    constructor(config, plan, columns, delimiter) {
        this.plan = plan;
        this.features = config.features;
        this.numeric = Uint8Array.from(config.features, (f) => (f.type === "numeric" ? 1 : 0));
        this.min = Float64Array.from(config.features, (f) => (f.type === "numeric" ? (f.min ?? -Number.MAX_VALUE) : 0));
        this.max = Float64Array.from(config.features, (f) => (f.type === "numeric" ? (f.max ?? Number.MAX_VALUE) : 0));
        this.allowed = config.features.map((f) => (f.type === "categorical" ? new Set(f.values.filter((v) => !isMissingToken(v.trim()))) : undefined));
        this.prefixes = config.features.map((f, i) => Buffer.from(`${i === 0 ? "{" : ","}${JSON.stringify(f.name)}:`));
        this.prefixBytes = this.prefixes.reduce((sum, p) => sum + p.length, 0);
        this.positive = Buffer.from(String(config.label.positive));
        this.negative = Buffer.from(String(config.label.negative));
        this.starts = new Int32Array(columns);
        this.ends = new Int32Array(columns);
        this.delimiter = delimiter.charCodeAt(0);
    }
    /**
     * Writes the line as a row of `rows` and fills `values` (schema order) when every value takes
     * this path; returns its label. Returns NOT_HANDLED with nothing written otherwise.
     */
    write(record, rows, values) {
        const { buffer, start, end } = record;
        const { starts, ends, plan } = this;
        const columns = starts.length;
        let column = 0;
        let fieldStart = start;
        for (let i = start; i < end; i++) {
            if (buffer[i] === this.delimiter) {
                if (column === columns - 1)
                    return NOT_HANDLED;
                starts[column] = fieldStart;
                ends[column++] = i;
                fieldStart = i + 1;
            }
        }
        if (column !== columns - 1)
            return NOT_HANDLED;
        starts[column] = fieldStart;
        ends[column] = end;
        const label = plan.label < 0 ? null : this.label(buffer, starts[plan.label], ends[plan.label]);
        if (label === NOT_HANDLED)
            return NOT_HANDLED;
        const keyColumn = plan.rowKey;
        if (keyColumn >= 0 && !plainKey(buffer, starts[keyColumn], ends[keyColumn]))
            return NOT_HANDLED;
        // Categories are written with two quotes: at most twice the line, plus the names.
        rows.begin(record.line, this.prefixBytes + 2 * (end - start) + 2);
        if (keyColumn >= 0)
            rows.keyBytes(buffer, starts[keyColumn], ends[keyColumn]);
        else
            rows.keyText(null);
        rows.beginFeatures();
        const out = rows.out;
        for (let j = 0; j < this.features.length; j++) {
            const column = plan.features[j];
            if (column < 0)
                return this.abandon(rows);
            const s = starts[column];
            const e = ends[column];
            const prefix = this.prefixes[j];
            if (this.numeric[j] === 1) {
                const value = jsonNumber(buffer, s, e);
                // NaN (not a JSON number) and the infinities fail this too.
                if (!(value >= this.min[j] && value <= this.max[j]))
                    return this.abandon(rows);
                values[j] = value;
                out.bytes(prefix, 0, prefix.length);
                out.bytes(buffer, s, e);
            }
            else {
                // The allowed set holds no missing-value tokens, so a member needs no such check.
                if (!plainText(buffer, s, e))
                    return this.abandon(rows);
                const text = buffer.toString("utf8", s, e);
                if (!this.allowed[j].has(text))
                    return this.abandon(rows);
                values[j] = text;
                out.bytes(prefix, 0, prefix.length);
                out.buf[out.pos++] = 34;
                out.bytes(buffer, s, e);
                out.buf[out.pos++] = 34;
            }
        }
        out.buf[out.pos++] = 125; // }
        return label;
    }
    label(buffer, start, end) {
        if (start === end)
            return null;
        if (same(buffer, start, end, this.positive))
            return 1;
        if (same(buffer, start, end, this.negative))
            return 0;
        return NOT_HANDLED;
    }
    abandon(rows) {
        rows.discard();
        return NOT_HANDLED;
    }
}
export { NOT_HANDLED };
function same(buffer, start, end, expected) {
    if (end - start !== expected.length)
        return false;
    for (let i = 0; i < expected.length; i++)
        if (buffer[start + i] !== expected[i])
            return false;
    return true;
}
/** Text that is not empty and needs neither trimming nor JSON escaping. */
function plainText(buffer, start, end) {
    if (start === end || buffer[start] <= 32 || buffer[end - 1] <= 32)
        return false;
    for (let i = start; i < end; i++) {
        const byte = buffer[i];
        if (byte < 32 || byte === 34 || byte === 92)
            return false;
    }
    return true;
}
/** A row key taken as it is: plain text that is not a missing-value token. */
function plainKey(buffer, start, end) {
    return plainText(buffer, start, end) && !(end - start <= 4 && isMissingToken(buffer.toString("latin1", start, end)));
}
/**
 * The value of a number written in JSON's syntax, else NaN. Up to 15 digits the digits as an
 * integer divided by a power of ten is the correctly rounded double (both are exact), the same
 * as Number() gives; longer numbers and exponents go through Number().
 */
export function jsonNumber(buffer, start, end) {
    let i = start;
    const negative = buffer[i] === 45;
    if (negative)
        i++;
    if (i === end)
        return NaN;
    if (buffer[i] === 48 && i + 1 < end && buffer[i + 1] >= 48 && buffer[i + 1] <= 57)
        return NaN; // leading zero
    let mantissa = 0;
    let digits = 0;
    let decimals = -1; // digits after the point; -1 before one
    for (; i < end; i++) {
        const byte = buffer[i];
        if (byte >= 48 && byte <= 57) {
            mantissa = mantissa * 10 + (byte - 48);
            digits++;
            if (decimals >= 0)
                decimals++;
        }
        else if (byte === 46 && decimals < 0 && digits > 0) {
            decimals = 0;
        }
        else {
            break;
        }
    }
    if (digits === 0 || decimals === 0)
        return NaN; // "-", "1."
    if (decimals < 0)
        decimals = 0;
    if (i < end) {
        if ((buffer[i] | 32) !== 101)
            return NaN; // e or E
        i++;
        if (buffer[i] === 43 || buffer[i] === 45)
            i++;
        const exponentStart = i;
        while (i < end && buffer[i] >= 48 && buffer[i] <= 57)
            i++;
        if (i === exponentStart || i !== end)
            return NaN;
        return Number(buffer.toString("latin1", start, end));
    }
    if (digits > MAX_EXACT_DIGITS)
        return Number(buffer.toString("latin1", start, end));
    const value = decimals === 0 ? mantissa : mantissa / POWERS_OF_TEN[decimals];
    return negative ? -value : value;
}
//# sourceMappingURL=csv-fast-path.js.map