import type { CommandContext } from "../cli/context.js";
import { chalk } from "../cli/output.js";
import { initProject, type InitResult } from "../project/init.js";

export async function runInit(ctx: CommandContext): Promise<number> {
  const spinner = ctx.out.spinner("Creating the project");
  let result: InitResult;
  try {
    result = await initProject(ctx.cwd, {
      onStep: (step) => {
        spinner.text = step === "database" ? "Starting the database" : "Applying migrations";
      },
    });
  } catch (error) {
    spinner.stop();
    throw error;
  }
  spinner.stop();
  ctx.out.result(result, () => renderInit(result));
  return 0;
}

function renderInit(result: InitResult): string {
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
  return lines.join("\n");
}
