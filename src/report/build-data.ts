import type pg from "pg";
import { DEFINITIONS } from "../checklist/definitions.js";
import { runSummaryOf } from "../pipeline/history.js";
import type { Project } from "../config/load.js";
import { activeVersion } from "../registry/versions.js";
import { readDataSection } from "./data-section.js";
import { readExampleCounts, type ExampleCounts } from "./example-counts.js";
import { readLineage } from "./lineage.js";
import { parseSince } from "./since.js";
import { readTraffic } from "./traffic.js";
import type { Overview, ReportData, RunPoint } from "./types.js";
import { verdictOf } from "./verdict.js";
import { readVersionDetail } from "./version-detail.js";

export interface ReportOptions {
  /** A version to detail besides the active one (default: the active one, else the newest). */
  version?: string;
  /** A duration such as 7d: the time-based sections (data, traffic, runs) start this long ago. */
  since?: string;
  now?: Date;
}

/** Runs on one connection, one query at a time: the report never takes more than its one connection. */
export async function buildReportData(project: Project, client: pg.ClientBase, options: ReportOptions = {}): Promise<ReportData> {
  const now = options.now ?? new Date();
  const from = options.since ? new Date(now.getTime() - parseSince(options.since)) : null;
  const active = await activeVersion(client);
  const activeId = active?.id ?? null;
  const lineage = await readLineage(client, activeId);
  const counts = await readExampleCounts(client);
  const detailRef = options.version ?? (active ? "active" : lineage.versions.length ? "latest" : undefined);
  const versionDetail = detailRef ? await readVersionDetail(project, client, detailRef, activeId, counts) : null;
  const data = await readDataSection(client, from, counts);
  const traffic = await readTraffic(client, from, now);
  const runs = await readRuns(client, from);
  const overview = await readOverview(client, lineage, traffic.total, counts);
  const gate = { f1Threshold: project.config.gate.f1Threshold, maxRegression: project.config.gate.maxRegression };
  const report: ReportData = {
    generatedAt: now.toISOString(),
    since: { duration: options.since ?? null, from: from?.toISOString() ?? null },
    gate,
    overview,
    lineage,
    versionDetail,
    data,
    traffic,
    runs,
  };
  report.overview.verdict = verdictOf(report);
  return report;
}

/** The newest 500 runs in the range: enough for a timeline, bounded for a busy scheduler. */
async function readRuns(client: pg.ClientBase, from: Date | null): Promise<RunPoint[]> {
  const result = await client.query(
    `SELECT id, pipeline, status, trigger, started_at, finished_at, error FROM pipeline_runs
      WHERE started_at >= $1 ORDER BY id DESC LIMIT 500`,
    [from ?? new Date(0)],
  );
  return result.rows.reverse().map(runSummaryOf);
}

async function readOverview(client: pg.ClientBase, lineage: ReportData["lineage"], predictions: number, counts: ExampleCounts): Promise<Overview> {
  const rows = { total: 0, train: 0, validation: 0, test: 0, unlabelled: 0 };
  for (const r of counts.rows) {
    rows.total += r.rows;
    rows[r.split] += r.rows;
    rows.unlabelled += r.rows - r.labelled;
  }
  const totals = await client.query<{ quarantined: string; feedback: string }>(
    "SELECT (SELECT count(*) FROM quarantined_rows) AS quarantined, (SELECT count(*) FROM feedback) AS feedback",
  );
  const lastBatch = (
    await client.query(
      "SELECT id, started_at, status, rows_accepted, drift ->> 'verdict' AS drift FROM batches WHERE source_kind <> 'feedback' ORDER BY id DESC LIMIT 1",
    )
  ).rows[0];
  const lastRun = (await client.query("SELECT id, pipeline, status, started_at FROM pipeline_runs ORDER BY id DESC LIMIT 1")).rows[0];
  const signoffs = await client.query<{ signed: string; by: string | null; at: Date | null }>(
    `SELECT count(DISTINCT item_id) AS signed, (array_agg(signed_by ORDER BY id DESC))[1] AS by, max(created_at) AS at FROM checklist_signoffs`,
  );
  const activeRow = lineage.versions.find((v) => v.active);
  const promotedAt = activeRow ? lineage.promotions.filter((p) => p.to === activeRow.version).at(-1)?.at : undefined;
  const lastEvaluation = activeRow ? lineage.evaluations.filter((e) => e.version === activeRow.version).at(-1) : undefined;
  return {
    activeVersion: activeRow
      ? {
          version: activeRow.version,
          since: promotedAt ?? activeRow.createdAt,
          testF1: activeRow.test?.f1 ?? null,
          lastEvaluationF1: lastEvaluation?.scores.f1 ?? null,
        }
      : null,
    versions: lineage.versions.length,
    rows,
    quarantined: Number(totals.rows[0]!.quarantined),
    feedback: Number(totals.rows[0]!.feedback),
    predictions,
    lastBatch: lastBatch
      ? {
          id: lastBatch.id,
          at: (lastBatch.started_at as Date).toISOString(),
          status: lastBatch.status,
          rowsAccepted: lastBatch.rows_accepted,
          drift: lastBatch.drift,
        }
      : null,
    lastRun: lastRun ? { id: lastRun.id, pipeline: lastRun.pipeline, status: lastRun.status, at: (lastRun.started_at as Date).toISOString() } : null,
    checklist: {
      manualItems: Object.values(DEFINITIONS).filter((d) => d.kind === "manual").length,
      signed: Number(signoffs.rows[0]!.signed),
      lastSignedBy: signoffs.rows[0]!.by,
      lastSignedAt: signoffs.rows[0]!.at ? signoffs.rows[0]!.at.toISOString() : null,
    },
    verdict: { status: "empty", reasons: [], nextSteps: [] },
  };
}
