import type { CommandSpec } from "../spec.js";

export const initCommand: CommandSpec = {
  name: "init",
  description: "create or verify the project here: config, models/, database, migrations (idempotent)",
  options: [
    { flags: "--from <file>", description: "infer the feature schema from your own CSV/JSONL data instead of the sample schema" },
    { flags: "--label <column>", description: "with --from: the column holding the binary label" },
    { flags: "--row-key <column>", description: "with --from: a column that identifies each row" },
    { flags: "--sample <n>", description: "with --from: rows to look at", default: "10000" },
    { flags: "--positive <value>", description: "with --from: the label value of the positive class" },
    { flags: "--negative <value>", description: "with --from: the label value of the negative class" },
    { flags: "--format <format>", description: "with --from: csv, tsv, jsonl or json (default: from the file name)" },
    { flags: "--encoding <encoding>", description: "with --from: utf8, latin1 or utf16le", default: "utf8" },
  ],
  run: async () => (await import("../init.js")).runInit,
};
