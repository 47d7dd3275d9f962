import type pg from "pg";
import type { Traffic } from "./types.js";

/**
 * Latency percentiles come from a histogram built in the same scan as the counts: logarithmic
 * bins from 0.01 ms to 60 s, each about 8% wide, so p50 and p99 are exact to within 8%. An exact
 * percentile_cont per hour had to sort every row of the log: with 10 million rows that
 * alone took longer than the whole 2-second budget, where a hashed histogram does not sort.
 */
const LATENCY_BINS = 200;
const LOG_MIN = Math.log(0.01);
const LOG_MAX = Math.log(60_000);
const binUpper = (bin: number) => Math.exp(LOG_MIN + ((LOG_MAX - LOG_MIN) * bin) / LATENCY_BINS);

/**
 * Past this many logged rows the histogram is built from a block sample of about this many rows
 * and the counts scaled up. Measured on 10 million logged predictions (bench/report.mjs, a busy
 * 2-core machine): the full scan took 20-50 s, most of it reading the table; a 10% sample 3.7 s,
 * of which 1.8 s reading and the rest a hash aggregate spilling to disk at the default 4 MB
 * work_mem. PostgreSQL has no cheaper way to read every row of a log without an index on it.
 */
const SAMPLE_ABOVE_ROWS = 500_000;
/** Enough for the aggregate's hash table (bucket x version x latency bin) to stay in memory. */
const WORK_MEM = "64MB";
/** At most this many newest feedback labels are scored: each is a primary-key lookup in the log. */
const FEEDBACK_LIMIT = 20_000;

/** Ranges up to 6 hours are shown by minute, up to 14 days by hour, longer ones by day: at most a few hundred points a line. */
const MINUTES_UP_TO_MS = 6 * 3600_000;
const HOURS_UP_TO_MS = 14 * 24 * 3600_000;

/**
 * The prediction log aggregated by minute, hour or day (whichever keeps the chart readable for the
 * range) and version: counts, latency p50/p99, share predicted positive; and, where feedback
 * labels exist, the live F1 of each version. One scan of the log since `from`.
 */
export async function readTraffic(client: pg.ClientBase, from: Date | null, now: Date): Promise<Traffic> {
  // Ids are UUIDv7, ordered by time: the primary key finds the oldest row without a scan. It
  // only chooses the bucket; without --since every row counts.
  const first = from ?? ((await client.query("SELECT created_at FROM predictions ORDER BY id LIMIT 1")).rows[0]?.created_at as Date | undefined);
  const empty: Traffic = {
    bucket: "hour",
    total: 0,
    sampledShare: null,
    versions: [],
    times: [],
    counts: [],
    p50: [],
    p99: [],
    positiveShare: [],
    feedback: [],
  };
  if (!first) return empty;
  // reltuples is PostgreSQL's own estimate of the table's rows (-1 before the first ANALYZE).
  const estimate = Number((await client.query("SELECT reltuples::float8 AS n FROM pg_class WHERE oid = 'predictions'::regclass")).rows[0]?.n ?? 0);
  const percent = estimate > SAMPLE_ABOVE_ROWS ? Math.max(0.5, (SAMPLE_ABOVE_ROWS / estimate) * 100) : null;
  const scale = percent === null ? 1 : 100 / percent;
  await client.query(`SET work_mem = '${WORK_MEM}'`);
  const range = now.getTime() - first.getTime();
  const bucket: Traffic["bucket"] = range <= MINUTES_UP_TO_MS ? "minute" : range <= HOURS_UP_TO_MS ? "hour" : "day";
  const rows = await client.query<{ t: string; version_id: number; bin: number; n: string; positive: string }>(
    // date_part, not extract: extract returns numeric, several times slower per row.
    `SELECT date_part('epoch', date_trunc('${bucket}', created_at))::bigint AS t, version_id,
            width_bucket(ln(greatest(latency_ms, 0.01)), $2::float8, $3::float8, ${LATENCY_BINS}) AS bin,
            count(*) AS n, sum(label) AS positive
       FROM predictions ${percent === null ? "" : `TABLESAMPLE SYSTEM (${percent.toFixed(3)}) REPEATABLE (1)`}
      WHERE $1::timestamptz IS NULL OR created_at >= $1 GROUP BY 1, 2, 3`,
    [from, LOG_MIN, LOG_MAX],
  );
  await client.query("RESET work_mem");
  const names = new Map(
    (await client.query<{ id: number; version: string }>("SELECT id, version FROM model_versions")).rows.map((r) => [r.id, r.version]),
  );
  const times = [...new Set(rows.rows.map((r) => Number(r.t)))].sort((a, b) => a - b);
  const timeIndex = new Map(times.map((t, i) => [t, i]));
  const versionIds = [...new Set(rows.rows.map((r) => r.version_id))].sort((a, b) => a - b);
  const versionIndex = new Map(versionIds.map((id, i) => [id, i]));
  const counts = versionIds.map(() => new Array<number>(times.length).fill(0));
  const histograms = times.map(() => new Float64Array(LATENCY_BINS + 2));
  const positives = new Array<number>(times.length).fill(0);
  let total = 0;
  for (const r of rows.rows) {
    const t = timeIndex.get(Number(r.t))!;
    const n = Number(r.n) * scale;
    counts[versionIndex.get(r.version_id)!]![t]! += n;
    histograms[t]![r.bin]! += n;
    positives[t]! += Number(r.positive) * scale;
    total += n;
  }
  const perTime = times.map((_, t) => counts.reduce((sum, line) => sum + line[t]!, 0));
  const round = (line: number[]) => line.map((x) => Math.round(x));
  return {
    bucket,
    total: Math.round(total),
    sampledShare: percent === null ? null : percent / 100,
    versions: versionIds.map((id) => names.get(id) ?? `#${id}`),
    times,
    counts: counts.map(round),
    p50: histograms.map((h, t) => percentileOf(h, perTime[t]!, 0.5)),
    p99: histograms.map((h, t) => percentileOf(h, perTime[t]!, 0.99)),
    positiveShare: positives.map((p, t) => (perTime[t] ? Number((p / perTime[t]!).toFixed(4)) : null)),
    feedback: await readFeedbackScores(client, first),
  };
}

/** The upper edge of the bin holding the q-th share of the rows. */
function percentileOf(histogram: Float64Array, total: number, q: number): number | null {
  if (total === 0) return null;
  const target = q * total;
  let seen = 0;
  for (let bin = 0; bin < histogram.length; bin += 1) {
    seen += histogram[bin]!;
    if (seen >= target) return Number(binUpper(Math.min(bin, LATENCY_BINS)).toPrecision(3));
  }
  return Number(binUpper(LATENCY_BINS).toPrecision(3));
}

/** Live scores per version from the newest feedback label of each prediction since `from` (the newest 20,000 labels). */
async function readFeedbackScores(client: pg.ClientBase, from: Date): Promise<Traffic["feedback"]> {
  const result = await client.query(
    `SELECT v.version,
            count(*) FILTER (WHERE p.label = 1 AND f.label = 1)::int AS tp,
            count(*) FILTER (WHERE p.label = 1 AND f.label = 0)::int AS fp,
            count(*) FILTER (WHERE p.label = 0 AND f.label = 1)::int AS fn,
            count(*) FILTER (WHERE p.label = 0 AND f.label = 0)::int AS tn
       FROM (SELECT DISTINCT ON (prediction_id) prediction_id, label
               FROM (SELECT prediction_id, label, id FROM feedback ORDER BY id DESC LIMIT ${FEEDBACK_LIMIT}) newest
              ORDER BY prediction_id, id DESC) f
       JOIN predictions p ON p.id = f.prediction_id
       JOIN model_versions v ON v.id = p.version_id
      WHERE p.created_at >= $1 GROUP BY v.id, v.version ORDER BY v.id`,
    [from],
  );
  return result.rows.map((r) => {
    const { tp, fp, fn, tn } = r as { tp: number; fp: number; fn: number; tn: number };
    const ratio = (a: number, b: number) => (b === 0 ? 0 : a / b);
    return {
      version: r.version,
      labelled: tp + fp + fn + tn,
      f1: ratio(2 * tp, 2 * tp + fp + fn),
      precision: ratio(tp, tp + fp),
      recall: ratio(tp, tp + fn),
      accuracy: ratio(tp + tn, tp + fp + fn + tn),
    };
  });
}
