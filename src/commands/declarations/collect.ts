import type { CommandSpec } from "../spec.js";

export const collectCommand: CommandSpec = {
  name: "collect",
  description: "ingest one batch: validate, quarantine bad rows with reasons, store, report drift",
  arguments: [{ name: "[source]", description: "a source named in mlops.config.json (sources)" }],
  options: [
    { flags: "--file <path>", description: "a CSV, TSV, JSONL or JSON file (.gz accepted); - for standard input" },
    { flags: "--url <url>", description: "an HTTP(S) URL returning CSV, a JSON array or JSON Lines" },
    { flags: "--query <sql>", description: "a SELECT to run on another PostgreSQL (with --from-db)" },
    { flags: "--from-db <url>", description: "the PostgreSQL URL --query runs on" },
    { flags: "--synthetic <n>", description: "n rows from the synthetic generator" },
    { flags: "--seed <n>", description: "with --synthetic: random seed" },
    { flags: "--drift <x>", description: "with --synthetic: 0..1 distribution shift", default: "0" },
    { flags: "--format <format>", description: "csv, tsv, jsonl or json (default: from the name or content type)" },
    { flags: "--encoding <encoding>", description: "utf8, latin1 or utf16le", default: "utf8" },
    {
      flags: "--max-invalid <share>",
      description: "reject the batch when more rows than this are invalid (0.05 or 5%; default from config: 5%)",
    },
    { flags: "--force", description: "collect even when the same input (same checksum) was collected before" },
    {
      flags: "--feedback <file>",
      description: "attach ground-truth labels to logged predictions (columns prediction_id and the label)",
    },
  ],
  run: async () => (await import("../collect.js")).runCollect,
};
