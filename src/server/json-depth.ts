/** Deepest nesting of arrays and objects a request body may have. */
export const MAX_JSON_DEPTH = 64;

/**
 * Whether JSON text nests arrays and objects deeper than `limit`, found by one scan that skips
 * strings (with indexOf) and counts brackets, before JSON.parse builds anything. A 400,000-deep
 * array used to reach code that recurses over parsed values (flattening, serialising) and end
 * in a 500; now it is a 400 at the cost of one pass over the text. Invalid JSON is left to the
 * parser: this only ever answers "too deep" for text that is.
 */
export function nestedDeeperThan(text: string, limit: number): boolean {
  // Text with at most `limit` opening brackets cannot nest deeper: counting them with indexOf
  // (native, a few calls for a one-row body) spares the scan below on the usual request, where
  // that scan cost about half of what JSON.parse does (bench/json-depth.mjs).
  let opens = 0;
  for (let i = text.indexOf("["); i >= 0 && opens <= limit; i = text.indexOf("[", i + 1)) opens += 1;
  for (let i = text.indexOf("{"); i >= 0 && opens <= limit; i = text.indexOf("{", i + 1)) opens += 1;
  if (opens <= limit) return false;
  let depth = 0;
  const length = text.length;
  for (let i = 0; i < length; i += 1) {
    const code = text.charCodeAt(i);
    if (code === 34) {
      // To the closing quote: one not preceded by an odd run of backslashes.
      for (;;) {
        const close = text.indexOf('"', i + 1);
        if (close < 0) return false;
        let backslashes = 0;
        while (text.charCodeAt(close - 1 - backslashes) === 92) backslashes += 1;
        i = close;
        if ((backslashes & 1) === 0) break;
      }
    } else if (code === 91 || code === 123) {
      if (++depth > limit) return true;
    } else if (code === 93 || code === 125) {
      depth -= 1;
    }
  }
  return false;
}
