import { newTable } from "../terminal/table.js";
import { z } from "zod";
import type { CommandContext } from "./context.js";
import { chalk } from "../terminal/output.js";
import { parseOptions } from "./options.js";
import { openProject } from "../config/load.js";
import { withDatabase } from "../db/session.js";
import { usageError } from "../errors.js";
import { promoteVersion, promotionHistory, type PromotionResult } from "../registry/promote.js";

const promoteOptions = z.object({
  force: z.boolean().default(false),
  reason: z.string().min(1).max(2000).optional(),
  rollback: z.boolean().default(false),
  history: z.boolean().default(false),
  by: z.string().min(1).max(200).optional(),
});

export async function runPromote(ctx: CommandContext, options: Record<string, unknown>, args: string[]): Promise<number> {
  const parsed = parseOptions(promoteOptions, options);
  const project = openProject(ctx.cwd);
  if (parsed.history) {
    // --history only reads; silently ignoring a change asked for beside it would look like it happened.
    const conflicting = [parsed.rollback && "--rollback", parsed.force && "--force", parsed.reason !== undefined && "--reason", args[0]].filter(
      Boolean,
    );
    if (conflicting.length > 0) {
      throw usageError(
        "OPTIONS_INVALID",
        `--history only shows the history; it does not go with ${conflicting.join(", ")}.`,
        "Run `mlops promote --history` and the promotion (e.g. `mlops promote --rollback`) as two commands.",
      );
    }
    const history = await withDatabase(project, async (session) => promotionHistory(await session.prisma()));
    ctx.out.result({ history }, () => {
      if (history.length === 0) return "No promotions yet.";
      const table = newTable(["#", "when", "action", "from", "to", "who", "reason", "evaluation F1"]);
      for (const h of history) {
        table.push([
          h.id,
          h.at.slice(0, 19).replace("T", " "),
          h.action,
          h.from ?? "-",
          h.to,
          h.actor,
          h.reason ?? "",
          h.evaluation ? `${h.evaluation.f1.toFixed(3)} ${h.evaluation.passed ? "pass" : "fail"}` : "-",
        ]);
      }
      return table.toString();
    });
    return 0;
  }
  if (parsed.rollback && args[0])
    throw usageError("OPTIONS_INVALID", "--rollback takes no version: it returns to the previously active one.", "mlops promote --rollback");
  const result = await withDatabase(project, ({ client }) =>
    promoteVersion(client, {
      ...(args[0] ? { version: args[0] } : {}),
      rollback: parsed.rollback,
      force: parsed.force,
      ...(parsed.reason ? { reason: parsed.reason } : {}),
      ...(parsed.by ? { actor: parsed.by } : {}),
      projectRoot: project.root,
    }),
  );
  ctx.out.result(result, () => renderPromotion(result));
  return 0;
}

function renderPromotion(result: PromotionResult): string {
  if (result.action === "unchanged") return `${result.to} is already active; nothing changed.`;
  const verb = result.action === "rollback" ? "Rolled back" : result.action === "force" ? chalk.yellow("Forced") : "Promoted";
  const lines = [`${verb}: ${result.from ?? "(none)"} -> ${chalk.bold(result.to)}`];
  if (result.evaluation)
    lines.push(
      `evaluation  #${result.evaluation.id}: F1 ${result.evaluation.f1.toFixed(4)} on ${result.evaluation.dataSource} data, ${result.evaluation.passed ? "passed" : "failed"}`,
    );
  if (result.reason) lines.push(`reason      ${result.reason}`);
  lines.push(`by          ${result.actor}`);
  lines.push(
    `servers     ${result.serversNotified === 0 ? "none running were notified" : `${result.serversNotified} running server${result.serversNotified === 1 ? "" : "s"} notified; they reload now`}`,
  );
  return lines.join("\n");
}
