#!/usr/bin/env bash
# Builds the project behind the README's report screenshot in a fresh folder: a model, traffic,
# drift, a retrain and promotion, a rollback with its reason, and feedback labels.
# Usage: scripts/report-demo.sh DIR   (then: cd DIR && mlops report)
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
MLOPS="node $HERE/../dist/bin/mlops.js"
mkdir -p "$1" && cd "$1"
$MLOPS init
$MLOPS seed 6000 --seed 1
$MLOPS train --seed 1
$MLOPS evaluate --split test
$MLOPS promote --by ada
$MLOPS serve --port 0 --json > serve.json 2> serve.log &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 600); do grep -q "}" serve.json 2>/dev/null && break; sleep 0.2; done
URL=$(node -e 'console.log(JSON.parse(require("fs").readFileSync("serve.json","utf8")).url)')
$MLOPS seed 600 --seed 11 --out rows-before.csv
node "$HERE/report-demo-traffic.mjs" "$URL" rows-before.csv feedback.csv 4
$MLOPS seed 4000 --seed 2 --drift 0.8
$MLOPS collect --synthetic 2000 --seed 3 --drift 0.8
$MLOPS run validation-deployment || true
$MLOPS seed 600 --seed 12 --drift 0.8 --out rows-drift.csv
node "$HERE/report-demo-traffic.mjs" "$URL" rows-drift.csv feedback.csv 4
$MLOPS promote --rollback --by grace --reason "canary: p99 latency doubled"
node "$HERE/report-demo-traffic.mjs" "$URL" rows-drift.csv feedback.csv 8
$MLOPS collect --feedback feedback.csv
$MLOPS checklist sign "Verified by" --by "Ada Lovelace" --note "demo" || true
