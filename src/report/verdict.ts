import type { ReportData, Verdict } from "./types.js";

const f3 = (x: number) => x.toFixed(3);

/**
 * The one line a reader takes away: healthy, or needs attention with each reason and the command
 * that addresses it. An empty project is neither: it gets the steps to a first model.
 */
export function verdictOf(report: Omit<ReportData, "overview"> & { overview: Omit<ReportData["overview"], "verdict"> }): Verdict {
  const { overview, gate, traffic } = report;
  if (overview.versions === 0 && overview.rows.total === 0) {
    return {
      status: "empty",
      reasons: ["This project has no data and no model yet."],
      nextSteps: [
        "mlops up (seed synthetic data, train, evaluate, promote and serve in one command)",
        "or: mlops collect --file your-data.csv, then mlops train",
      ],
    };
  }
  const reasons: string[] = [];
  const nextSteps: string[] = [];
  const active = overview.activeVersion;
  if (overview.versions === 0) {
    reasons.push(`${overview.rows.total.toLocaleString("en-US")} rows are stored but no version is trained.`);
    nextSteps.push("mlops train");
  } else if (!active) {
    reasons.push("No version is active, so the server has nothing to serve.");
    nextSteps.push("mlops evaluate --split test, then mlops promote");
  } else {
    const measured = active.lastEvaluationF1 ?? active.testF1;
    if (measured !== null && measured < gate.f1Threshold) {
      reasons.push(
        `Active ${active.version} scored F1 ${f3(measured)} on its ${active.lastEvaluationF1 === null ? "test split" : "last evaluation"}, below the gate ${gate.f1Threshold}.`,
      );
      // validation-deployment judges the active version on labelled rows collected after it was
      // trained: without them it has nothing to do, so both ways out are named.
      nextSteps.push(
        "mlops collect (new labelled rows), then mlops run validation-deployment (retrains and promotes a candidate that passes)",
        "or now: mlops train, mlops evaluate --model candidate --split test, mlops promote <version>",
      );
    }
    const live = traffic.feedback.find((f) => f.version === active.version);
    if (live && live.labelled >= 100 && live.f1 < gate.f1Threshold) {
      reasons.push(
        `Live F1 of ${active.version} from ${live.labelled.toLocaleString("en-US")} feedback labels is ${f3(live.f1)}, below the gate ${gate.f1Threshold}.`,
      );
      nextSteps.push("mlops evaluate (on fresh data and feedback), then mlops run validation-deployment");
    }
  }
  const batch = overview.lastBatch;
  if (batch?.drift === "drift") {
    reasons.push(`The last batch (#${batch.id}) drifted from the training data.`);
    if (active) nextSteps.push("mlops evaluate (does the active version still pass on the new data?)");
  }
  if (batch?.status === "rejected") reasons.push(`The last batch (#${batch.id}) was rejected: too many invalid rows.`);
  const run = overview.lastRun;
  if (run?.status === "failed") {
    reasons.push(`The last pipeline run (#${run.id}, ${run.pipeline}) failed.`);
    nextSteps.push("mlops runs (see the failed stage and its error)");
  }
  if (reasons.length > 0) return { status: "needs-attention", reasons, nextSteps: [...new Set(nextSteps)] };
  const f1 = active?.lastEvaluationF1 ?? active?.testF1;
  return {
    status: "healthy",
    reasons: [
      `Active ${active!.version}${f1 === null || f1 === undefined ? "" : ` scores F1 ${f3(f1)} (gate ${gate.f1Threshold})`}; no drift in the last batch; no failed run.`,
    ],
    nextSteps: overview.predictions === 0 ? ["mlops serve (the server logs every prediction; traffic appears here)"] : [],
  };
}
