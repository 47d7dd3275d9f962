// Report figures (issue "See it"): a project of 200 versions, 2,000 batches and 10 million logged
// predictions must render `mlops report` in under 2 s into a file under 2 MB. Builds that project
// (one real trained version, the rest registered beside it, the rest of the history generated in
// PostgreSQL with generate_series; the hourly prediction rollups are kept by their triggers as
// the rows go in, and rebuilt once more to time the migration's backfill), then times
// `mlops report` beside `mlops models --json` (start-up and connection, the reference) in the
// same run. Needs `npm run build`.
// PREDICTIONS=10000000 VERSIONS=200 BATCHES=2000 node bench/report.mjs
import { readFileSync, rmSync, statSync } from "node:fs";
import path from "node:path";
import pg from "pg";
import { cli, measured, numericProject, summarize } from "./lib.mjs";

const VERSIONS = Number(process.env.VERSIONS ?? 200);
const BATCHES = Number(process.env.BATCHES ?? 2000);
const PREDICTIONS = Number(process.env.PREDICTIONS ?? 10_000_000);
const { dir, features } = numericProject("mlops-bench-report-");
const step = (label, started) => console.log(`${label.padEnd(44)} ${((Date.now() - started) / 1000).toFixed(1)} s`);

try {
  const t = Date.now();
  cli(["init"], { cwd: dir });
  cli(["seed", "20000", "--seed", "1"], { cwd: dir });
  cli(["train", "--epochs", "3", "--pretrain-epochs", "1"], { cwd: dir });
  cli(["evaluate", "--split", "test"], { cwd: dir, allowFailure: true });
  cli(["promote", "--force", "--reason", "bench"], { cwd: dir });
  step("init, seed 20k rows, train v1, promote", t);

  const status = JSON.parse(cli(["db", "status", "--json"], { cwd: dir }).stdout);
  const { password } = JSON.parse(readFileSync(path.join(dir, ".mlops", "credentials.json"), "utf8"));
  const db = new pg.Client({ connectionString: status.url.replace("***", encodeURIComponent(password)) });
  await db.connect();
  const sql = async (label, text) => {
    const started = Date.now();
    await db.query(text);
    step(label, started);
  };
  const psi = `jsonb_build_object('verdict', CASE WHEN g % 50 = 0 THEN 'drift' ELSE 'stable' END, 'thresholds', jsonb_build_object('psiModerate', 0.1, 'psiSignificant', 0.25),
      'features', (SELECT jsonb_agg(jsonb_build_object('feature', f, 'psi', round((random() * CASE WHEN g % 50 = 0 THEN 1 ELSE 0.15 END)::numeric, 4), 'verdict', 'stable'))
                     FROM unnest(ARRAY[${features.map((f) => `'${f.name}'`).join(",")}]) f))`;
  await sql(
    `${BATCHES} batches with drift reports`,
    `
    INSERT INTO batches (source, source_kind, checksum, status, rows_read, rows_accepted, rows_quarantined, rows_duplicate, report, drift, started_at, finished_at)
    SELECT 'bench', 'synthetic', md5(g::text), 'accepted', 110, 100, 8, 2, '{}', ${psi},
           now() - interval '60 days' + g * interval '60 days' / ${BATCHES}, now() - interval '60 days' + g * interval '60 days' / ${BATCHES}
      FROM generate_series(1, ${BATCHES}) g`,
  );
  await sql(
    "100 examples a batch",
    `
    INSERT INTO examples (row_hash, batch_id, row_number, features, label, split)
    SELECT (random() * 9e18)::bigint, b.id, g, '{}', (random() < 0.4)::int, (ARRAY['train','train','validation','test'])[1 + g % 4]::split
      FROM batches b, generate_series(1, 100) g WHERE b.source = 'bench'`,
  );
  await sql(
    "8 quarantined rows a batch",
    `
    INSERT INTO quarantined_rows (batch_id, row_number, raw, reasons)
    SELECT b.id, g, '{}', jsonb_build_array(jsonb_build_object('field', 'x0' || (1 + g % 9), 'code', 'not_a_number', 'problem', 'not a number'))
      FROM batches b, generate_series(1, 8) g WHERE b.source = 'bench'`,
  );
  await sql(
    `${VERSIONS - 1} more versions (copies of v1's files)`,
    `
    INSERT INTO model_versions (version, path, manifest, metrics, threshold, backend, data_fingerprint, created_at)
    SELECT 'v' || (g + 1), path, manifest,
           jsonb_set(jsonb_set(metrics, '{test,f1}', to_jsonb(0.75 + random() * 0.2)), '{validation,f1}', to_jsonb(0.78 + random() * 0.2)),
           threshold, backend, data_fingerprint, now() - interval '60 days' + g * interval '60 days' / ${VERSIONS}
      FROM model_versions v, generate_series(1, ${VERSIONS - 1}) g WHERE v.version = 'v1'`,
  );
  await sql(
    "two evaluations and a promotion a version",
    `
    INSERT INTO evaluations (version_id, data_source, row_count, f1, metrics, passed, gate, created_at)
    SELECT id, 'fresh', 5000, f, jsonb_build_object('f1', f, 'rocAuc', 0.95, 'precision', 0.9, 'recall', 0.85), f >= 0.8, '{}', created_at + k * interval '3 hours'
      FROM (SELECT id, created_at, 0.7 + random() * 0.25 AS f FROM model_versions) v, generate_series(1, 2) k;
    INSERT INTO promotions (from_version_id, to_version_id, action, actor, reason, created_at)
    SELECT id - 1, id, CASE WHEN id % 10 = 0 THEN 'rollback' ELSE 'promote' END, 'bench', NULL, created_at + interval '7 hours'
      FROM model_versions WHERE id > 1 ORDER BY id`,
  );
  await sql(
    `${PREDICTIONS.toLocaleString("en-US")} predictions over 60 days (rollups kept by trigger)`,
    `
    INSERT INTO predictions (id, version_id, features, probability, label, latency_ms, created_at)
    SELECT gen_random_uuid(), 1 + (g % ${VERSIONS}), '{}', p, (p >= 0.5)::int, 0.2 + random() * random() * 5,
           now() - interval '60 days' + g * interval '60 days' / ${PREDICTIONS}
      FROM (SELECT g, random() AS p FROM generate_series(1, ${PREDICTIONS}) g) s`,
  );
  // The insert above kept the hourly rollups through their trigger, as the server's COPY does.
  // Rebuilding them from the log is what the migration does to a log that predates them.
  await sql("rollups rebuilt from the whole log (the migration's backfill)", "SELECT mlops_prediction_rollup_rebuild()");
  await sql(
    "feedback on 1% of them",
    `
    INSERT INTO feedback (prediction_id, label) SELECT id, (random() < 0.4)::int FROM predictions TABLESAMPLE BERNOULLI (1)`,
  );
  await sql(
    "3,000 pipeline runs",
    `
    INSERT INTO pipeline_runs (pipeline, status, trigger, hostname, pid, started_at, finished_at)
    SELECT (ARRAY['data-collection','validation-deployment','training'])[1 + g % 3], (CASE WHEN g % 17 = 0 THEN 'failed' ELSE 'succeeded' END)::run_status,
           'schedule', 'bench', 1, now() - interval '60 days' + g * interval '60 days' / 3000, now() - interval '60 days' + g * interval '60 days' / 3000 + interval '40 seconds'
      FROM generate_series(1, 3000) g`,
  );
  await sql("VACUUM ANALYZE", "VACUUM ANALYZE");
  await db.end();

  const reference = summarize(Array.from({ length: 5 }, () => measured(dir, ["models", "--json"]).seconds * 1000));
  console.log(`\nmlops models --json (reference)        median ${(reference.median / 1000).toFixed(2)} s`);
  for (const args of [
    ["report", "--json"],
    ["report", "--since", "7d", "--out", "week.html", "--json"],
    ["report", "--format", "md", "--out", "report.md", "--json"],
  ]) {
    measured(dir, args); // one warm-up run: the curves' tfjs load and the database's caches
    const runs = Array.from({ length: 3 }, () => measured(dir, args));
    const seconds = summarize(runs.map((r) => r.seconds * 1000)).median / 1000;
    const written = JSON.parse(runs[0].stdout).file;
    const size = statSync(written).size;
    console.log(
      `mlops ${args.slice(0, -1).join(" ").padEnd(36)} median ${seconds.toFixed(2)} s (${(seconds / (reference.median / 1000)).toFixed(1)}x the reference; target < 2 s: ${seconds < 2 ? "met" : "MISSED"}), ${(size / 1024).toFixed(0)} KB (target < 2 MB: ${size < 2 * 1024 * 1024 ? "met" : "MISSED"}), peak RSS ${runs[0].rssMb.toFixed(0)} MB`,
    );
  }
} finally {
  cli(["db", "stop"], { cwd: dir, allowFailure: true });
  if (!process.env.KEEP) rmSync(dir, { recursive: true, force: true });
}
