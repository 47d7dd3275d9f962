import { chartLibrary } from "./assets.js";
import { esc, jsonBlock, when } from "./html-parts.js";
import { PAGE_SCRIPT } from "./page-script.js";
import { dataSection, lineageSection, overviewSection, runsSection, trafficSection, versionSection } from "./render-sections.js";
import type { ReportData } from "./types.js";

export const SECTIONS = ["overview", "lineage", "version", "data", "traffic", "runs"] as const;

const NAV: Record<(typeof SECTIONS)[number], string> = {
  overview: "Overview",
  lineage: "Lineage",
  version: "Version detail",
  data: "Data and drift",
  traffic: "Live traffic",
  runs: "Runs",
};

export interface PageOptions {
  /** The live dashboard reloads itself this often (seconds); the file never does. */
  refreshSeconds?: number;
}

/**
 * The whole page as one string: styles, uPlot, the data and the drawing script all inline. The
 * content security policy forbids every fetch, so the page cannot reach the network even by
 * mistake; it is the same for the file and for /dashboard.
 */
export function renderReportHtml(data: ReportData, options: PageOptions = {}): string {
  const { script, style } = chartLibrary();
  const verdict = data.overview.verdict;
  const verdictText = verdict.status === "healthy" ? "Healthy" : verdict.status === "empty" ? "Nothing here yet" : "Needs attention";
  const live = options.refreshSeconds
    ? ` &middot; live from the database, <span id="refresh-note">refreshes every ${options.refreshSeconds} s</span>`
    : "";
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:">
<title>mlops report${data.overview.activeVersion ? ` (${esc(data.overview.activeVersion.version)})` : ""}</title>
<style>${style}</style>
<style>${PAGE_STYLE}</style>
</head>
<body${options.refreshSeconds ? ` data-refresh="${options.refreshSeconds}"` : ""}>
<header>
<h1>mlops report</h1>
<p class="meta">Generated ${esc(when(data.generatedAt))}${data.since.duration ? ` &middot; time-based sections cover the last ${esc(data.since.duration)}` : ""}${live}</p>
<nav>${SECTIONS.map((s) => `<a href="#${s}">${NAV[s]}</a>`).join("")}</nav>
</header>
<div class="verdict ${verdict.status}"><strong>${verdictText}.</strong> ${verdict.reasons.map(esc).join(" ")}</div>
<main>
${overviewSection(data)}
${lineageSection(data)}
${versionSection(data)}
${dataSection(data)}
${trafficSection(data)}
${runsSection(data)}
</main>
${jsonBlock("report-data", data)}
<script>${script}</script>
<script>${PAGE_SCRIPT}</script>
</body>
</html>
`;
}

const PAGE_STYLE = `
:root { color-scheme: light; --ink: #111827; --muted: #6b7280; --line: #e5e7eb; --bg: #f9fafb; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: var(--bg); }
header { padding: 16px 28px 8px; background: #fff; border-bottom: 1px solid var(--line); }
h1 { margin: 0; font-size: 22px; }
h2 { margin: 0 0 4px; font-size: 18px; }
h3 { margin: 18px 0 6px; font-size: 14px; }
.meta { margin: 2px 0 8px; color: var(--muted); }
nav a { margin-right: 14px; color: #2563eb; text-decoration: none; }
main { padding: 0 28px 40px; }
section { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 16px 18px; margin-top: 16px; }
.how { margin: 0 0 12px; color: var(--muted); max-width: 980px; }
.verdict { margin: 16px 28px 0; padding: 12px 16px; border-radius: 8px; font-size: 15px; border: 1px solid; }
.verdict.healthy { background: #f0fdf4; border-color: #86efac; }
.verdict.needs-attention { background: #fef2f2; border-color: #fca5a5; }
.verdict.empty { background: #eff6ff; border-color: #93c5fd; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(210px, 1fr)); gap: 10px; }
.card { border: 1px solid var(--line); border-radius: 6px; padding: 10px 12px; }
.card .label { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .03em; }
.card .value { font-size: 20px; font-weight: 600; }
.card .note { color: var(--muted); font-size: 12px; }
.next { margin: 12px 0 0; }
code { background: #f3f4f6; padding: 1px 5px; border-radius: 4px; font-size: 13px; }
.grid2 { display: grid; grid-template-columns: repeat(auto-fit, minmax(420px, 1fr)); gap: 16px; }
.grid3 { display: grid; grid-template-columns: repeat(auto-fit, minmax(340px, 1fr)); gap: 16px; }
figure { margin: 8px 0; min-width: 0; }
figcaption { color: var(--muted); font-size: 12px; margin-top: 2px; }
.chart, .heatmap { position: relative; width: 100%; min-height: 40px; }
.tip { position: absolute; display: none; z-index: 5; max-width: 360px; background: #111827; color: #fff; padding: 6px 8px; border-radius: 4px; font-size: 12px; pointer-events: none; }
table { border-collapse: collapse; margin: 4px 0; }
th, td { text-align: left; padding: 4px 10px 4px 0; border-bottom: 1px solid var(--line); vertical-align: top; }
table.compact td, table.compact th { font-size: 13px; }
.confusion td { text-align: center; font-size: 18px; font-weight: 600; padding: 10px 18px; }
.confusion td small { display: block; font-size: 11px; font-weight: 400; color: var(--muted); }
.confusion td.good { background: #f0fdf4; } .confusion td.bad { background: #fef2f2; }
.badge { background: #dcfce7; color: #166534; border-radius: 10px; padding: 0 6px; font-size: 11px; }
.pass { color: #16a34a; font-weight: 600; } .fail { color: #dc2626; font-weight: 600; }
.action-rollback { color: #dc2626; font-weight: 600; } .action-force { color: #d97706; font-weight: 600; } .action-promote { color: #16a34a; font-weight: 600; }
.empty { color: var(--muted); font-style: italic; }
.small { font-size: 12px; color: var(--muted); }
.sw { display: inline-block; width: 12px; height: 10px; margin: 0 3px 0 10px; vertical-align: middle; }
.sw.stable { background: #86efac; } .sw.moderate { background: #fbbf24; } .sw.drift { background: #dc2626; } .sw.none { background: #e5e7eb; }
details summary { cursor: pointer; color: #2563eb; margin: 8px 0; }
`;
