import { existsSync, statSync } from "node:fs";
import path from "node:path";
import { z } from "zod";
import type { CommandContext } from "./context.js";
import { parseOptions } from "./options.js";
import { openProject } from "../config/load.js";
import { withDatabase } from "../db/session.js";
import { usageError } from "../errors.js";
import { buildReportData } from "../report/build-data.js";
import { renderReportHtml } from "../report/render-html.js";
import { renderReportMarkdown } from "../report/render-markdown.js";
import { parseSince } from "../report/since.js";
import { summariseSections } from "../report/section-summaries.js";
import { writeFileAtomically } from "../output-file.js";

const reportOptions = z.object({
  out: z.string().min(1).optional(),
  model: z.string().min(1).optional(),
  since: z.string().optional(),
  format: z.enum(["html", "md"], { error: "must be html or md" }),
  json: z.boolean().optional(),
});

/** `mlops report`: one self-contained HTML file (or a Markdown summary) of everything the project knows. */
export async function runReport(ctx: CommandContext, raw: Record<string, unknown>): Promise<number> {
  const options = parseOptions(reportOptions, raw);
  if (options.since !== undefined) parseSince(options.since);
  const project = openProject(ctx.cwd);
  const out = options.out ?? (options.format === "html" ? "mlops-report.html" : undefined);
  const file = out === undefined ? undefined : path.resolve(ctx.cwd, out);
  if (file && existsSync(file) && statSync(file).isDirectory())
    throw usageError("OUT_IS_FOLDER", `--out ${out} is a folder.`, "Name a file, e.g. --out reports/mlops-report.html.");
  if (file && !existsSync(path.dirname(file)))
    throw usageError(
      "OUT_FOLDER_MISSING",
      `The folder of --out ${out} does not exist.`,
      `Create it first (mkdir -p ${path.dirname(out!)}) or choose another path.`,
    );

  const spinner = ctx.out.spinner("Reading the project from the database");
  const data = await withDatabase(project, ({ client }) =>
    buildReportData(project, client, { ...(options.model ? { version: options.model } : {}), ...(options.since ? { since: options.since } : {}) }),
  ).finally(() => spinner.stop());
  const content = options.format === "html" ? renderReportHtml(data) : renderReportMarkdown(data);
  const bytes = file ? await writeFileAtomically(file, content) : Buffer.byteLength(content);
  const sections = summariseSections(data);
  const result = {
    file: file ?? null,
    format: options.format,
    bytes,
    verdict: data.overview.verdict,
    activeVersion: data.overview.activeVersion?.version ?? null,
    versionDetail: data.versionDetail?.version ?? null,
    since: data.since,
    sections,
    ...(file ? {} : { markdown: content }),
  };
  ctx.out.result(result, () => {
    if (!file) return content;
    return [
      `Wrote ${path.relative(ctx.cwd, file) || file} (${(bytes / 1024).toFixed(0)} KB): open it in a browser, no server or network needed.`,
      `${data.overview.verdict.status}: ${data.overview.verdict.reasons.join(" ")}`,
      ...sections.map((s) => `  ${s.id.padEnd(9)} ${s.summary}`),
    ].join("\n");
  });
  return 0;
}
