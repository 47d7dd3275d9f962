import { randomBytes } from "node:crypto";
import { rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import type { ReportData } from "./types.js";

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
      summary: `${d.lineage.versions.length} versions, ${d.lineage.evaluations.length} evaluations, ${d.lineage.promotions.length} promotions`,
      empty: d.lineage.versions.length === 0,
    },
    {
      id: "version",
      summary: v
        ? `${v.version}: curves ${v.curves ? `from ${v.curves.rows} test rows` : `not drawn (${v.curvesNote})`}, training history ${v.history ? "recorded" : "not recorded"}, baseline ${v.baseline ? v.baseline.kind : "not recorded"}`
        : "no version",
      empty: v === null,
    },
    {
      id: "data",
      summary: `${d.data.batches.length} batches, ${d.data.drift.features.length} features in the drift heatmap`,
      empty: d.data.batches.length === 0,
    },
    {
      id: "traffic",
      summary: `${d.traffic.total} predictions by ${d.traffic.bucket}, feedback for ${d.traffic.feedback.length} versions`,
      empty: d.traffic.total === 0,
    },
    { id: "runs", summary: `${d.runs.length} runs`, empty: d.runs.length === 0 },
  ];
}

/**
 * Writes the file through a temporary sibling and a rename, so a reader (a browser reloading
 * it, a CI upload) never sees half a report. 0600: the page quotes quarantined values.
 */
export async function writeFileAtomically(file: string, content: string): Promise<number> {
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
