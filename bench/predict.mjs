// Batch scoring figures (issue "Batch scoring"): 1M rows x 20 numeric features scored from CSV
// to CSV by `mlops predict`, timed beside the Python way of doing the same job in the same run:
// pandas.read_csv, a fitted scikit-learn StandardScaler + MLPClassifier(64, 32) pipeline's
// predict_proba, DataFrame.to_csv (Debian's python3-pandas and python3-sklearn), both as whole
// processes (interpreter start and imports included; the model is fitted and pickled beforehand,
// as mlops's is trained beforehand). Target: mlops at least 2x faster. Then peak RSS while
// scoring MEMORY_ROWS rows (default 10M; target under 500 MB). Needs `npm run build`.
// ROWS=100000 MEMORY_ROWS=0 for a quick run.
import { spawnSync } from "node:child_process";
import { createWriteStream, readFileSync, rmSync, statSync } from "node:fs";
import { once } from "node:events";
import path from "node:path";
import { CLI, cli, numericProject } from "./lib.mjs";

const rows = Number(process.env.ROWS ?? 1_000_000);
const memoryRows = Number(process.env.MEMORY_ROWS ?? 10_000_000);
const { dir, features } = numericProject("mlops-bench-predict-");
const run = (args) => timed([process.execPath, CLI, ...args]);
// Debian's interpreter, which the python3-pandas and python3-sklearn packages install into.
const PYTHON = process.env.PYTHON ?? "/usr/bin/python3";

function timedPython(script, args) {
  return timed([PYTHON, "-c", script, ...args]);
}

/** Wall seconds, CPU seconds (user + system) and peak RSS of a whole process, by GNU time. */
function timed(command) {
  const result = spawnSync("/usr/bin/time", ["-f", "%e %U %S %M", ...command], {
    cwd: dir,
    env: { ...process.env, NO_COLOR: "1", CI: "true", DATABASE_URL: "" },
    encoding: "utf8",
    maxBuffer: 1 << 26,
  });
  if (result.status !== 0) throw new Error(`${command[0]} failed: ${result.stderr}`);
  const [seconds, user, system, kb] = result.stderr.trim().split("\n").at(-1).split(" ").map(Number);
  return { seconds, cpu: user + system, rssMb: kb / 1024, stdout: result.stdout };
}

/** A file of `copies` times the rows of `csv` (header once): 10M rows in seconds, not minutes of seeding. */
async function repeated(csv, target, copies) {
  const body = readFileSync(csv);
  const header = body.subarray(0, body.indexOf(10) + 1);
  const out = createWriteStream(target);
  out.write(header);
  for (let i = 0; i < copies; i += 1) if (!out.write(body.subarray(header.length))) await once(out, "drain");
  out.end();
  await once(out, "close");
}

const FIT = `
import pickle, sys, pandas as pd
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
df = pd.read_csv(sys.argv[1])
X = df[[c for c in df.columns if c != "label"]]
model = make_pipeline(StandardScaler(), MLPClassifier((64, 32), max_iter=20, random_state=1)).fit(X, df["label"])
pickle.dump(model, open(sys.argv[2], "wb"))
`;
const SCORE = `
import pickle, sys, pandas as pd
model = pickle.load(open(sys.argv[2], "rb"))
df = pd.read_csv(sys.argv[1])
features = [c for c in df.columns if c != "label"]
p = model.predict_proba(df[features])[:, 1]
df["probability"] = p
df["predicted_label"] = (p >= 0.5).astype(int)
df["model_version"] = "v1"
df.to_csv(sys.argv[3], index=False)
`;

try {
  cli(["init"], { cwd: dir });
  const train = path.join(dir, "train.csv");
  cli(["seed", "20000", "--seed", "1", "--out", train], { cwd: dir });
  cli(["collect", "--file", train], { cwd: dir });
  cli(["train", "--hidden", "64,32", "--epochs", "5", "--pretrain-epochs", "1"], { cwd: dir });
  cli(["promote", "--force", "--reason", "bench"], { cwd: dir });
  spawnSync(PYTHON, ["-c", FIT, train, path.join(dir, "model.pkl")], { cwd: dir, stdio: "inherit" });

  const csv = path.join(dir, "big.csv");
  cli(["seed", String(rows), "--seed", "2", "--out", csv], { cwd: dir });
  console.log(`input: ${rows.toLocaleString("en-US")} rows x ${features.length} features, ${(statSync(csv).size / 1e6).toFixed(0)} MB of CSV`);

  const python = timedPython(SCORE, [csv, path.join(dir, "model.pkl"), path.join(dir, "python-out.csv")]);
  console.log(
    `pandas + sklearn (read_csv, predict_proba, to_csv): ${python.seconds.toFixed(2)} s (CPU ${python.cpu.toFixed(2)} s), peak RSS ${python.rssMb.toFixed(0)} MB`,
  );
  const mlops = run(["predict", "--file", csv, "--out", path.join(dir, "mlops-out.csv"), "--json"]);
  const summary = JSON.parse(mlops.stdout);
  console.log(
    `mlops predict (CSV -> CSV):                         ${mlops.seconds.toFixed(2)} s (CPU ${mlops.cpu.toFixed(2)} s), peak RSS ${mlops.rssMb.toFixed(0)} MB, scored ${summary.rows.scored}`,
  );
  const ratio = python.seconds / mlops.seconds;
  console.log(
    `ratio python / mlops:                               ${ratio.toFixed(2)}x faster in wall time (target >= 2x: ${ratio >= 2 ? "met" : "MISSED"}), ${(python.cpu / mlops.cpu).toFixed(2)}x in CPU time`,
  );

  if (memoryRows > 0) {
    const many = path.join(dir, "many.csv");
    await repeated(csv, many, Math.ceil(memoryRows / rows));
    rmSync(path.join(dir, "mlops-out.csv"), { force: true });
    const big = run(["predict", "--file", many, "--out", path.join(dir, "many-out.csv"), "--json"]);
    const scored = JSON.parse(big.stdout).rows.scored;
    console.log(
      `mlops predict ${scored.toLocaleString("en-US")} rows:   ${big.seconds.toFixed(1)} s, peak RSS ${big.rssMb.toFixed(0)} MB (target < 500 MB: ${big.rssMb < 500 ? "met" : "MISSED"})`,
    );
  }
} finally {
  cli(["db", "stop"], { cwd: dir, allowFailure: true });
  rmSync(dir, { recursive: true, force: true });
}
