import path from "node:path";
import { z } from "zod";
import type { CommandContext } from "./context.js";
import { count, decimal, parseOptions, share } from "./options.js";
import { openProject } from "../config/load.js";
import { withDatabase } from "../db/session.js";
import { ExitCode, usageError } from "../errors.js";
import { predictRows, type PredictSource } from "../pipeline/predict/run.js";
import { progressReporter, renderPredict } from "./render-predict.js";

const format = z.enum(["csv", "tsv", "jsonl", "json"]);

const predictOptions = z.object({
  file: z.string().min(1).optional(),
  query: z.string().min(1).optional(),
  fromDb: z.string().min(1).optional(),
  split: z.enum(["train", "validation", "test"]).optional(),
  batch: count(1, 2_147_483_647).optional(),
  model: z.string().min(1),
  out: z.string().min(1),
  format: format.optional(),
  inputFormat: format.optional(),
  encoding: z.enum(["utf8", "latin1", "utf16le"]).optional(),
  rejects: z.string().min(1).optional(),
  threshold: decimal(0, 1).optional(),
  maxInvalid: share.optional(),
  log: z.boolean().default(false),
});
type PredictFlags = z.infer<typeof predictOptions>;

export async function runPredict(ctx: CommandContext, options: Record<string, unknown>): Promise<number> {
  const parsed = parseOptions(predictOptions, options);
  if (ctx.out.json && parsed.out === "-") {
    throw usageError(
      "OUTPUT_CONFLICT",
      "--json prints the summary on standard output, where --out - would write the rows.",
      "Pass --out FILE with --json, or leave out --json.",
    );
  }
  if (parsed.rejects === "-" && parsed.out === "-") {
    throw usageError(
      "OUTPUT_CONFLICT",
      "--rejects - and --out - would mix scored and rejected rows on standard output.",
      "Send one of them to a file.",
    );
  }
  const project = openProject(ctx.cwd);
  const source = sourceOf(parsed, ctx.cwd);
  const resolve = (file: string | undefined) => (file === undefined || file === "-" ? file : path.resolve(ctx.cwd, file));
  const progress = progressReporter(ctx.out);
  try {
    const summary = await withDatabase(project, (session) =>
      predictRows(session, project, {
        source,
        model: parsed.model,
        out: resolve(parsed.out)!,
        format: parsed.format,
        rejects: resolve(parsed.rejects),
        threshold: parsed.threshold,
        maxInvalid: parsed.maxInvalid ?? project.config.collect.maxInvalid,
        log: parsed.log,
        onProgress: progress.update,
      }),
    );
    progress.stop();
    // With the rows on stdout, the summary a person reads goes to stderr.
    if (parsed.out === "-") ctx.out.note(renderPredict(summary));
    else ctx.out.result(summary, () => renderPredict(summary));
    return summary.status === "too_many_invalid" ? ExitCode.gateFailed : ExitCode.ok;
  } catch (error) {
    progress.stop();
    throw error;
  }
}

/** Exactly one source: a file (or stdin), a query on another database, or stored rows. */
function sourceOf(options: PredictFlags, cwd: string): PredictSource {
  const given = [
    options.file !== undefined && "--file",
    options.query !== undefined && "--query",
    options.split !== undefined && "--split",
    options.batch !== undefined && "--batch",
  ].filter(Boolean);
  if (given.length !== 1) {
    throw usageError(
      "SOURCE_REQUIRED",
      given.length === 0 ? "predict needs rows to score." : `predict takes one source, got ${given.join(" and ")}.`,
      "Pass one of --file PATH (or - for stdin), --query SQL --from-db URL, --split test or --batch ID.",
    );
  }
  if ((options.query === undefined) !== (options.fromDb === undefined)) {
    throw usageError(
      "SOURCE_REQUIRED",
      "--query and --from-db go together.",
      "Pass the SQL with --query and the source database URL with --from-db.",
    );
  }
  if (options.file !== undefined) {
    const file = options.file === "-" ? "-" : path.resolve(cwd, options.file);
    return { kind: "file", path: file, format: options.inputFormat, encoding: options.encoding };
  }
  if (options.query !== undefined) return { kind: "query", query: options.query, fromDb: options.fromDb! };
  return { kind: "stored", selection: options.split !== undefined ? { split: options.split } : { batch: options.batch! } };
}
