// Issue 13's limit: `mlops train` on 1M rows may not take more than 20% longer than the code before
// the issue-13 work (cross-validation, the logistic-regression baseline, robust clipping). Run by
// hand against a built checkout of that code:
//
//   git worktree add --detach /tmp/pre13 3276204 && (cd /tmp/pre13 && npm ci)
//   npm run build && node bench/train-1m.mjs /tmp/pre13
//
// 3276204 is the parent of 1c77603, the first issue-13 commit. Both CLIs train on the same 1M rows:
// the older CLI seeds a fresh database on BENCH_PG_URL (default the local server), which is then
// copied as a template for this checkout (which migrates its copy forward). Runs alternate
// old/new so both see the same load. The figure is the ratio of median CPU times (user + system)
// in one run: on a 2-core machine shared with other work, wall time swung by 40% between two runs
// of the same code, CPU time far less; wall times are printed too. TRAIN_ARGS (default 3
// classifier + 1 pretraining epochs, a fixed count so early stopping does not decide the
// comparison, and few, so the fixed costs the issue added weigh more than in a default run) and
// ROUNDS (default 2) can be changed; BENCH_KEEP=1 keeps the two databases for another run.
import { spawnSync } from "node:child_process";
import { rmSync } from "node:fs";
import path from "node:path";
import pg from "pg";
import { CLI, numericProject } from "./lib.mjs";

const older = process.argv[2];
if (!older) {
  console.error("usage: node bench/train-1m.mjs <checkout of the pre-issue-13 code, built>");
  process.exit(2);
}
const olderCli = path.resolve(older, "dist", "bin", "mlops.js");
const server = process.env.BENCH_PG_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const trainArgs = (process.env.TRAIN_ARGS ?? "--epochs 3 --pretrain-epochs 1").split(" ").filter(Boolean);
const rounds = Number(process.env.ROUNDS ?? 2);
const names = { old: "mlops_bench_train1m_old", new: "mlops_bench_train1m_new" };
const urlOf = (database) => {
  const url = new URL(server);
  url.pathname = `/${database}`;
  return url.toString();
};

function run(cli, dir, database, args) {
  const result = spawnSync("/usr/bin/time", ["-f", "%e %U %S %M", process.execPath, cli, ...args], {
    cwd: dir,
    env: { ...process.env, NO_COLOR: "1", CI: "true", DATABASE_URL: urlOf(database) },
    encoding: "utf8",
    maxBuffer: 1 << 26,
  });
  if (result.status !== 0 && result.status !== 3) throw new Error(`mlops ${args.join(" ")} failed (${result.status}): ${result.stderr}`);
  const [seconds, user, system, kb] = result.stderr.trim().split("\n").at(-1).split(" ").map(Number);
  return { seconds, cpu: user + system, rssMb: kb / 1024, stdout: result.stdout };
}

const admin = new pg.Client({ connectionString: server });
await admin.connect();
// A folder each: both registries number versions from v1, and two trainings into one models/
// folder collide on the rename of the second v1.
const dirs = { old: numericProject("mlops-bench-train-1m-old-").dir, new: numericProject("mlops-bench-train-1m-new-").dir };
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
try {
  const existing = new Set((await admin.query("SELECT datname FROM pg_database")).rows.map((r) => r.datname));
  if (!existing.has(names.old) || !existing.has(names.new)) {
    for (const database of Object.values(names)) await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${names.old}`);
    run(olderCli, dirs.old, names.old, ["init"]);
    run(olderCli, dirs.old, names.old, ["seed", "1000000", "--seed", "1"]);
    await admin.query(`CREATE DATABASE ${names.new} TEMPLATE ${names.old}`);
    run(CLI, dirs.new, names.new, ["db", "migrate"]);
  }
  const times = { old: [], new: [] };
  const cpu = { old: [], new: [] };
  for (let round = 0; round < rounds; round += 1) {
    for (const which of ["old", "new"]) {
      const result = run(which === "old" ? olderCli : CLI, dirs[which], names[which], ["train", ...trainArgs, "--json"]);
      const json = JSON.parse(result.stdout);
      times[which].push(result.seconds);
      cpu[which].push(result.cpu);
      console.log(
        `round ${round + 1} ${which === "old" ? "before issue 13" : "this checkout  "}: ${result.cpu.toFixed(1)} s CPU, ${result.seconds.toFixed(1)} s wall, peak RSS ${result.rssMb.toFixed(0)} MB, test F1 ${json.metrics?.test?.f1?.toFixed(3)}`,
      );
    }
  }
  const ratio = median(cpu.new) / median(cpu.old);
  console.log(
    `train 1M rows (${trainArgs.join(" ")}): ${median(cpu.new).toFixed(1)} s CPU against ${median(cpu.old).toFixed(1)} s before issue 13, ratio ${ratio.toFixed(2)} (limit 1.20: ${ratio <= 1.2 ? "met" : "MISSED"}); wall ${median(times.new).toFixed(1)} s against ${median(times.old).toFixed(1)} s, ratio ${(median(times.new) / median(times.old)).toFixed(2)}`,
  );
} finally {
  if (process.env.BENCH_KEEP !== "1")
    for (const database of Object.values(names)) await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  await admin.end();
  for (const dir of Object.values(dirs)) rmSync(dir, { recursive: true, force: true });
}
