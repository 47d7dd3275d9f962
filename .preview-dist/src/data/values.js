/**
 * How raw values are read, shared by schema inference and validation so that both agree on
 * what is missing and what is a number.
 */
/** Text that stands for "no value" in exported data (compared trimmed and lower-cased). */
const MISSING_TOKENS = new Set(["", "na", "n/a", "null", "none", "?"]);
/** Spellings of non-finite numbers: numeric in intent, but never valid feature values. */
export const NON_FINITE = /^[+-]?(nan|inf|infinity)$/i;
/** Plain decimals and exponents only: "1,000", "0x10" and "Infinity" are not numbers here. */
export const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;
/** The trimmed text of a value, or null when the value counts as missing. */
export function presentText(value) {
    if (value === null || value === undefined)
        return null;
    if (typeof value === "number")
        return Number.isNaN(value) ? "NaN" : String(value);
    const text = typeof value === "string" ? value.trim() : String(value);
    return isMissingToken(text) ? null : text;
}
/** Whether trimmed text stands for no value. Every token is short; lower-casing only those keeps this cheap. */
export function isMissingToken(text) {
    return text.length <= 4 && MISSING_TOKENS.has(text.toLowerCase());
}
/** The number a present value holds, or null when it is not a plain finite number. */
export function parseNumber(value, text) {
    if (typeof value === "boolean")
        return null;
    if (typeof value === "number")
        return Number.isFinite(value) ? value : null;
    const simple = parseSimpleDecimal(text);
    if (simple !== undefined)
        return simple;
    if (!DECIMAL.test(text))
        return null;
    const number = Number(text);
    return Number.isFinite(number) ? number : null;
}
export const POWERS_OF_TEN = Array.from({ length: 16 }, (_, i) => 10 ** i);
/** Up to this many digits, as an integer, are exact in a double (10^15 < 2^53). */
export const MAX_EXACT_DIGITS = 15;
/**
 * The common case of ingest, "-12.3456", parsed in one pass: the digits as an integer divided by
 * a power of ten is the correctly rounded double while both are exact (under 2^53 and 10^15).
 * Anything else (exponents, long digit strings, junk) returns undefined for the general path.
 */
function parseSimpleDecimal(text) {
    const length = text.length;
    if (length === 0 || length > 16)
        return undefined;
    let i = 0;
    let negative = false;
    const first = text.charCodeAt(0);
    if (first === 45 || first === 43) {
        negative = first === 45;
        i = 1;
    }
    let mantissa = 0;
    let digits = 0;
    let decimals = -1;
    for (; i < length; i += 1) {
        const code = text.charCodeAt(i);
        if (code >= 48 && code <= 57) {
            mantissa = mantissa * 10 + (code - 48);
            digits += 1;
            if (decimals >= 0)
                decimals += 1;
        }
        else if (code === 46 && decimals < 0) {
            decimals = 0;
        }
        else {
            return undefined;
        }
    }
    if (digits === 0 || digits > MAX_EXACT_DIGITS)
        return undefined;
    const value = decimals > 0 ? mantissa / POWERS_OF_TEN[decimals] : mantissa;
    return negative ? -value : value;
}
//# sourceMappingURL=values.js.map