import { chalk } from "../terminal/output.js";
import type { BatchSummary } from "../data/ingest.js";
import { formatNumber as n } from "../terminal/format.js";

const pct = (value: number) => `${(value * 100).toFixed(1)}%`;

/** Spinner text while a batch streams in: rows so far, and how much of the input when known. */
export function progressText(verb: string, progress: { rows: number; bytes: number; totalBytes?: number }, totalRows?: number): string {
  const share = totalRows !== undefined ? progress.rows / totalRows : progress.totalBytes ? progress.bytes / progress.totalBytes : undefined;
  return `${verb}: ${n(progress.rows)} rows${share === undefined ? "" : ` (${Math.min(100, share * 100).toFixed(0)}%)`}`;
}

/** The summary a person reads after `collect` or `seed`. */
export function renderBatch(summary: BatchSummary): string {
  const r = summary.rows;
  const status =
    summary.status === "accepted" ? chalk.green("accepted") : summary.status === "rejected" ? chalk.red("rejected") : chalk.yellow("skipped");
  const lines = [
    `batch       ${summary.batchId ?? "-"} ${status}  ${chalk.dim(summary.source)}`,
    `rows        ${n(r.read)} read, ${n(r.stored)} stored, ${n(r.quarantined)} quarantined, ${n(r.duplicatesInBatch + r.duplicatesOfStored)} duplicates` +
      (r.duplicatesInBatch + r.duplicatesOfStored > 0
        ? chalk.dim(` (${n(r.duplicatesInBatch)} within the batch, ${n(r.duplicatesOfStored)} already stored)`)
        : ""),
  ];
  if (summary.status === "rejected") {
    lines.push(
      chalk.red(
        `            ${pct(summary.invalidShare)} of rows are invalid, over the limit of ${pct(summary.maxInvalid)}: nothing became training data; every row is in quarantine.`,
      ),
    );
  }
  if (summary.status === "accepted") {
    lines.push(
      `labels      ${n(summary.labels.positive)} positive, ${n(summary.labels.negative)} negative, ${n(summary.labels.unlabelled)} unlabelled`,
      `splits      ${n(summary.splits.train)} train, ${n(summary.splits.validation)} validation, ${n(summary.splits.test)} test`,
    );
  }
  if (summary.topReasons.length > 0) {
    lines.push("invalid     top reasons:");
    for (const reason of summary.topReasons.slice(0, 5)) {
      lines.push(`              ${String(reason.count).padStart(7)}  ${reason.field ?? "(row)"}: ${reason.example}`);
    }
  }
  if (summary.extraColumns.length > 0) lines.push(chalk.dim(`extra       columns not in the schema, ignored: ${summary.extraColumns.join(", ")}`));
  lines.push(`drift       ${renderDrift(summary)}`);
  return lines.join("\n");
}

function renderDrift(summary: BatchSummary): string {
  const drift = summary.drift;
  if (summary.status === "rejected") return chalk.dim("not computed for a rejected batch");
  if (drift === null) return chalk.dim("no reference yet: this batch becomes the reference");
  const verdict = drift.verdict === "drift" ? chalk.red("DRIFT") : drift.verdict === "stable" ? chalk.green("stable") : chalk.yellow(drift.verdict);
  const drifted = drift.features.filter((f) => f.verdict === "drift");
  const worst = [...drift.features]
    .filter((f) => f.psi !== null)
    .sort((a, b) => (b.psi ?? 0) - (a.psi ?? 0))
    .slice(0, 3);
  const detail = worst.map((f) => `${f.feature} ${f.psi!.toFixed(3)}`).join(", ");
  return `${verdict} vs ${drift.reference.source}: ${drifted.length}/${drift.features.length} features drifted (PSI > ${drift.thresholds.psiSignificant})${detail ? chalk.dim(`; highest PSI ${detail}`) : ""}`;
}
