import type { ReportData } from "./types.js";

const f3 = (n: number | null | undefined) => (n === null || n === undefined ? "-" : n.toFixed(3));
const int = (n: number) => n.toLocaleString("en-US");
const cell = (text: string) => text.replace(/\|/g, "\\|").replace(/\n/g, " ");

/**
 * A short Markdown summary for a pull-request comment or a CI job summary: the verdict, the
 * headline numbers and the lineage table (newest 20 versions).
 */
export function renderReportMarkdown(d: ReportData): string {
  const o = d.overview;
  const v = o.verdict;
  const icon = v.status === "healthy" ? "✅" : v.status === "empty" ? "ℹ️" : "⚠️";
  const lines = [
    `## mlops report`,
    "",
    `${icon} **${v.status === "healthy" ? "Healthy" : v.status === "empty" ? "Nothing here yet" : "Needs attention"}.** ${v.reasons.join(" ")}`,
  ];
  if (v.nextSteps.length) lines.push("", "Next:", ...v.nextSteps.map((s) => `- ${s}`));
  lines.push(
    "",
    "| | |",
    "| --- | --- |",
    `| Active version | ${o.activeVersion ? `${o.activeVersion.version} since ${o.activeVersion.since.slice(0, 16).replace("T", " ")} UTC` : "none"} |`,
    `| Gate | F1 >= ${d.gate.f1Threshold} |`,
    `| Rows stored | ${int(o.rows.total)} (${int(o.quarantined)} quarantined) |`,
    `| Last batch | ${o.lastBatch ? `#${o.lastBatch.id}, ${o.lastBatch.status}, drift: ${o.lastBatch.drift ?? "not compared"}` : "none"} |`,
    `| Last run | ${o.lastRun ? `#${o.lastRun.id} ${o.lastRun.pipeline}: ${o.lastRun.status}` : "none"} |`,
    `| Predictions logged | ${int(o.predictions)}${d.since.duration ? ` (last ${d.since.duration})` : ""} |`,
    `| Checklist | ${o.checklist.signed} of ${o.checklist.manualItems} manual items signed |`,
  );
  const versions = [...d.lineage.versions].reverse().slice(0, 20);
  if (versions.length) {
    const lastEval = new Map(d.lineage.evaluations.map((e) => [e.version, e]));
    const live = new Map(d.traffic.feedback.map((f) => [f.version, f]));
    lines.push(
      "",
      "### Lineage",
      "",
      "| version | trained | test F1 | ROC AUC | precision | recall | last evaluation | live F1 |",
      "| --- | --- | --- | --- | --- | --- | --- | --- |",
    );
    for (const row of versions) {
      const e = lastEval.get(row.version);
      const f = live.get(row.version);
      lines.push(
        `| ${row.version}${row.active ? " (active)" : ""} | ${row.createdAt.slice(0, 16).replace("T", " ")} | ${f3(row.test?.f1)} | ${f3(row.test?.rocAuc)} | ${f3(row.test?.precision)} | ${f3(row.test?.recall)} | ${e ? `${f3(e.scores.f1)} ${e.passed ? "pass" : "fail"} (${e.dataSource})` : "-"} | ${f ? `${f3(f.f1)} (${int(f.labelled)} labels)` : "-"} |`,
      );
    }
    if (d.lineage.versions.length > versions.length) lines.push("", `${d.lineage.versions.length - versions.length} older versions not shown.`);
  }
  const promotions = d.lineage.promotions.slice(-5).reverse();
  if (promotions.length) {
    lines.push("", "### Recent promotions", "");
    for (const p of promotions)
      lines.push(
        `- ${p.at.slice(0, 16).replace("T", " ")} ${p.action} ${p.from ?? "-"} -> ${p.to} by ${cell(p.actor)}${p.reason ? `: ${cell(p.reason)}` : ""}`,
      );
  }
  return `${lines.join("\n")}\n`;
}
