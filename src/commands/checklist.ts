import { readFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { z } from "zod";
import type { CommandContext } from "./context.js";
import { count, parseOptions } from "./options.js";
import { CheckContext } from "../checklist/context.js";
import { CHECKLIST_FILE, loadChecklist } from "../checklist/parse.js";
import { renderChecklist, renderJunit, renderMarkdown, summarize } from "../checklist/report.js";
import { runChecklist } from "../checklist/run.js";
import { findItem, loadSignoffs, signItem } from "../checklist/signoffs.js";
import { openProject } from "../config/load.js";
import { withDatabase } from "../db/session.js";
import { ExitCode, usageError } from "../errors.js";

const checklistOptions = z.object({
  url: z.string().url({ error: "must be a URL like http://127.0.0.1:8000" }).optional(),
  only: z.string().min(1).optional(),
  junit: z.string().min(1).optional(),
  markdown: z.string().min(1).optional(),
  strict: z.boolean().default(false),
  timeout: count(1, 600),
});

export async function runChecklistCommand(ctx: CommandContext, options: Record<string, unknown>): Promise<number> {
  const parsed = parseOptions(checklistOptions, options);
  const project = openProject(ctx.cwd);
  let items = loadChecklist();
  if (parsed.only) {
    const wanted = parsed.only.toLowerCase();
    items = items.filter((i) => i.section.toLowerCase() === wanted || i.subsection?.toLowerCase() === wanted);
    if (items.length === 0) {
      const sections = [...new Set(loadChecklist().map((i) => i.section))];
      throw usageError("SECTION_UNKNOWN", `No checklist section "${parsed.only}".`, `Sections: ${sections.join(", ")}.`);
    }
  }
  const host = project.config.serve.host === "0.0.0.0" || project.config.serve.host === "::" ? "127.0.0.1" : project.config.serve.host;
  const url = (parsed.url ?? `http://${host}:${project.config.serve.port}`).replace(/\/+$/, "");
  const check = new CheckContext(project, url, process.env.MLOPS_API_KEY || undefined);
  const spinner = ctx.out.spinner(`Checking ${items.length} items`);
  try {
    // Sign-offs need the database; when it is down the automatic checks say so item by item.
    const signoffs = await loadSignoffs(check).catch(() => new Map());
    const outcomes = await runChecklist(check, items, signoffs, parsed.timeout * 1000);
    spinner.stop();
    const summary = summarize(outcomes, parsed.strict);
    if (parsed.junit) await writeFile(path.resolve(ctx.cwd, parsed.junit), renderJunit(outcomes, parsed.strict));
    if (parsed.markdown) await writeFile(path.resolve(ctx.cwd, parsed.markdown), renderMarkdown(readFileSync(CHECKLIST_FILE, "utf8"), outcomes));
    ctx.out.result({ url, strict: parsed.strict, summary, items: outcomes }, () => renderChecklist(outcomes, summary));
    return summary.ok ? ExitCode.ok : ExitCode.gateFailed;
  } finally {
    spinner.stop();
    await check.close();
  }
}

const signOptions = z.object({
  by: z.string({ error: "is required: who signs" }).trim().min(1).max(200),
  note: z.string().max(2000).optional(),
  replace: z.boolean().default(false),
});

export async function runChecklistSign(ctx: CommandContext, options: Record<string, unknown>, args: string[]): Promise<number> {
  const parsed = parseOptions(signOptions, options);
  if (!args[0])
    throw usageError("ITEM_REQUIRED", "sign needs an item.", 'mlops checklist sign 77 --by "Ada Lovelace" (numbers are shown by mlops checklist)');
  const project = openProject(ctx.cwd);
  const item = findItem(loadChecklist(), args.join(" "));
  const result = await withDatabase(project, async (session) => signItem(await session.prisma(), item, parsed.by, parsed.note, parsed.replace));
  const output = {
    number: item.number,
    item: item.key,
    by: parsed.by,
    note: parsed.note ?? null,
    replaced: result.replaced ? { by: result.replaced.by, at: result.replaced.at.toISOString() } : null,
  };
  ctx.out.result(
    output,
    () =>
      `Signed ${item.number}. ${item.text} (${[item.section, item.subsection].filter(Boolean).join(" / ")}) by ${parsed.by}${result.replaced ? `, replacing the sign-off by ${result.replaced.by}` : ""}.`,
  );
  return 0;
}
