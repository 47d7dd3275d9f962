// In-process command calls (as tests/helpers/in-process.ts makes them) beside the same commands
// run as subprocesses of the built CLI, on one project and database, runs interleaved. Needs a
// PostgreSQL whose user may create databases: BENCH_ADMIN_URL, else DATABASE_URL, else
// postgresql://postgres@127.0.0.1:5432/postgres. Run after `npm run build`.
import { randomBytes } from "node:crypto";
import { rmSync } from "node:fs";
import pg from "pg";
import { cli, numericProject, summarize } from "./lib.mjs";

const adminUrl = process.env.BENCH_ADMIN_URL ?? process.env.DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres";
const runs = Number(process.env.RUNS ?? 10);
const name = `mlops_bench_cmd_${randomBytes(4).toString("hex")}`;
const admin = new pg.Client({ connectionString: adminUrl });
await admin.connect();
await admin.query(`CREATE DATABASE ${name}`);
const url = new URL(adminUrl);
url.pathname = `/${name}`;
const env = { DATABASE_URL: url.toString() };
const { dir } = numericProject("mlops-bench-cmd-");
process.env.DATABASE_URL = env.DATABASE_URL;

const { invokeCommand } = await import("../dist/src/commands/spec.js");
const { Output } = await import("../dist/src/terminal/output.js");
const { dataCommand } = await import("../dist/src/commands/declarations/data.js");
const { modelsCommand } = await import("../dist/src/commands/declarations/models.js");
const { promoteCommand } = await import("../dist/src/commands/declarations/promote.js");

/** One in-process call under --json, stdout captured; returns milliseconds. */
async function inProcess(spec, options) {
  const write = process.stdout.write;
  let text = "";
  process.stdout.write = (chunk) => ((text += String(chunk)), true);
  const started = process.hrtime.bigint();
  try {
    await invokeCommand(spec, { cwd: dir, out: new Output({ json: true }) }, options);
  } finally {
    process.stdout.write = write;
  }
  JSON.parse(text);
  return Number(process.hrtime.bigint() - started) / 1e6;
}

try {
  cli(["init"], { cwd: dir, env, keepDatabaseUrl: true });
  cli(["seed", "2000", "--seed", "1"], { cwd: dir, env, keepDatabaseUrl: true });
  const cases = [
    ["data", dataCommand, ["data", "--json"], {}],
    ["models", modelsCommand, ["models", "--json"], {}],
    ["promote --history", promoteCommand, ["promote", "--history", "--json"], { history: true }],
  ];
  console.log(`node ${process.version}, ${runs} runs each, interleaved; in-process figures after one warm-up call that loads the modules`);
  for (const [label, spec, args, options] of cases) {
    const first = await inProcess(spec, options);
    const sub = [];
    const inp = [];
    for (let i = 0; i < runs; i += 1) {
      sub.push(cli(args, { cwd: dir, env, keepDatabaseUrl: true }).ms);
      inp.push(await inProcess(spec, options));
    }
    const s = summarize(sub).median;
    const p = summarize(inp).median;
    console.log(
      `${`mlops ${label}`.padEnd(26)} subprocess median ${s.toFixed(0)} ms, in-process median ${p.toFixed(1)} ms (first call ${first.toFixed(0)} ms): ${(s / p).toFixed(1)}x faster`,
    );
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
  await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.end();
}
