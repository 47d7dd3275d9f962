import { randomInt } from "node:crypto";
import { createWriteStream } from "node:fs";
import { rename, rm } from "node:fs/promises";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import { Readable } from "node:stream";
import { z } from "zod";
import type { CommandContext } from "./context.js";
import { count, decimal, parseOptions } from "./options.js";
import { openProject } from "../config/load.js";
import type { MlopsConfig } from "../config/schema.js";
import { generateRows, type SyntheticOptions } from "../data/synthetic.js";
import { withDatabase } from "../db/session.js";
import { ExitCode } from "../errors.js";
import { seedSynthetic } from "../pipeline/stages.js";
import { renderBatch, progressText } from "./render-batch.js";
import { formatNumber } from "../terminal/format.js";
import { isSpecialFile } from "../output-file.js";

const seedOptions = z.object({
  rows: count(1, 100_000_000),
  seed: count(0, 4_294_967_295).optional(),
  drift: decimal(0, 1),
  unlabeledFraction: decimal(0, 1),
  out: z.string().min(1).optional(),
});

export async function runSeed(ctx: CommandContext, options: Record<string, unknown>, args: string[]): Promise<number> {
  const parsed = parseOptions(seedOptions, { ...options, rows: args[0] }, { rows: "N" });
  const project = openProject(ctx.cwd);
  const synthetic: SyntheticOptions = {
    rows: parsed.rows,
    seed: parsed.seed ?? randomInt(0, 2 ** 32 - 1),
    drift: parsed.drift,
    unlabeledFraction: parsed.unlabeledFraction,
  };
  if (parsed.out !== undefined) return writeCsv(ctx, project.config, synthetic, path.resolve(ctx.cwd, parsed.out));

  const summary = await ctx.out.withSpinner(`Seeding ${formatNumber(synthetic.rows)} synthetic rows`, (spinner) =>
    withDatabase(project, (session) =>
      seedSynthetic(project, session, synthetic, (p) => spinner.progress(progressText("Seeding", p, synthetic.rows))),
    ),
  );
  const result = { synthetic: { seed: synthetic.seed, drift: synthetic.drift, unlabeledFraction: synthetic.unlabeledFraction }, ...summary };
  ctx.out.result(result, () =>
    summary.status === "skipped"
      ? `Already seeded: batch ${summary.sameAs} holds these rows (seed ${synthetic.seed}). Pass another --seed for new rows.`
      : `${renderBatch(summary)}\nseed        ${synthetic.seed} (pass --seed ${synthetic.seed} to reproduce)`,
  );
  return summary.status === "rejected" ? ExitCode.gateFailed : ExitCode.ok;
}

/** CSV for examples and tests: the same rows, written atomically to a file. */
async function writeCsv(ctx: CommandContext, config: MlopsConfig, synthetic: SyntheticOptions, file: string): Promise<number> {
  const columns = [...(config.rowKey ? [config.rowKey] : []), ...config.features.map((f) => f.name), config.label.name];
  const cell = (value: unknown) => {
    if (value === null || value === undefined) return "";
    const text = String(value);
    return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
  };
  async function* lines(): AsyncGenerator<string> {
    yield `${columns.join(",")}\n`;
    let buffer = "";
    for (const row of generateRows(config, synthetic)) {
      buffer += `${columns.map((c) => cell(row[c])).join(",")}\n`;
      if (buffer.length > 1 << 16) {
        yield buffer;
        buffer = "";
      }
    }
    if (buffer !== "") yield buffer;
  }
  // A device or a pipe (--out /dev/stdout) is written in place: a rename would replace it.
  const partial = isSpecialFile(file) ? file : `${file}.${process.pid}.partial`;
  try {
    await pipeline(Readable.from(lines()), createWriteStream(partial));
    if (partial !== file) await rename(partial, file);
  } catch (error) {
    if (partial !== file) await rm(partial, { force: true });
    throw error;
  }
  const result = { out: file, rows: synthetic.rows, seed: synthetic.seed, drift: synthetic.drift, unlabeledFraction: synthetic.unlabeledFraction };
  ctx.out.result(result, () => `Wrote ${formatNumber(synthetic.rows)} rows to ${file} (seed ${synthetic.seed}).`);
  return ExitCode.ok;
}
