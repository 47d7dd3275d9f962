import type { CommandSpec } from "../spec.js";

export const reportCommand: CommandSpec = {
  name: "report",
  description: "write one self-contained HTML file of the project: lineage, version detail, data and drift, live traffic, runs",
  options: [
    { flags: "--out <file>", description: "where to write (default mlops-report.html; with --format md: standard output)" },
    {
      flags: "--model <version>",
      description: "detail this version instead of the active one (--version is the toolkit's own version flag)",
    },
    { flags: "--since <duration>", description: "time-based sections cover only this long ago to now: 90m, 24h, 7d, 2w" },
    { flags: "--format <format>", description: "html, or md for a Markdown summary (pull-request comments, CI job summaries)", default: "html" },
  ],
  run: async () => (await import("../report.js")).runReport,
};
