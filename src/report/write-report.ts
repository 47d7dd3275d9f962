import { randomBytes } from "node:crypto";
import { rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import type { ReportData } from "./types.js";
import { formatCount } from "../terminal/format.js";
import { isSpecialFile } from "../output-file.js";

export interface SectionSummary {
  id: "overview" | "lineage" | "version" | "data" | "traffic" | "runs";
  /** What the section holds, in one line (or why it is empty). */
  summary: string;
  empty: boolean;
}

/** What each section of a report holds: the --json answer of `mlops report`. */
export function summariseSections(d: ReportData): SectionSummary[] {
  const v = d.versionDetail;
  return [
    { id: "overview", summary: `${d.overview.verdict.status}: ${d.overview.verdict.reasons.join(" ")}`, empty: false },
    {
      id: "lineage",
      summary: `${formatCount(d.lineage.versions.length, "version")}, ${formatCount(d.lineage.evaluations.length, "evaluation")}, ${formatCount(d.lineage.promotions.length, "promotion")}`,
      empty: d.lineage.versions.length === 0,
    },
    {
      id: "version",
      summary: v
        ? `${v.version}: curves ${v.curves ? `from ${formatCount(v.curves.rows, "test row")}` : `not drawn (${v.curvesNote})`}, training history ${v.history ? "recorded" : "not recorded"}, baseline ${v.baseline ? v.baseline.kind : "not recorded"}`
        : "no version",
      empty: v === null,
    },
    {
      id: "data",
      summary: `${formatCount(d.data.batches.length, "batch", "batches")}, ${formatCount(d.data.drift.features.length, "feature")} in the drift heatmap`,
      empty: d.data.batches.length === 0,
    },
    {
      id: "traffic",
      summary: `${formatCount(d.traffic.total, "prediction")} by ${d.traffic.bucket}, feedback for ${formatCount(d.traffic.feedback.length, "version")}`,
      empty: d.traffic.total === 0,
    },
    { id: "runs", summary: formatCount(d.runs.length, "run"), empty: d.runs.length === 0 },
  ];
}

/**
 * Writes the file through a temporary sibling and a rename, so a reader (a browser reloading
 * it, a CI upload) never sees half a report. 0600: the page quotes quarantined values. A device
 * or a pipe is written in place.
 */
export async function writeFileAtomically(file: string, content: string): Promise<number> {
  if (isSpecialFile(file)) {
    await writeFile(file, content);
    return Buffer.byteLength(content);
  }
  const temporary = path.join(path.dirname(file), `.${path.basename(file)}.${randomBytes(4).toString("hex")}.tmp`);
  try {
    await writeFile(temporary, content, { mode: 0o600 });
    await rename(temporary, file);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
  return Buffer.byteLength(content);
}
