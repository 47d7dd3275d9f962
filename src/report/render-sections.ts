import { chart, empty, esc, f3, int, section, table, when } from "./html-parts.js";
import type { ReportData, VersionDetail } from "./types.js";

export function overviewSection(d: ReportData): string {
  const o = d.overview;
  const card = (label: string, value: string, note = "") =>
    `<div class="card"><div class="label">${esc(label)}</div><div class="value">${value}</div><div class="note">${note}</div></div>`;
  const active = o.activeVersion;
  const cards = [
    card("Active version", active ? esc(active.version) : "none", active ? `since ${esc(when(active.since))}` : "nothing is served"),
    card("Gate", `F1 &ge; ${esc(d.gate.f1Threshold)}`, `at most ${esc(d.gate.maxRegression)} worse than the active version`),
    card(
      "Rows stored",
      int(o.rows.total),
      `${int(o.rows.train)} train, ${int(o.rows.validation)} validation, ${int(o.rows.test)} test; ${int(o.quarantined)} quarantined`,
    ),
    card(
      "Last batch",
      o.lastBatch ? `#${o.lastBatch.id}` : "none",
      o.lastBatch
        ? `${esc(when(o.lastBatch.at))}, ${esc(o.lastBatch.status)}, ${int(o.lastBatch.rowsAccepted)} rows, drift: ${esc(o.lastBatch.drift ?? "not compared")}`
        : "",
    ),
    card(
      "Last run",
      o.lastRun ? `#${o.lastRun.id} ${esc(o.lastRun.status)}` : "none",
      o.lastRun ? `${esc(o.lastRun.pipeline)}, ${esc(when(o.lastRun.at))}` : "mlops run &lt;pipeline&gt;",
    ),
    card(
      "Checklist",
      `${int(o.checklist.signed)} of ${int(o.checklist.manualItems)} signed`,
      o.checklist.lastSignedBy
        ? `last by ${esc(o.checklist.lastSignedBy)}, ${esc(when(o.checklist.lastSignedAt))}`
        : "manual items: mlops checklist sign",
    ),
    card("Predictions logged", int(o.predictions), `${int(o.feedback)} feedback labels`),
    card("Versions", int(o.versions), active?.lastEvaluationF1 !== null && active ? `active: last evaluation F1 ${f3(active.lastEvaluationF1)}` : ""),
  ];
  const next = o.verdict.nextSteps.length
    ? `<p class="next">Next: ${o.verdict.nextSteps.map((s) => `<code>${esc(s)}</code>`).join(" &middot; ")}</p>`
    : "";
  return section(
    "overview",
    "Overview",
    "The verdict sums up the checks below; each card is one number the toolkit keeps, with where it comes from.",
    `<div class="cards">${cards.join("")}</div>${next}`,
  );
}

export function lineageSection(d: ReportData): string {
  const { versions, promotions, evaluations } = d.lineage;
  if (versions.length === 0)
    return section("lineage", "Lineage", "Every trained version's scores over time.", empty("No version is trained yet:", "mlops train"));
  const lastEval = new Map(evaluations.map((e) => [e.version, e]));
  const rows = [...versions].reverse().map((v) => {
    const e = lastEval.get(v.version);
    return [
      `${esc(v.version)}${v.active ? ' <span class="badge">active</span>' : ""}`,
      esc(when(v.createdAt)),
      int(v.trainingRows),
      f3(v.validation?.f1),
      f3(v.test?.f1),
      f3(v.test?.rocAuc),
      f3(v.test?.precision),
      f3(v.test?.recall),
      e ? `${f3(e.scores.f1)} <span class="${e.passed ? "pass" : "fail"}">${e.passed ? "pass" : "fail"}</span> (${esc(e.dataSource)})` : "-",
    ];
  });
  const history = promotions.length
    ? table(
        ["when", "action", "from", "to", "by", "reason"],
        [...promotions]
          .reverse()
          .map((p) => [
            esc(when(p.at)),
            `<span class="action-${esc(p.action)}">${esc(p.action)}</span>`,
            esc(p.from ?? "-"),
            esc(p.to),
            esc(p.actor),
            esc(p.reason ?? ""),
          ]),
        "compact",
      )
    : empty("No promotion yet:", "mlops promote");
  return section(
    "lineage",
    "Lineage",
    "Each marker is a version at the time it was trained, placed at its test-split F1; the thin lines are its ROC AUC, precision and recall, the open circles are later evaluations (F1 on fresh data or a file), the dashed red line is the gate, and vertical lines mark promotions (green) and rollbacks (red). Hover a point for its numbers.",
    `${chart("lineage", "Scores of every version over time")}<details><summary>Versions (${versions.length})</summary>${table(["version", "trained", "training rows", "val F1", "test F1", "ROC AUC", "precision", "recall", "last evaluation"], rows, "compact")}</details><h3>Promotions and rollbacks</h3>${history}`,
  );
}

export function versionSection(d: ReportData): string {
  const v = d.versionDetail;
  if (!v)
    return section(
      "version",
      "Version detail",
      "How the chosen version behaves on its held-out test split.",
      empty("No version to show yet:", "mlops train"),
    );
  const confusion = v.test
    ? `<table class="confusion"><thead><tr><th></th><th>predicted positive</th><th>predicted negative</th></tr></thead><tbody>
<tr><th>actual positive</th><td class="good">${int(v.test.confusion.tp)}<small>true positives</small></td><td class="bad">${int(v.test.confusion.fn)}<small>missed</small></td></tr>
<tr><th>actual negative</th><td class="bad">${int(v.test.confusion.fp)}<small>false alarms</small></td><td class="good">${int(v.test.confusion.tn)}<small>true negatives</small></td></tr></tbody></table>
<p class="small">Test split at threshold ${f3(v.threshold)}: F1 ${f3(v.test.f1)}, precision ${f3(v.test.precision)}, recall ${f3(v.test.recall)}, ROC AUC ${f3(v.test.rocAuc)} (${int(v.test.rows)} rows).</p>`
    : empty("Test metrics are not recorded for this version.");
  const curves = v.curves
    ? `<div class="grid3">${chart("roc", `ROC curve (${int(v.curves.rows)} test rows); the dot is the decision threshold`)}${chart("pr", "Precision against recall; the dot is the decision threshold")}${chart("calibration", "Reliability: predicted probability against observed positive share (diagonal = perfectly calibrated)")}</div>`
    : empty(`ROC, precision-recall and calibration: ${v.curvesNote ?? "not available"}.`);
  const training = v.history
    ? `<div class="grid2">${chart("training-loss", "Loss per epoch: autoencoder pretraining and classifier, training and validation")}${chart("training-f1", "Classifier validation F1 per epoch")}</div>`
    : empty("Per-epoch training history: not recorded for this version (versions trained before it was kept); retrain to record it.");
  return section(
    "version",
    `Version detail: ${v.version}${v.active ? " (active)" : ""}`,
    "The confusion matrix counts the test split's rows by truth and prediction; curves closer to the top-left (ROC) and top-right (precision-recall) are better, and a calibrated model's dots sit on the diagonal.",
    `<div class="grid2"><div>${confusion}${baselineTable(v)}</div><div>${crossValidation(v)}</div></div>${curves}<h3>Training</h3>${training}`,
  );
}

function baselineTable(v: VersionDetail): string {
  if (!v.baseline) return empty("Baseline comparison: not recorded for this version.");
  // Like with like: the baseline's scores on the same test split as the version's (training
  // records both); a manifest without them shows the baseline's validation F1, labelled so.
  type Scores = Record<string, number | null | undefined>;
  const test = (v.baseline.metrics as { test?: Scores }).test;
  const baselineRow = test
    ? ["baseline", f3(test.f1), f3(test.precision), f3(test.recall), f3(test.rocAuc)]
    : ["baseline (validation F1)", f3(v.baseline.validationF1), "-", "-", "-"];
  return `<h3>Baseline (${esc(v.baseline.kind)}), test split</h3>${table(
    ["", "F1", "precision", "recall", "ROC AUC"],
    [baselineRow, [esc(v.version), f3(v.test?.f1), f3(v.test?.precision), f3(v.test?.recall), f3(v.test?.rocAuc)]],
    "compact",
  )}`;
}

function crossValidation(v: VersionDetail): string {
  const cv = v.crossValidation as {
    folds?: Array<Record<string, number>>;
    mean?: Record<string, number>;
    std?: Record<string, number>;
    f1?: { mean?: number; std?: number };
  } | null;
  if (!cv) return empty("Cross-validation: not recorded for this version.");
  const folds = Array.isArray(cv.folds) ? cv.folds : [];
  const rows = folds.map((f, i) => [String(i + 1), f3(f.f1), f3(f.precision), f3(f.recall), f3(f.rocAuc)]);
  const mean: Record<string, number | undefined> | undefined = cv.mean ?? (cv.f1 ? { f1: cv.f1.mean } : undefined);
  if (mean) rows.push(["mean", f3(mean.f1), f3(mean.precision), f3(mean.recall), f3(mean.rocAuc)]);
  return `<h3>Cross-validation</h3>${rows.length ? table(["fold", "F1", "precision", "recall", "ROC AUC"], rows, "compact") : `<pre>${esc(JSON.stringify(cv, null, 2))}</pre>`}`;
}

export function dataSection(d: ReportData): string {
  const { batches, topReasons, drift } = d.data;
  if (batches.length === 0)
    return section(
      "data",
      "Data",
      "Rows per batch, label rate and drift.",
      empty(d.since.from ? "No batch in this range." : "No data yet:", "mlops seed 10000 (or mlops collect --file data.csv)"),
    );
  const reasons = topReasons.length
    ? table(
        ["field", "problem", "rows"],
        topReasons.map((r) => [esc(r.field ?? "(row)"), esc(r.problem), int(r.rows)]),
        "compact",
      )
    : empty("No row was quarantined.");
  const heatmap = drift.batches.length
    ? `<figure><div class="heatmap" data-chart="drift"><canvas></canvas><div class="tip"></div></div><figcaption>PSI per feature (rows) and batch (columns): <span class="sw stable"></span> below ${drift.moderate} stable <span class="sw moderate"></span> ${drift.moderate} to ${drift.significant} moderate <span class="sw drift"></span> ${drift.significant} and above drift <span class="sw none"></span> not compared</figcaption></figure>`
    : empty("No batch has a drift report yet (the first batch becomes the reference).");
  return section(
    "data",
    "Data",
    "Bars show each batch's rows: stored, quarantined (failed validation) and duplicates; the line is the share of labelled rows that are positive; in the heatmap a red cell is a feature whose distribution moved away from the training data in that batch.",
    `<div class="grid2">${chart("batches", "Rows per batch")}${chart("label-rate", "Positive label rate per batch")}</div>${heatmap}<h3>Top quarantine reasons</h3>${reasons}`,
  );
}

export function trafficSection(d: ReportData): string {
  const t = d.traffic;
  if (t.total === 0)
    return section(
      "traffic",
      "Live traffic",
      "What the server answered, from the prediction log.",
      empty(
        d.since.from ? "No prediction was logged in this range." : "No prediction has been logged yet: serve the active version and send requests:",
        "mlops serve",
      ),
    );
  const feedback = t.feedback.length
    ? table(
        ["version", "feedback labels", "live F1", "precision", "recall", "accuracy"],
        t.feedback.map((f) => [
          esc(f.version),
          int(f.labelled),
          `<span class="${f.f1 >= d.gate.f1Threshold ? "pass" : "fail"}">${f3(f.f1)}</span>`,
          f3(f.precision),
          f3(f.recall),
          f3(f.accuracy),
        ]),
        "compact",
      )
    : empty("No feedback labels yet: attach true labels to logged predictions with", "mlops collect --feedback labels.csv");
  return section(
    "traffic",
    "Live traffic",
    `Predictions per ${t.bucket} by the version that answered, the server's latency (p50 and p99, within 8%), the share predicted positive (a jump often means drift), and the F1 each version really had, from feedback labels.`,
    `<p class="small">${int(t.total)} prediction${t.total === 1 ? "" : "s"}${t.from ? ` since ${esc(when(t.from))}` : ""}. Live F1 counts each labelled prediction once, by its newest feedback label.</p><div class="grid3">${chart("predictions", `Predictions per ${t.bucket} by version`)}${chart("latency", "Latency in ms (p50 and p99)")}${chart("positive-share", "Share predicted positive")}</div><h3>Live F1 from feedback</h3>${feedback}`,
  );
}

export function runsSection(d: ReportData): string {
  if (d.runs.length === 0)
    return section("runs", "Runs", "Pipeline runs over time.", empty("No pipeline run yet:", "mlops run validation-deployment (or mlops scheduler)"));
  const failed = d.runs
    .filter((r) => r.status === "failed")
    .slice(-5)
    .reverse();
  const failures = failed.length
    ? `<h3>Latest failures</h3>${table(
        ["run", "pipeline", "started", "error"],
        failed.map((r) => [`#${r.id}`, esc(r.pipeline), esc(when(r.startedAt)), esc(r.error ?? "")]),
        "compact",
      )}`
    : "";
  return section(
    "runs",
    "Runs",
    "Each dot is one pipeline run at the time it started, one row per pipeline: green succeeded, red failed, grey still running.",
    `${chart("runs", `${int(d.runs.length)} run${d.runs.length === 1 ? "" : "s"}`)}${failures}`,
  );
}
