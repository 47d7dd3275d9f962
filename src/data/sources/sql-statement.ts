import { usageError } from "../../errors.js";

/**
 * `collect --query` wraps the user's SQL as `COPY (<query>) TO STDOUT`. Text that closes the
 * parenthesis and starts a second statement (`select 1) to stdout; drop table t; copy (select 1`)
 * would run that statement too, so the query must be exactly one statement with balanced
 * parentheses. This scanner follows PostgreSQL's lexical rules for what can hide a `;` or a
 * parenthesis: quoted strings ('' escapes, E'' backslash escapes), quoted identifiers, dollar
 * quoting and both kinds of comment (block comments nest). The query then runs in a read-only
 * transaction, so even a statement that slipped past could not change anything.
 */
export function singleStatement(query: string): string {
  const text = query.trim().replace(/(\s*;)+$/, "");
  if (text === "") throw usageError("QUERY_EMPTY", "The --query is empty.", "Pass a SELECT statement.");
  let depth = 0;
  let i = 0;
  const refuse = (why: string) =>
    usageError(
      "QUERY_NOT_ONE_STATEMENT",
      `The --query must be exactly one statement: ${why}.`,
      "Pass a single SELECT (no `;` between statements); run anything else yourself in psql.",
    );
  while (i < text.length) {
    const c = text[i]!;
    const next = text[i + 1];
    if (c === "-" && next === "-") {
      const end = text.indexOf("\n", i);
      i = end === -1 ? text.length : end + 1;
    } else if (c === "/" && next === "*") {
      let nesting = 1;
      i += 2;
      while (i < text.length && nesting > 0) {
        if (text[i] === "/" && text[i + 1] === "*") (nesting += 1), (i += 2);
        else if (text[i] === "*" && text[i + 1] === "/") (nesting -= 1), (i += 2);
        else i += 1;
      }
      if (nesting > 0) throw refuse("a /* comment is not closed");
    } else if (c === "'" || c === '"') {
      const backslashes = c === "'" && i > 0 && /[eE]/.test(text[i - 1]!) && !/[A-Za-z0-9_]/.test(text[i - 2] ?? " ");
      i = closingQuote(text, i, c, backslashes);
      if (i < 0) throw refuse(`a ${c === "'" ? "string" : "quoted name"} is not closed`);
    } else if (c === "$" && !/[A-Za-z0-9_]/.test(text[i - 1] ?? " ")) {
      const tag = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(text.slice(i))?.[0];
      if (tag === undefined) {
        i += 1;
        continue;
      }
      const end = text.indexOf(tag, i + tag.length);
      if (end === -1) throw refuse(`a ${tag}-quoted string is not closed`);
      i = end + tag.length;
    } else {
      if (c === ";") throw refuse("it holds a `;` followed by more SQL");
      if (c === "(") depth += 1;
      if (c === ")" && --depth < 0) throw refuse("it closes a parenthesis it never opened");
      i += 1;
    }
  }
  if (depth !== 0) throw refuse("a parenthesis is not closed");
  return text;
}

/** The index just after the quote that closes the one at `start`, or -1. */
function closingQuote(text: string, start: number, quote: string, backslashes: boolean): number {
  for (let i = start + 1; i < text.length; i++) {
    if (backslashes && text[i] === "\\") {
      i += 1;
      continue;
    }
    if (text[i] === quote) {
      if (text[i + 1] === quote) {
        i += 1;
        continue;
      }
      return i + 1;
    }
  }
  return -1;
}
