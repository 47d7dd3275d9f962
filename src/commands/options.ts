import { z } from "zod";
import { usageError } from "../errors.js";
import { formatIssues } from "../zod-issues.js";

/**
 * Parses a command's options with its zod schema. Every problem is named by its flag, so
 * `--drift 7` says "--drift: must be at most 1" rather than a stack trace.
 */
export function parseOptions<T extends z.ZodType>(schema: T, options: Record<string, unknown>, flags: Record<string, string> = {}): z.infer<T> {
  const result = schema.safeParse(options);
  if (result.success) return result.data;
  const problems = formatIssues(result.error.issues, (issue) => {
    const key = String(issue.path[0] ?? "");
    return flags[key] ?? (key === "" ? "options" : `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`);
  });
  throw usageError("OPTIONS_INVALID", problems.join("\n"), "Run the command with --help for its options.", { problems });
}

/** "must be a number" for text that is not one; zod's own words for range problems. */
const notANumber = (message: string) => (issue: { code: string }) => (issue.code === "invalid_type" ? message : undefined);

/** A whole number from a flag's text ("1000", "1_000" and "1e6" are accepted). */
export const count = (min: number, max: number) =>
  z.preprocess(
    (value) => (typeof value === "string" ? Number(value.replace(/_/g, "")) : value),
    z
      .number({ error: notANumber("must be a number") })
      .int("must be a whole number")
      .min(min)
      .max(max),
  );

/** A number from a flag's text. */
export const decimal = (min: number, max: number) =>
  z.preprocess(
    (value) => (typeof value === "string" ? Number(value) : value),
    z
      .number({ error: notANumber("must be a number") })
      .min(min)
      .max(max),
  );

/** A share given as a fraction (0.05) or a percentage ("5%"). */
export const share = z.preprocess(
  (value) => {
    if (typeof value !== "string") return value;
    const text = value.trim();
    return text.endsWith("%") ? Number(text.slice(0, -1)) / 100 : Number(text);
  },
  z
    .number({ error: notANumber("must be a fraction like 0.05 or a percentage like 5%") })
    .min(0, "must be at least 0")
    .max(1, "must be at most 1 (100%)"),
);
