import type pg from "pg";
import type { Traffic } from "./types.js";

/**
 * Latency percentiles come from a histogram: logarithmic bins from 0.01 ms to 60 s, each about 8%
 * wide (the database's mlops_latency_bin), so p50 and p99 are exact to within 8%. An exact
 * percentile_cont per hour had to sort every row of the log: with 10 million rows that alone
 * took longer than the whole 2-second budget.
 */
const LATENCY_BINS = 200;
const LOG_MIN = Math.log(0.01);
const LOG_MAX = Math.log(60_000);
const binUpper = (bin: number) => Math.exp(LOG_MIN + ((LOG_MAX - LOG_MIN) * bin) / LATENCY_BINS);

/** Ranges up to 6 hours are shown by minute, up to 14 days by hour, longer ones by day: at most a few hundred points a line. */
const MINUTES_UP_TO_MS = 6 * 3600_000;
const HOURS_UP_TO_MS = 14 * 24 * 3600_000;
const HOUR_MS = 3600_000;
const BUCKET_SECONDS = { hour: 3600, day: 86_400 };

/**
 * Minute buckets need the log itself (the rollups are hourly): read only while the range holds at
 * most this many predictions (150,000 took 210-240 ms on the 2-core machine at load average 5;
 * the whole 10-million-row log took 20-50 s). A busier range is shown by hour, from the rollups
 * (6 ms for the same range).
 */
const MINUTE_ROWS_LIMIT = 200_000;

/** The prediction log grouped by bucket and version, and its latencies by bucket and bin, from either source. */
interface Aggregates {
  counts: Array<{ t: number; versionId: number; n: number; positive: number }>;
  latency: Array<{ t: number; bin: number; n: number }>;
  feedback: Array<{ versionId: number; tp: number; fp: number; fn: number; tn: number }>;
}

/**
 * The prediction log aggregated by minute, hour or day (whichever keeps the chart readable for the
 * range) and version: counts, latency p50/p99, share predicted positive; and, where feedback
 * labels exist, the live F1 of each version. Hour and day buckets come from the hourly rollups
 * the database keeps beside the log (prisma/migrations/*_prediction_rollup): a few rows an hour,
 * exact, whatever the log's size. With `from`, they start at the whole UTC hour holding it.
 */
export async function readTraffic(client: pg.ClientBase, from: Date | null, now: Date): Promise<Traffic> {
  const hourFrom = from ? new Date(Math.floor(from.getTime() / HOUR_MS) * HOUR_MS) : null;
  // The rollup's primary key starts with the hour: the first one is an index lookup.
  const first = (
    await client.query<{ hour: Date }>("SELECT hour FROM prediction_rollup WHERE hour >= $1 AND predictions > 0 ORDER BY hour LIMIT 1", [
      hourFrom ?? new Date(0),
    ])
  ).rows[0]?.hour;
  if (!first) return emptyTraffic();
  const range = now.getTime() - (from ?? first).getTime();
  if (range <= MINUTES_UP_TO_MS) {
    const inRange = await client.query<{ n: number }>("SELECT coalesce(sum(predictions), 0)::float8 AS n FROM prediction_rollup WHERE hour >= $1", [
      first,
    ]);
    if (inRange.rows[0]!.n <= MINUTE_ROWS_LIMIT) return trafficOf(client, "minute", from, await readLogAggregates(client, "minute", from));
  }
  const bucket = range <= HOURS_UP_TO_MS ? "hour" : "day";
  return trafficOf(client, bucket, hourFrom, await readRollupAggregates(client, bucket, hourFrom));
}

/** The same aggregates read from the log itself since `from` (exact to the instant): minute buckets, and the rollups' check. */
export async function readLogAggregates(client: pg.ClientBase, bucket: Traffic["bucket"], from: Date | null): Promise<Aggregates> {
  const since = "($1::timestamptz IS NULL OR created_at >= $1)";
  // date_part, not extract: extract returns numeric, several times slower per row.
  const time = `date_part('epoch', date_trunc('${bucket}', created_at, 'UTC'))::bigint`;
  const counts = await client.query(
    `SELECT ${time} AS t, version_id, count(*)::float8 AS n, sum(label)::float8 AS positive FROM predictions WHERE ${since} GROUP BY 1, 2 ORDER BY 1, 2`,
    [from],
  );
  const latency = await client.query(
    `SELECT ${time} AS t, mlops_latency_bin(latency_ms) AS bin, count(*)::float8 AS n FROM predictions WHERE ${since} GROUP BY 1, 2 ORDER BY 1, 2`,
    [from],
  );
  const feedback = await client.query(
    `SELECT version_id,
            count(*) FILTER (WHERE predicted = 1 AND actual = 1)::float8 AS tp, count(*) FILTER (WHERE predicted = 1 AND actual = 0)::float8 AS fp,
            count(*) FILTER (WHERE predicted = 0 AND actual = 1)::float8 AS fn, count(*) FILTER (WHERE predicted = 0 AND actual = 0)::float8 AS tn
       FROM (SELECT DISTINCT ON (f.prediction_id) p.version_id, p.label AS predicted, f.label AS actual
               FROM feedback f JOIN predictions p ON p.id = f.prediction_id
              WHERE ($1::timestamptz IS NULL OR p.created_at >= $1) ORDER BY f.prediction_id, f.id DESC) newest
      GROUP BY version_id ORDER BY version_id`,
    [from],
  );
  return aggregatesOf(counts.rows, latency.rows, feedback.rows);
}

/**
 * The aggregates from the hourly rollups since the whole hour `hourFrom`: one scan of each. Buckets
 * are whole seconds since the epoch divided, not date_trunc(..., 'UTC'), which parsed the zone on
 * every row: 3x slower over the 288,000 rows of 200 versions x 60 days (bench/report.mjs).
 */
export async function readRollupAggregates(client: pg.ClientBase, bucket: "hour" | "day", hourFrom: Date | null): Promise<Aggregates> {
  const since = "($1::timestamptz IS NULL OR hour >= $1)";
  const time = `date_part('epoch', hour)::bigint / ${BUCKET_SECONDS[bucket]} * ${BUCKET_SECONDS[bucket]}`;
  // PostgreSQL guesses a group per row for the bucket expression and, at the default 4 MB
  // work_mem, sorted those 288,000 rows on disk in two parallel workers: about 500 ms on the busy
  // 2-core machine, against 150-350 ms for one in-memory hash aggregate (it needs about 9 MB).
  // Session settings, reset however the queries end: the dashboard reuses this pooled connection.
  await client.query("SET work_mem = '32MB'");
  await client.query("SET max_parallel_workers_per_gather = 0");
  let counts: pg.QueryResult;
  let latency: pg.QueryResult;
  try {
    counts = await client.query(
      `SELECT ${time} AS t, version_id, sum(predictions)::float8 AS n, sum(positive)::float8 AS positive,
            sum(feedback_tp)::float8 AS tp, sum(feedback_fp)::float8 AS fp, sum(feedback_fn)::float8 AS fn, sum(feedback_tn)::float8 AS tn
       FROM prediction_rollup WHERE ${since} GROUP BY 1, 2 ORDER BY 1, 2`,
      [hourFrom],
    );
    latency = await client.query(
      `SELECT ${time} AS t, bin, sum(predictions)::float8 AS n FROM prediction_latency_rollup WHERE ${since} GROUP BY 1, 2 ORDER BY 1, 2`,
      [hourFrom],
    );
  } finally {
    await client.query("RESET work_mem").catch(() => undefined);
    await client.query("RESET max_parallel_workers_per_gather").catch(() => undefined);
  }
  // Live scores per version, summed from the same rows.
  const feedback = new Map<number, { version_id: number; tp: number; fp: number; fn: number; tn: number }>();
  for (const r of counts.rows) {
    if (r.tp + r.fp + r.fn + r.tn === 0) continue;
    const sum = feedback.get(r.version_id) ?? { version_id: r.version_id, tp: 0, fp: 0, fn: 0, tn: 0 };
    sum.tp += r.tp;
    sum.fp += r.fp;
    sum.fn += r.fn;
    sum.tn += r.tn;
    feedback.set(r.version_id, sum);
  }
  return aggregatesOf(
    counts.rows.filter((r) => r.n > 0),
    latency.rows,
    [...feedback.values()].sort((a, b) => a.version_id - b.version_id),
  );
}

function aggregatesOf(counts: pg.QueryResultRow[], latency: pg.QueryResultRow[], feedback: pg.QueryResultRow[]): Aggregates {
  return {
    counts: counts.map((r) => ({ t: Number(r.t), versionId: r.version_id, n: r.n, positive: r.positive })),
    latency: latency.map((r) => ({ t: Number(r.t), bin: r.bin, n: r.n })),
    feedback: feedback.map((r) => ({ versionId: r.version_id, tp: r.tp, fp: r.fp, fn: r.fn, tn: r.tn })),
  };
}

function emptyTraffic(): Traffic {
  return { bucket: "hour", from: null, total: 0, versions: [], times: [], counts: [], p50: [], p99: [], positiveShare: [], feedback: [] };
}

/** The charts' series: one line of counts per version, percentiles and positive share per bucket, scores per version. */
async function trafficOf(client: pg.ClientBase, bucket: Traffic["bucket"], from: Date | null, a: Aggregates): Promise<Traffic> {
  const names = new Map(
    (await client.query<{ id: number; version: string }>("SELECT id, version FROM model_versions")).rows.map((r) => [r.id, r.version]),
  );
  const times = [...new Set(a.counts.map((r) => r.t))].sort((x, y) => x - y);
  const timeIndex = new Map(times.map((t, i) => [t, i]));
  const versionIds = [...new Set(a.counts.map((r) => r.versionId))].sort((x, y) => x - y);
  const versionIndex = new Map(versionIds.map((id, i) => [id, i]));
  const counts = versionIds.map(() => new Array<number>(times.length).fill(0));
  const perTime = new Array<number>(times.length).fill(0);
  const positives = new Array<number>(times.length).fill(0);
  for (const r of a.counts) {
    const t = timeIndex.get(r.t)!;
    counts[versionIndex.get(r.versionId)!]![t]! += r.n;
    perTime[t]! += r.n;
    positives[t]! += r.positive;
  }
  const histograms = times.map(() => new Float64Array(LATENCY_BINS + 2));
  for (const r of a.latency) {
    const t = timeIndex.get(r.t);
    if (t !== undefined) histograms[t]![r.bin]! += r.n;
  }
  const ratio = (x: number, y: number) => (y === 0 ? 0 : x / y);
  return {
    bucket,
    from: from?.toISOString() ?? null,
    total: perTime.reduce((sum, n) => sum + n, 0),
    versions: versionIds.map((id) => names.get(id) ?? `#${id}`),
    times,
    counts,
    p50: histograms.map((h, t) => percentileOf(h, perTime[t]!, 0.5)),
    p99: histograms.map((h, t) => percentileOf(h, perTime[t]!, 0.99)),
    positiveShare: positives.map((p, t) => (perTime[t] ? Number((p / perTime[t]!).toFixed(4)) : null)),
    feedback: a.feedback
      .sort((x, y) => x.versionId - y.versionId)
      .map(({ versionId, tp, fp, fn, tn }) => ({
        version: names.get(versionId) ?? `#${versionId}`,
        labelled: tp + fp + fn + tn,
        f1: ratio(2 * tp, 2 * tp + fp + fn),
        precision: ratio(tp, tp + fp),
        recall: ratio(tp, tp + fn),
        accuracy: ratio(tp + tn, tp + fp + fn + tn),
      })),
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
