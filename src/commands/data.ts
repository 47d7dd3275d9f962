import { newTable } from "../terminal/table.js";
import { z } from "zod";
import type { CommandContext } from "./context.js";
import { chalk } from "../terminal/output.js";
import { count, parseOptions } from "./options.js";
import { openProject } from "../config/load.js";
import { dataOverview, quarantineEntries, type DataOverview } from "../data/overview.js";
import { withDatabase } from "../db/session.js";
import { formatNumber as n, truncate } from "../terminal/format.js";

export async function runData(ctx: CommandContext, options: Record<string, unknown>): Promise<number> {
  const { limit } = parseOptions(z.object({ limit: count(1, 10_000) }), options);
  const project = openProject(ctx.cwd);
  const overview = await withDatabase(project, ({ client }) => dataOverview(client, limit));
  ctx.out.result(overview, () => renderOverview(overview));
  return 0;
}

function renderOverview(overview: DataOverview): string {
  const splits = newTable(["split", "positive", "negative", "unlabelled", "total"]);
  for (const [split, c] of Object.entries(overview.examples.bySplit)) {
    splits.push([split, n(c.positive), n(c.negative), n(c.unlabelled), n(c.positive + c.negative + c.unlabelled)]);
  }
  const batches = newTable(["batch", "status", "kind", "read", "stored", "quarantined", "duplicates", "drift", "finished"]);
  for (const b of overview.batches) {
    const status = b.status === "accepted" ? chalk.green(b.status) : chalk.red(b.status);
    const drift = b.drift === "drift" ? chalk.red(b.drift) : (b.drift ?? "-");
    batches.push([
      b.id,
      status,
      b.sourceKind,
      n(b.rowsRead),
      n(b.rowsAccepted),
      n(b.rowsQuarantined),
      n(b.rowsDuplicate),
      drift,
      b.finishedAt.slice(0, 19).replace("T", " "),
    ]);
  }
  return [
    `${chalk.bold("examples")} ${n(overview.examples.total)}   ${chalk.bold("quarantined")} ${n(overview.quarantined)}   ${chalk.bold("feedback labels")} ${n(overview.feedback)}`,
    splits.toString(),
    overview.batches.length
      ? `${chalk.bold("recent batches")}\n${batches.toString()}`
      : "No batches yet: `mlops seed` or `mlops collect --file data.csv`.",
  ].join("\n");
}

export async function runQuarantine(ctx: CommandContext, options: Record<string, unknown>): Promise<number> {
  const parsed = parseOptions(z.object({ batch: count(1, 2 ** 31 - 1).optional(), limit: count(1, 100_000) }), options);
  const project = openProject(ctx.cwd);
  const entries = await withDatabase(project, ({ client }) => quarantineEntries(client, parsed.batch, parsed.limit));
  ctx.out.result({ rows: entries }, () =>
    entries.length === 0
      ? "Quarantine is empty."
      : entries
          .map(
            (e) =>
              `batch ${e.batchId} row ${e.rowNumber}: ${e.reasons.map((r) => `${r.field ?? "(row)"}: ${r.problem}`).join("; ")}\n  ${chalk.dim(truncate(JSON.stringify(e.raw), 200))}`,
          )
          .join("\n"),
  );
  return 0;
}
