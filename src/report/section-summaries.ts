import type { ReportData } from "./types.js";
import { formatCount } from "../terminal/format.js";

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
