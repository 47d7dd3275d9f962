import { readFileSync, statSync } from "node:fs";
import { writeFileAtomically } from "../output-file.js";
import path from "node:path";
import { z } from "zod";
import type { CommandContext } from "./context.js";
import { chalk } from "../terminal/output.js";
import { count, parseOptions } from "./options.js";
import { openProject, parseConfig } from "../config/load.js";
import { inferSchemaFromFile } from "../data/infer-from-file.js";
import type { InferredSchema } from "../data/infer-schema.js";
import { usageError } from "../errors.js";

export const inferOptions = z.object({
  label: z.string({ error: "is required: the column that holds the label" }).min(1),
  rowKey: z.string().min(1).optional(),
  positive: z.string().min(1).optional(),
  negative: z.string().min(1).optional(),
  sample: count(1, 10_000_000),
  format: z.enum(["csv", "tsv", "jsonl", "json"]).optional(),
  encoding: z.enum(["utf8", "latin1", "utf16le"]).optional(),
});

const schemaInferOptions = inferOptions.extend({ write: z.boolean().default(false) });

export async function runSchemaInfer(ctx: CommandContext, options: Record<string, unknown>, args: string[]): Promise<number> {
  const parsed = parseOptions(schemaInferOptions, options);
  if (!args[0]) throw usageError("FILE_REQUIRED", "schema infer needs a FILE.", "mlops schema infer data.csv --label churned");
  const inferred = await inferSchemaFromFile(path.resolve(ctx.cwd, args[0]), { ...parsed, sampleSize: parsed.sample });
  let written: string | undefined;
  if (parsed.write) written = await writeSchema(ctx.cwd, inferred);
  ctx.out.result(
    { ...inferred, written: written ?? null },
    () => renderInferred(inferred) + (written ? `\n\nWrote the schema into ${written}.` : "\n\nPass --write to put it into mlops.config.json."),
  );
  return 0;
}

/** Replaces features, label, rowKey and ignoredColumns in the project's config, keeping everything else. */
async function writeSchema(cwd: string, inferred: InferredSchema): Promise<string> {
  const project = openProject(cwd);
  const current = JSON.parse(readFileSync(project.configPath, "utf8")) as Record<string, unknown>;
  const next: Record<string, unknown> = { ...current, features: inferred.features, label: inferred.label };
  if (inferred.rowKey) next.rowKey = inferred.rowKey;
  else delete next.rowKey;
  // The data's other columns: /predict accepts rows holding them (and ignores them), as collect does.
  const ignored = inferred.columns.filter((c) => c.role === "ignored").map((c) => c.name);
  if (ignored.length > 0) next.ignoredColumns = ignored;
  else delete next.ignoredColumns;
  const text = `${JSON.stringify(next, null, 2)}\n`;
  parseConfig(text, project.configPath);
  // The config keeps its permissions (init creates it like any project file; the user may have narrowed them).
  await writeFileAtomically(project.configPath, text, statSync(project.configPath).mode & 0o777);
  return project.configPath;
}

export function renderInferred(inferred: InferredSchema & { file: string }): string {
  const lines = [`Schema of ${inferred.file} (${inferred.rowsSampled.toLocaleString("en-US")} rows sampled)`];
  for (const column of inferred.columns) {
    const role = column.role === "feature" ? (column.type ?? "") : column.role;
    let detail = "";
    if (column.type === "numeric" && column.min !== undefined) detail = `observed ${column.min} .. ${column.max}`;
    if (column.type === "categorical" && column.values)
      detail = column.values.slice(0, 8).join(", ") + (column.values.length > 8 ? `, … (${column.values.length})` : "");
    const nullable = column.nullable ? chalk.yellow(" nullable") : "";
    lines.push(`  ${column.name.padEnd(24)} ${role.padEnd(12)}${nullable} ${chalk.dim(detail)}${column.note ? chalk.dim(` (${column.note})`) : ""}`);
  }
  lines.push(
    `label: ${inferred.label.name}, positive ${JSON.stringify(inferred.label.positive)}, negative ${JSON.stringify(inferred.label.negative)}`,
  );
  for (const warning of inferred.warnings) lines.push(chalk.yellow(`warning: ${warning}`));
  return lines.join("\n");
}
