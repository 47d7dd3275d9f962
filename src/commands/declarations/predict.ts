import type { CommandSpec } from "../spec.js";

export const predictCommand: CommandSpec = {
  name: "predict",
  description: "score rows with a registered version: a file, a query or stored rows in, each row with probability, label and version out",
  options: [
    { flags: "--file <path>", description: "a CSV, TSV, JSONL or JSON file (.gz accepted); - for standard input" },
    { flags: "--query <sql>", description: "one read-only SELECT to run on another PostgreSQL (with --from-db)" },
    { flags: "--from-db <url>", description: "the PostgreSQL URL --query runs on" },
    { flags: "--split <split>", description: "score the stored rows of a split: train, validation or test" },
    { flags: "--batch <id>", description: "score the stored rows of a collected batch" },
    { flags: "--model <version>", description: "a version name, or active, candidate, latest", default: "active" },
    { flags: "--out <file>", description: "where the scored rows go (- for standard output)", default: "-" },
    { flags: "--format <format>", description: "output format: csv, tsv, jsonl or json (default: from --out's name, else the input's)" },
    { flags: "--input-format <format>", description: "input format when the name does not tell: csv, tsv, jsonl or json" },
    { flags: "--encoding <encoding>", description: "input encoding: utf8, latin1 or utf16le", default: "utf8" },
    { flags: "--rejects <file>", description: "write rows that fail validation here, with the reason per field" },
    { flags: "--threshold <x>", description: "decision threshold for the label (default: the version's)" },
    { flags: "--max-invalid <share>", description: "exit 3 when more rows than this are invalid (0.05 or 5%; default from config: 5%)" },
    { flags: "--log", description: "store each scored row in the prediction log (source batch), so collect --feedback can label it later" },
  ],
  run: async () => (await import("../predict.js")).runPredict,
};
