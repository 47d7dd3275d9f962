import type { z } from "zod";

/** Where an issue is, as a dotted path ("features.0.name"); "(top level)" for the document itself. */
const issuePath = (issue: z.core.$ZodIssue): string => (issue.path.length === 0 ? "(top level)" : issue.path.map(String).join("."));

/**
 * Formats zod issues one line each, "<where>: <message>". `where` names the place in the
 * caller's terms: a path in a file by default, a flag for command options.
 */
export function formatIssues(issues: readonly z.core.$ZodIssue[], where: (issue: z.core.$ZodIssue) => string = issuePath): string[] {
  return issues.map((issue) => `${where(issue)}: ${issue.message}`);
}
