import { formatMinute, formatNumber, formatSeconds, truncate } from "../terminal/format.js";
import { chalk } from "../terminal/output.js";
import { newCompactTable } from "../terminal/table.js";
import type { RunDetail, RunListing } from "../pipeline/history.js";
import type { RunResult } from "../pipeline/runner.js";

/** Every line `run`, `runs` and `runs show` print fits a terminal this wide. */
const WIDTH = 100;

type Outputs = Record<string, unknown>;
const f1 = (value: unknown) => (typeof value === "number" ? value.toFixed(3) : "-");

/**
 * One stage's outputs in a few words. The outputs are the stages' own summaries (pipeline/stages.ts);
 * a stage this does not know (or a shape it does not expect) falls back to its scalar fields.
 */
function describeStage(stage: string, outputs: Outputs): string {
  // biome-ignore lint/suspicious/noExplicitAny: the stages' own summaries, read defensively field by field below.
  const o = outputs as Record<string, any>;
  switch (stage) {
    case "collect": {
      const batches = Object.entries((o.batches ?? {}) as Record<string, Outputs>);
      return batches
        .map(
          ([name, b]) =>
            `${name}: batch ${b.batchId ?? "-"} ${b.status}, ${formatNumber(Number(b.stored ?? 0))} rows${b.drift ? `, drift ${b.drift}` : ""}`,
        )
        .join("; ");
    }
    case "train":
    case "retrain-if-below":
      return `trained ${o.version} (validation F1 ${f1(o.validationF1)}, test F1 ${f1(o.testF1)})${o.window ? ` on ${o.window}` : ""}`;
    case "evaluate-active":
      if (o.active === null) return "no active version";
      return `${o.active}: F1 ${f1(o.f1)} on ${formatNumber(Number(o.rows ?? 0))} rows, ${o.verdict}`;
    case "evaluate-candidate":
      return `${o.version}: F1 ${f1(o.f1)}, gate ${o.verdict}${o.baseline ? ` (against ${o.baseline})` : ""}`;
    case "promote-if-passing":
      if (o.promoted) return `promoted ${o.from ?? "(none)"} -> ${o.to}, ${o.serversNotified} server(s) notified`;
      return o.reason ? `${o.version} not promoted: ${o.reason}` : `${o.to} already active`;
    default:
      return Object.entries(outputs)
        .filter(([, value]) => value === null || typeof value !== "object")
        .map(([key, value]) => `${key} ${value}`)
        .join(", ");
  }
}

const MARK: Record<string, string> = { succeeded: "ok  ", failed: "FAIL", skipped: "skip", running: "... " };
const paint = (status: string, text: string) =>
  status === "succeeded" ? chalk.green(text) : status === "failed" ? chalk.red(text) : chalk.dim(text);

/** What `mlops run` prints: one short line per stage; the outputs in full are in --json and `runs show`. */
export function renderRun(result: RunResult): string {
  const verdict = result.status === "succeeded" ? chalk.green("succeeded") : chalk.red("failed");
  const lines = [`${chalk.bold(`run ${result.runId}`)} ${result.pipeline}: ${verdict} in ${formatSeconds(result.durationMs)}`];
  for (const stage of result.stages) {
    const attempts = stage.attempts > 1 ? `${stage.attempts} attempts: ` : "";
    const detail = stage.error ?? (stage.outputs ? describeStage(stage.stage, stage.outputs) : "");
    // 2 + 4 + 1 + 20 + 1 columns come before the detail.
    lines.push(
      `  ${paint(stage.status, MARK[stage.status] ?? stage.status)} ${stage.stage.padEnd(20)} ${truncate(attempts + detail, WIDTH - 28)}`.trimEnd(),
    );
  }
  if (result.note) lines.push(truncate(`note: ${result.note}`, WIDTH));
  if (result.alerts) {
    if (result.alerts.webhook)
      lines.push(truncate(`alert: webhook ${result.alerts.webhook.ok ? "sent" : "FAILED"} (${result.alerts.webhook.detail})`, WIDTH));
    if (result.alerts.command)
      lines.push(truncate(`alert: command ${result.alerts.command.ok ? "ran" : "FAILED"} (${result.alerts.command.detail})`, WIDTH));
  }
  lines.push(chalk.dim(`details: mlops runs show ${result.runId}`));
  return lines.join("\n");
}

/** The stages of a listed run in a few words: "4 ok", "1 ok, collect FAILED". */
function stagesSummary(run: RunListing): string {
  const last = new Map(run.stages.map((s) => [s.stage, s]));
  const ok = [...last.values()].filter((s) => s.status === "succeeded").length;
  const failed = [...last.values()].filter((s) => s.status === "failed").map((s) => `${s.stage} FAILED${s.error ? `: ${s.error}` : ""}`);
  const retries = run.stages.length - last.size;
  // A run can fail outside any stage (its process died): then the run's own error says why.
  const outside = failed.length === 0 && run.error ? [`FAILED: ${run.error}`] : [];
  return [ok > 0 || failed.length === 0 ? `${ok} ok` : "", retries > 0 ? `${retries} retried` : "", ...failed, ...outside].filter(Boolean).join(", ");
}

/** `mlops runs`: one row per run, no wider than WIDTH; errors in full are in `runs show`. */
export function renderRunsTable(runs: RunListing[]): string {
  const rows = runs.map((run) => [
    String(run.id),
    truncate(run.pipeline, 24),
    run.status,
    run.trigger,
    formatMinute(run.startedAt),
    run.durationMs === null ? "-" : formatSeconds(run.durationMs),
    stagesSummary(run),
  ]);
  const head = ["run", "pipeline", "status", "trigger", "started (UTC)", "took", "stages"];
  // Borderless, two spaces between columns: the last column gets what the others leave.
  const widths = head.slice(0, -1).map((title, i) => Math.max(title.length, ...rows.map((row) => row[i]!.length)));
  const room = WIDTH - widths.reduce((sum, w) => sum + w + 2, 0);
  const table = newCompactTable(head);
  for (const row of rows) {
    row[6] = truncate(row[6]!, room);
    row[2] = paint(row[2]!, row[2]!);
    table.push(row);
  }
  return table
    .toString()
    .split("\n")
    .map((line) => line.trimEnd())
    .join("\n");
}

/** `mlops runs show ID`: the run, then every stage attempt with its outputs in full. */
export function renderRunDetail(run: RunDetail): string {
  const verdict = paint(run.status, run.status);
  const lines = [
    `${chalk.bold(`run ${run.id}`)} ${run.pipeline}: ${verdict}, ${run.trigger}, started ${formatMinute(run.startedAt)} UTC` +
      `${run.durationMs === null ? "" : `, took ${formatSeconds(run.durationMs)}`} (pid ${run.pid} on ${run.hostname})`,
  ];
  if (run.error) lines.push(`error: ${run.error}`);
  if (run.note) lines.push(`note: ${run.note}`);
  for (const stage of run.stages) {
    const took = stage.durationMs === null ? "" : ` in ${formatSeconds(stage.durationMs)}`;
    lines.push(
      "",
      `${paint(stage.status, MARK[stage.status] ?? stage.status)} ${chalk.bold(stage.stage)}${stage.attempt > 1 ? ` (attempt ${stage.attempt})` : ""}${took}`,
    );
    if (stage.outputs)
      lines.push(
        `  ${describeStage(stage.stage, stage.outputs)}`,
        ...JSON.stringify(stage.outputs, null, 2)
          .split("\n")
          .map((l) => chalk.dim(`  ${l}`)),
      );
    if (stage.error) lines.push(`  error: ${stage.error}`);
  }
  return lines.join("\n");
}
