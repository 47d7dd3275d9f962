// Ingest figures (issue "Data in"): 1M rows x 20 numeric features from CSV, validated and stored by
// `mlops collect`, timed beside `psql \copy` of the same file into a plain table on the same
// server in the same run (target: at most 2x psql's time, peak RSS under 500 MB), and
// `mlops seed 1000000` (target under 20 s). Needs `npm run build` and psql on the PATH.
import { spawnSync } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { cli, measured, numericProject } from "./lib.mjs";

const rows = Number(process.env.ROWS ?? 1_000_000);
const { dir, features } = numericProject("mlops-bench-collect-");
const run = (args) => measured(dir, args);

try {
  cli(["init"], { cwd: dir });
  const csv = path.join(dir, "big.csv");
  const out = run(["seed", String(rows), "--seed", "1", "--out", csv]);
  console.log(`seed ${rows} rows to CSV:            ${out.seconds.toFixed(2)} s, peak RSS ${out.rssMb.toFixed(0)} MB`);

  const status = JSON.parse(cli(["db", "status", "--json"], { cwd: dir }).stdout);
  const credentials = JSON.parse(readFileSync(path.join(dir, ".mlops", "credentials.json"), "utf8"));
  const env = { ...process.env, PGPASSWORD: credentials.password };
  const psql = (sql) => {
    const started = process.hrtime.bigint();
    const result = spawnSync(
      "psql",
      ["-h", "127.0.0.1", "-p", String(status.server.port), "-U", credentials.user, "-d", credentials.database, "-v", "ON_ERROR_STOP=1", "-qc", sql],
      { env, encoding: "utf8" },
    );
    if (result.status !== 0) throw new Error(result.stderr);
    return Number(process.hrtime.bigint() - started) / 1e9;
  };
  psql(`CREATE TABLE bench_plain (${features.map((f) => `${f.name} float8`).join(", ")}, label int)`);
  const psqlSeconds = psql(`\\copy bench_plain FROM '${csv}' CSV HEADER`);
  console.log(`psql \\copy of the same file:        ${psqlSeconds.toFixed(2)} s`);

  const collect = run(["collect", "--file", csv, "--json"]);
  const summary = JSON.parse(collect.stdout);
  const verdict = collect.seconds <= 2 * psqlSeconds ? "met" : "MISSED";
  console.log(
    `mlops collect (validate + store):   ${collect.seconds.toFixed(2)} s, peak RSS ${collect.rssMb.toFixed(0)} MB, stored ${summary.rows.stored}`,
  );
  console.log(
    `ratio collect / psql:               ${(collect.seconds / psqlSeconds).toFixed(2)}x (target <= 2x: ${verdict}; RSS target < 500 MB: ${collect.rssMb < 500 ? "met" : "MISSED"})`,
  );

  const seed = run(["seed", String(rows), "--seed", "2"]);
  console.log(
    `mlops seed ${rows} (into the db):   ${seed.seconds.toFixed(2)} s, peak RSS ${seed.rssMb.toFixed(0)} MB (target < 20 s: ${seed.seconds < 20 ? "met" : "MISSED"})`,
  );
} finally {
  cli(["db", "stop"], { cwd: dir, allowFailure: true });
  rmSync(dir, { recursive: true, force: true });
}
