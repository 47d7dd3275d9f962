// Start-up figures of the foundation: `mlops --help` (target < 150 ms, so Prisma and tfjs must
// load lazily), `mlops db status` with the embedded server running (< 500 ms) and `mlops init`
// on a fresh folder (creates the embedded server). Run after `npm run build`.
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { cli, report, summarize } from "./lib.mjs";

const runs = Number(process.env.RUNS ?? 15);
const time = (args, options, n = runs) => summarize(Array.from({ length: n }, () => cli(args, options).ms));

console.log(`node ${process.version}, ${os.cpus().length} cores`);
report("mlops --help", time(["--help"], {}), 150);
report("mlops db --help", time(["db", "--help"], {}), 150);

const inits = [];
const dirs = [];
for (let i = 0; i < 3; i += 1) {
  const dir = mkdtempSync(path.join(os.tmpdir(), "mlops-bench-"));
  chmodSync(dir, 0o755); // mkdtemp makes 0700 folders, which the server user (when root) cannot enter
  dirs.push(dir);
  inits.push(cli(["init"], { cwd: dir }).ms);
}
report("mlops init (fresh folder)", summarize(inits));
report("mlops init (again, nothing to do)", time(["init"], { cwd: dirs[0] }, 5));
report("mlops db status (server running)", time(["db", "status"], { cwd: dirs[0] }), 500);
cli(["db", "stop"], { cwd: dirs[0] });
report("mlops db start (existing data)", summarize([cli(["db", "start"], { cwd: dirs[0] }).ms]));

for (const dir of dirs) {
  cli(["db", "stop"], { cwd: dir, allowFailure: true });
  rmSync(dir, { recursive: true, force: true });
}
