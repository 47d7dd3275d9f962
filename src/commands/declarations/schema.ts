import type { CommandSpec } from "../spec.js";

export const schemaCommand: CommandSpec = {
  name: "schema",
  description: "the project's feature schema",
  subcommands: [
    {
      name: "infer",
      description: "infer the feature schema from data: types, categories, nullability, ranges, the positive label",
      arguments: [{ name: "<file>", description: "a CSV, TSV, JSONL or JSON sample of your data" }],
      options: [
        { flags: "--label <column>", description: "the column holding the binary label", required: true },
        { flags: "--row-key <column>", description: "a column that identifies each row" },
        { flags: "--sample <n>", description: "rows to look at", default: "10000" },
        { flags: "--positive <value>", description: "the label value of the positive class (default: the conventional or minority one)" },
        { flags: "--negative <value>", description: "the label value of the negative class" },
        { flags: "--format <format>", description: "csv, tsv, jsonl or json (default: from the file name)" },
        { flags: "--encoding <encoding>", description: "utf8, latin1 or utf16le", default: "utf8" },
        { flags: "--write", description: "replace features, label and rowKey in mlops.config.json" },
      ],
      run: async () => (await import("../schema.js")).runSchemaInfer,
    },
  ],
};
