#!/usr/bin/env python3
"""Pools runs of bench/real-data.py and says, table by table, whether `mlops` is shown short.

Usage: /usr/bin/python3 bench/real-data-summary.py RUNS.jsonl [--before BEFORE.jsonl]

RUNS.jsonl holds the JSON lines that bench/real-data.py appends with MLOPS_REAL_JSONL set, one a
table per run: run it over several splits (MLOPS_REAL_SPLIT_SEED) and training seeds
(MLOPS_TRAIN_ARGS="--seed 7"). Test F1 on 30-1,300 rows swings by a few hundredths between
splits, so one run says little: for each table this prints the mean paired difference between
`mlops` and each scikit-learn model over the runs, with a 90% t-interval, and calls the table
"short" only when an interval lies wholly below zero; "within noise" when neither does.

With --before (the same splits and seeds under other defaults), it also counts the runs in
which the two differ, run for run.
"""
import json
import math
import re
import sys

from scipy import stats


def load(path):
    runs = {}
    with open(path) as f:
        for line in f:
            if line.strip():
                r = json.loads(line)
                # A run is its table, split and training seed; other train flags are what --before compares.
                seed = re.search(r"--seed[= ](\d+)", r["train args"])
                runs[(r["data set"], r["split"], seed.group(1) if seed else "default")] = r
    return runs


def interval(values):
    n = len(values)
    mean = sum(values) / n
    if n < 2:
        return mean, -math.inf, math.inf
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))
    half = stats.t.ppf(0.95, n - 1) * sd / math.sqrt(n)
    return mean, mean - half, mean + half


def main(argv):
    if not argv or argv[0].startswith("-"):
        sys.exit(__doc__)
    runs = load(argv[0])
    before = load(argv[argv.index("--before") + 1]) if "--before" in argv else None
    tables = sorted({key[0] for key in runs})
    fmt = lambda m: f"{m[0]:+.3f} ({m[1]:+.3f} to {m[2]:+.3f})"
    print("| table | runs | mlops | scikit-learn LogisticRegression | scikit-learn GradientBoosting | mlops - LR, 90% interval | mlops - GB, 90% interval | verdict |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    short = 0
    for table in tables:
        rs = [r for key, r in runs.items() if key[0] == table]
        mean = lambda field: sum(r[field] for r in rs) / len(rs)
        lr = interval([r["mlops"] - r["sklearn logistic"] for r in rs])
        gb = interval([r["mlops"] - r["sklearn boosting"] for r in rs])
        verdict = "**short**" if lr[2] < 0 or gb[2] < 0 else "ahead of both" if lr[1] > 0 and gb[1] > 0 else "within noise"
        short += verdict == "**short**"
        print(f"| {table} | {len(rs)} | {mean('mlops'):.3f} | {mean('sklearn logistic'):.3f} | {mean('sklearn boosting'):.3f} | {fmt(lr)} | {fmt(gb)} | {verdict} |")
    print(f"\nShown short on {short} of {len(tables)} tables.")
    if before is not None:
        paired = [key for key in runs if key in before]
        better = sum(runs[k]["mlops"] > before[k]["mlops"] for k in paired)
        worse = sum(runs[k]["mlops"] < before[k]["mlops"] for k in paired)
        # F1 written two ways (mlops: 2tp/(2tp+fp+fn); scikit-learn: 2PR/(P+R)) can differ in the
        # last bits for the same counts: a tie is not a shortfall.
        missed = lambda rs, k: rs[k]["mlops"] < max(rs[k]["sklearn logistic"], rs[k]["sklearn boosting"]) - 1e-9
        print(
            f"Against --before on {len(paired)} paired runs: better {better}, worse {worse}, same {len(paired) - better - worse};"
            f" short of a scikit-learn model {sum(missed(before, k) for k in paired)} before, {sum(missed(runs, k) for k in paired)} now;"
            f" mean F1 {sum(before[k]['mlops'] for k in paired) / max(1, len(paired)):.3f} before, {sum(runs[k]['mlops'] for k in paired) / max(1, len(paired)):.3f} now."
        )


if __name__ == "__main__":
    main(sys.argv[1:])
