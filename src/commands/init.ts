import path from "node:path";
import { z } from "zod";
import type { CommandContext } from "./context.js";
import { chalk } from "../terminal/output.js";
import { parseOptions } from "./options.js";
import { inferSchemaFromFile } from "../data/infer-from-file.js";
import { sampleConfig } from "../config/sample.js";
import { usageError } from "../errors.js";
import { initProject, type InitResult } from "../project/init.js";
import { inferOptions, renderInferred } from "./schema.js";

/** Without --from, nothing is inferred and --label is not needed; with it, inferOptions asks for --label. */
const initOptions = inferOptions.partial({ label: true }).extend({ from: z.string().min(1).optional() });

export async function runInit(ctx: CommandContext, options: Record<string, unknown>): Promise<number> {
  const parsed = parseOptions(initOptions, options);
  let schema: Awaited<ReturnType<typeof inferSchemaFromFile>> | undefined;
  if (parsed.from !== undefined) {
    const infer = parseOptions(inferOptions, options);
    schema = await inferSchemaFromFile(path.resolve(ctx.cwd, parsed.from), { ...infer, sampleSize: infer.sample });
    if (!ctx.out.json) ctx.out.note(renderInferred(schema));
  } else if (parsed.label !== undefined || parsed.positive !== undefined || parsed.negative !== undefined) {
    throw usageError("OPTIONS_INVALID", "--label, --positive and --negative go with --from FILE.", "mlops init --from data.csv --label churned");
  }
  const spinner = ctx.out.spinner("Creating the project");
  let result: InitResult;
  try {
    result = await initProject(ctx.cwd, {
      ...(schema
        ? {
            schema: {
              features: schema.features,
              label: schema.label,
              ...(schema.rowKey ? { rowKey: schema.rowKey } : {}),
              ...ignoredColumnsOf(schema),
            },
          }
        : {}),
      onStep: (step) => {
        spinner.text = step === "database" ? "Starting the database" : "Applying migrations";
      },
    });
  } catch (error) {
    spinner.stop();
    throw error;
  }
  spinner.stop();
  // With --from, the document also carries what inference found (its warnings included), so a
  // script sees the same as a person reading the notes above.
  ctx.out.result(schema ? { ...result, inferred: schema } : result, () => renderInit(result, schema !== undefined));
  return 0;
}

function renderInit(result: InitResult, ownData: boolean): string {
  const mark = (changed: boolean) => (changed ? chalk.green("+") : chalk.dim("="));
  const lines = [chalk.bold(`mlops project in ${result.project}`)];
  for (const file of result.files) lines.push(`  ${mark(file.action === "created")} ${file.path} ${chalk.dim(file.action)}`);
  const db = result.database;
  const dbWhat = {
    created: "embedded PostgreSQL created and started",
    started: "embedded PostgreSQL started",
    joined: "embedded PostgreSQL running",
    external: "DATABASE_URL reachable",
  }[db.action];
  lines.push(`  ${mark(db.action === "created" || db.action === "started")} database: ${dbWhat} ${chalk.dim(db.url)}`);
  const applied = result.migrations.applied.length;
  lines.push(
    `  ${mark(applied > 0)} migrations: ${applied > 0 ? `applied ${applied}` : "up to date"} ${chalk.dim(`(${result.migrations.status.applied.length} in total)`)}`,
  );
  lines.push("");
  lines.push(result.changed ? chalk.green("Project ready.") : "Everything is in place; nothing changed.");
  if (ownData && result.changed) {
    lines.push(
      chalk.dim(
        `The gate a version must pass to be promoted is F1 >= ${sampleConfig().gate.f1Threshold} (gate.f1Threshold in mlops.config.json): set what your use case needs.`,
      ),
    );
  }
  return lines.join("\n");
}

/** The data's columns that are not features, label or row key: /predict accepts and ignores them, as collect does. */
function ignoredColumnsOf(schema: { columns: Array<{ name: string; role: string }> }): { ignoredColumns?: string[] } {
  const ignored = schema.columns.filter((c) => c.role === "ignored").map((c) => c.name);
  return ignored.length > 0 ? { ignoredColumns: ignored } : {};
}
