import { newTable } from "../terminal/table.js";
import type { CommandContext } from "./context.js";
import { chalk } from "../terminal/output.js";
import { openProject } from "../config/load.js";
import { withDatabase } from "../db/session.js";
import { usageError } from "../errors.js";
import { findVersion, listVersions } from "../registry/versions.js";
import { formatNumber } from "../terminal/format.js";

const f1 = (value: number | null | undefined) => (value === null || value === undefined ? "-" : value.toFixed(3));

export async function runModels(ctx: CommandContext): Promise<number> {
  const project = openProject(ctx.cwd);
  const versions = await withDatabase(project, ({ client }) => listVersions(client));
  ctx.out.result({ versions }, () => {
    if (versions.length === 0) return "No versions yet: `mlops train`.";
    const table = newTable(["", "version", "status", "created", "training rows", "val F1", "test F1", "last evaluation"]);
    for (const v of versions) {
      const evaluation = v.lastEvaluation
        ? `${f1(v.lastEvaluation.f1)} ${v.lastEvaluation.passed ? chalk.green("pass") : chalk.red("fail")} (${v.lastEvaluation.dataSource})`
        : "-";
      table.push([
        v.active ? chalk.green("*") : "",
        v.version,
        v.active ? chalk.green("active") : "candidate",
        v.createdAt.slice(0, 19).replace("T", " "),
        formatNumber(v.trainingRows),
        f1(v.validationF1),
        f1(v.testF1),
        evaluation,
      ]);
    }
    return table.toString();
  });
  return 0;
}

export async function runModelsShow(ctx: CommandContext, _options: Record<string, unknown>, args: string[]): Promise<number> {
  if (!args[0]) throw usageError("VERSION_REQUIRED", "models show needs a version.", "mlops models show v3 (or active, latest, candidate)");
  const project = openProject(ctx.cwd);
  const version = await withDatabase(project, ({ client }) => findVersion(client, args[0]!));
  ctx.out.result(version.manifest, () => JSON.stringify(version.manifest, null, 2));
  return 0;
}
