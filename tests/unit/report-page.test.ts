import { describe, expect, it } from "vitest";
import { computeMetrics } from "../../src/model/metrics.js";
import { seededRandom } from "../../src/model/random.js";
import { curvesOf } from "../../src/report/curves.js";
import { renderReportHtml } from "../../src/report/render-html.js";
import { renderReportMarkdown } from "../../src/report/render-markdown.js";
import { parseSince } from "../../src/report/since.js";
import type { ReportData } from "../../src/report/types.js";
import { verdictOf } from "../../src/report/verdict.js";
import { externalReferences } from "../helpers/browser.js";

function emptyReport(): ReportData {
  const report: ReportData = {
    generatedAt: "2026-01-01T00:00:00.000Z",
    since: { duration: null, from: null },
    gate: { f1Threshold: 0.8, maxRegression: 0.01 },
    overview: {
      activeVersion: null,
      versions: 0,
      rows: { total: 0, train: 0, validation: 0, test: 0, unlabelled: 0 },
      quarantined: 0,
      feedback: 0,
      predictions: 0,
      lastBatch: null,
      lastRun: null,
      checklist: { manualItems: 41, signed: 0, lastSignedBy: null, lastSignedAt: null },
      verdict: { status: "empty", reasons: [], nextSteps: [] },
    },
    lineage: { versions: [], evaluations: [], promotions: [] },
    versionDetail: null,
    data: { batches: [], topReasons: [], drift: { features: [], batches: [], psi: [], moderate: 0.1, significant: 0.25 } },
    traffic: { bucket: "hour", from: null, total: 0, versions: [], times: [], counts: [], p50: [], p99: [], positiveShare: [], feedback: [] },
    runs: [],
  };
  report.overview.verdict = verdictOf(report);
  return report;
}

describe("curves", () => {
  const random = seededRandom(7);
  const n = 2000;
  const labels = Uint8Array.from({ length: n }, () => (random() < 0.4 ? 1 : 0));
  const probabilities = Float64Array.from(labels, (y) => Math.min(1, Math.max(0, 0.5 + (y ? 0.2 : -0.2) + (random() - 0.5) * 0.8)));
  const metrics = computeMetrics(labels, probabilities, 0.5);
  const curves = curvesOf(labels, probabilities, 0.5);

  it("the ROC curve's area is the ROC AUC the metrics report", () => {
    let area = 0;
    for (let i = 1; i < curves.roc.x.length; i += 1)
      area += ((curves.roc.x[i]! - curves.roc.x[i - 1]!) * (curves.roc.y[i]! + curves.roc.y[i - 1]!)) / 2;
    expect(curves.roc.x.length).toBeLessThanOrEqual(202);
    expect(area).toBeCloseTo(metrics.rocAuc!, 2);
  });

  it("marks the threshold at the confusion matrix's rates", () => {
    const { tp, fp, tn, fn } = metrics.confusion;
    expect(curves.rocAtThreshold).toEqual({ x: Number((fp / (fp + tn)).toFixed(4)), y: Number((tp / (tp + fn)).toFixed(4)) });
    expect(curves.prAtThreshold).toEqual({ x: Number(metrics.recall.toFixed(4)), y: Number(metrics.precision.toFixed(4)) });
  });

  it("bins the reliability diagram by predicted probability", () => {
    expect(curves.calibration.counts.reduce((a, b) => a + b, 0)).toBe(n);
    expect([...curves.calibration.x].sort((a, b) => a - b)).toEqual(curves.calibration.x);
  });
});

describe("the page", () => {
  it("says what to do next in an empty project", () => {
    const report = emptyReport();
    expect(report.overview.verdict.status).toBe("empty");
    const html = renderReportHtml(report);
    expect(html).toContain("mlops up");
    // The scan itself finds what a CDN build would hold.
    expect(
      externalReferences(
        `<script src="https://cdn.example/uplot.js"></script><link href="//cdn.example/u.css"><script>fetch("http://x.example")</script>`,
      ),
    ).toHaveLength(4);
    expect(externalReferences(html)).toEqual([]);
    expect(renderReportMarkdown(report)).toContain("Nothing here yet");
  });

  it("keeps text from the database as text: a reason cannot close the data block or add markup", () => {
    const report = emptyReport();
    const hostile = `</script><script>alert(1)</script><img src=https://evil.example/x>`;
    report.lineage.promotions.push({ at: "2026-01-01T00:00:00.000Z", action: "rollback", from: "v2", to: "v1", actor: hostile, reason: hostile });
    report.lineage.versions.push({
      version: "v1",
      createdAt: "2026-01-01T00:00:00.000Z",
      active: true,
      trainingRows: 1,
      threshold: 0.5,
      validation: null,
      test: null,
    });
    const html = renderReportHtml(report);
    expect(html).not.toContain("<script>alert(1)");
    expect(html).not.toContain("<img src=https://evil");
    expect(externalReferences(html)).toEqual([]);
    const block = /<script type="application\/json" id="report-data">([\s\S]*?)<\/script>/.exec(html)![1]!;
    expect(JSON.parse(block).lineage.promotions[0].reason).toBe(hostile);
  });
});

describe("version detail", () => {
  const detail = (history: NonNullable<ReportData["versionDetail"]>["history"]): ReportData => {
    const report = emptyReport();
    report.versionDetail = {
      version: "v3",
      active: true,
      threshold: 0.5,
      createdAt: "2026-01-01T00:00:00.000Z",
      test: null,
      curves: null,
      curvesNote: "no labelled rows of this version's test split are stored",
      history,
      baseline: null,
      crossValidation: null,
    };
    return report;
  };

  it("draws the per-epoch history where the manifest records it", () => {
    const html = renderReportHtml(detail({ pretrain: [{ epoch: 1, loss: 0.9 }], classifier: [{ epoch: 1, loss: 0.6, valLoss: 0.5, valF1: 0.8 }] }));
    expect(html).toContain('data-chart="training-loss"');
    expect(html).toContain('data-chart="training-f1"');
  });

  it("compares the baseline with the version on the same test split", () => {
    const report = detail(null);
    report.versionDetail!.test = {
      rows: 100,
      f1: 0.702,
      precision: 0.7,
      recall: 0.7,
      rocAuc: 0.8,
      confusion: { tp: 35, fp: 15, tn: 35, fn: 15 },
    } as never;
    report.versionDetail!.baseline = {
      kind: "logistic-regression",
      validationF1: 0.738,
      metrics: { validation: { f1: 0.738 }, test: { f1: 0.696, precision: 0.69, recall: 0.7, rocAuc: 0.79 } },
    };
    const html = renderReportHtml(report);
    const table = /Baseline \(logistic-regression\), test split<\/h3>([\s\S]*?)<\/table>/.exec(html)![1]!;
    expect(table).toContain("0.696");
    expect(table).toContain("0.702");
    expect(table).not.toContain("0.738");
  });

  it("says so where it does not (versions trained before it was kept)", () => {
    const html = renderReportHtml(detail(null));
    expect(html).not.toContain('data-chart="training-loss"');
    expect(html).toContain("not recorded for this version");
    expect(html).toContain("no labelled rows of this version&#39;s test split are stored");
  });
});

describe("--since", () => {
  it("reads minutes, hours, days and weeks, and names anything else", () => {
    expect(parseSince("90m")).toBe(90 * 60_000);
    expect(parseSince("24h")).toBe(86_400_000);
    expect(parseSince("7d")).toBe(7 * 86_400_000);
    expect(parseSince("2w")).toBe(14 * 86_400_000);
    expect(() => parseSince("soon")).toThrow(/not a duration/);
    expect(() => parseSince("0d")).toThrow(/not a duration/);
  });
});

describe("verdict", () => {
  it("names a way out that works when the active version is below the gate, with or without fresh data", () => {
    const report = emptyReport();
    report.overview.versions = 1;
    report.overview.rows.total = 3000;
    report.overview.activeVersion = { version: "v1", since: "2026-01-01T00:00:00.000Z", testF1: 0.7, lastEvaluationF1: 0.69 };
    const verdict = verdictOf(report);
    expect(verdict.status).toBe("needs-attention");
    expect(verdict.reasons[0]).toContain("below the gate 0.8");
    expect(verdict.nextSteps.join("\n")).toContain("mlops collect (new labelled rows), then mlops run validation-deployment");
    expect(verdict.nextSteps.join("\n")).toContain("mlops train, mlops evaluate --model candidate --split test");
  });
});
