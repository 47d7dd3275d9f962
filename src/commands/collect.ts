import { z } from "zod";
import type { CommandContext } from "./context.js";
import { count, decimal, parseOptions, share } from "./options.js";
import path from "node:path";
import { openProject, type Project } from "../config/load.js";
import { collectFeedback } from "../data/feedback.js";
import { ingestBatch } from "../data/ingest.js";
import { namedSourceSpec, openSource, type SourceSpec } from "../data/sources/open.js";
import { withDatabase } from "../db/session.js";
import { ExitCode, usageError } from "../errors.js";
import { progressText, renderBatch } from "./render-batch.js";

const collectOptions = z.object({
  file: z.string().min(1).optional(),
  url: z.string().min(1).optional(),
  query: z.string().min(1).optional(),
  fromDb: z.string().min(1).optional(),
  synthetic: count(1, 100_000_000).optional(),
  seed: count(0, 4_294_967_295).optional(),
  drift: decimal(0, 1),
  format: z.enum(["csv", "tsv", "jsonl", "json"]).optional(),
  encoding: z.enum(["utf8", "latin1", "utf16le"]).optional(),
  maxInvalid: share.optional(),
  force: z.boolean().default(false),
  feedback: z.string().min(1).optional(),
});
type CollectOptions = z.infer<typeof collectOptions>;

export async function runCollect(ctx: CommandContext, options: Record<string, unknown>, args: string[]): Promise<number> {
  const parsed = parseOptions(collectOptions, options);
  const project = openProject(ctx.cwd);

  if (parsed.feedback !== undefined) {
    const summary = await withDatabase(project, ({ client }) =>
      collectFeedback(client, project.config, parsed.feedback!, ctx.cwd, { force: parsed.force }),
    );
    ctx.out.result(summary, () =>
      summary.status === "skipped"
        ? `Already collected: feedback batch ${summary.sameAs} has the same checksum (${summary.checksum.slice(0, 12)}…). Nothing changed; pass --force to collect it again.`
        : `feedback    ${summary.attached.toLocaleString("en-US")} labels attached to predictions, ${summary.quarantined} rejected` +
          (summary.alreadyAttached ? `, ${summary.alreadyAttached} already attached` : "") +
          (summary.topReasons.length ? `\n            ${summary.topReasons.map((r) => `${r.count} × ${r.example}`).join("\n            ")}` : ""),
    );
    return summary.attached === 0 && summary.quarantined > 0 ? ExitCode.gateFailed : ExitCode.ok;
  }

  const spec = sourceSpec(parsed, args[0], project, ctx.cwd);
  const spinner = ctx.out.spinner("Collecting");
  try {
    const summary = await withDatabase(project, async (session) => {
      const source = await openSource(spec, project.config);
      return ingestBatch(session, project.config, source, {
        maxInvalid: parsed.maxInvalid ?? project.config.collect.maxInvalid,
        force: parsed.force,
        onProgress: (p) => spinner.progress(progressText("Collecting", p, spec.kind === "synthetic" ? spec.options.rows : undefined)),
      });
    });
    spinner.stop();
    ctx.out.result(summary, () =>
      summary.status === "skipped"
        ? `Already collected: batch ${summary.sameAs} has the same checksum (${summary.checksum.slice(0, 12)}…). Nothing changed; pass --force to collect it again.`
        : renderBatch(summary),
    );
    return summary.status === "rejected" ? ExitCode.gateFailed : ExitCode.ok;
  } catch (error) {
    spinner.stop();
    throw error;
  }
}

/** Exactly one source: a flag, or a source named in the config. */
function sourceSpec(options: CollectOptions, name: string | undefined, project: Project, cwd: string): SourceSpec {
  const given = [
    options.file !== undefined && "--file",
    options.url !== undefined && "--url",
    options.query !== undefined && "--query",
    options.synthetic !== undefined && "--synthetic",
    name !== undefined && `source "${name}"`,
  ].filter(Boolean);
  if (given.length !== 1) {
    throw usageError(
      "SOURCE_REQUIRED",
      given.length === 0 ? "collect needs a source." : `collect takes one source, got ${given.join(" and ")}.`,
      "Pass one of --file PATH (or - for stdin), --url URL, --query SQL --from-db URL, --synthetic N, or a source name from mlops.config.json.",
    );
  }
  if ((options.query === undefined) !== (options.fromDb === undefined)) {
    throw usageError(
      "SOURCE_REQUIRED",
      "--query and --from-db go together.",
      "Pass the SQL with --query and the source database URL with --from-db.",
    );
  }
  if (options.file !== undefined) return { kind: "file", path: resolvePath(cwd, options.file), format: options.format, encoding: options.encoding };
  if (options.url !== undefined) return { kind: "url", url: options.url, format: options.format, encoding: options.encoding };
  if (options.query !== undefined) return { kind: "query", query: options.query, fromDb: options.fromDb! };
  if (options.synthetic !== undefined) {
    return {
      kind: "synthetic",
      options: { rows: options.synthetic, seed: options.seed ?? Date.now() >>> 0, drift: options.drift, unlabeledFraction: 0 },
    };
  }
  return namedSourceSpec(project, name!);
}

function resolvePath(cwd: string, file: string): string {
  return file === "-" ? "-" : path.resolve(cwd, file);
}
