import { createReadStream, existsSync, statSync } from "node:fs";
import path from "node:path";
import { Readable } from "node:stream";
import type { Project } from "../../config/load.js";
import type { MlopsConfig } from "../../config/schema.js";
import { ExitCode, MlopsError, usageError } from "../../errors.js";
import { redactUrl } from "../../redact.js";
import { generateRows, type SyntheticOptions } from "../synthetic.js";
import { csvRecords, jsonArrayRecords, jsonLinesRecords, type DataFormat, type FormatState, type SourceRecord } from "./formats.js";
import { decodeText, newChecksum, plainBytes, utf8Bytes, type ByteCounter, type TextEncoding } from "./text.js";
import { queryCsvStream } from "./query.js";

export type SourceSpec =
  | { kind: "file"; path: string; format?: DataFormat; encoding?: TextEncoding }
  | { kind: "url"; url: string; format?: DataFormat; encoding?: TextEncoding }
  | { kind: "query"; query: string; fromDb: string }
  | { kind: "synthetic"; options: SyntheticOptions };

export interface OpenedSource {
  kind: "file" | "stdin" | "url" | "query" | "synthetic";
  /** How the source is shown and stored: a path, a URL or database with secrets masked. */
  name: string;
  records: AsyncIterable<SourceRecord[]>;
  /** sha256 of the bytes read (or of the generator's parameters); final once records are read. */
  checksum(): string;
  /** The checksum before reading, where it can be had cheaply: a repeat is then skipped at once. */
  checksumUpfront?: () => Promise<string>;
  progress: ByteCounter & { totalBytes?: number };
  state: FormatState;
}

/** Opens a source for reading; only the synthetic source needs the project's config. */
export async function openSource(spec: SourceSpec, config?: MlopsConfig): Promise<OpenedSource> {
  switch (spec.kind) {
    case "file":
      return spec.path === "-" ? openStdin(spec) : openFile(spec);
    case "url":
      return openUrl(spec);
    case "query":
      return openQuery(spec);
    case "synthetic":
      if (config === undefined) throw new Error("the synthetic source needs the project config");
      return openSynthetic(spec.options, config);
  }
}

/**
 * The spec of a source named in the config. Relative file paths are relative to the project
 * folder, wherever mlops runs from; a query source reads its database URL from the environment.
 */
export function namedSourceSpec(project: Project, name: string): SourceSpec {
  const named = project.config.sources[name];
  if (named === undefined) {
    const known = Object.keys(project.config.sources);
    throw usageError(
      "SOURCE_UNKNOWN",
      `No source named "${name}" in mlops.config.json.`,
      known.length ? `Known sources: ${known.join(", ")}.` : 'Add one under "sources", e.g. "nightly": { "file": "exports/today.csv" }.',
    );
  }
  if (named.file !== undefined) return { kind: "file", path: path.resolve(project.root, named.file), format: named.format, encoding: named.encoding };
  if (named.url !== undefined) return { kind: "url", url: named.url, format: named.format, encoding: named.encoding };
  const fromDb = process.env[named.fromDbEnv!];
  if (!fromDb)
    throw usageError(
      "SOURCE_DB_UNSET",
      `Source "${name}" reads its database URL from ${named.fromDbEnv}, which is not set.`,
      `Set ${named.fromDbEnv} (in the environment or .env).`,
    );
  return { kind: "query", query: named.query!, fromDb };
}

/** Format from the name: .csv/.tsv, .jsonl/.ndjson, .json, each optionally .gz. */
export function formatFromName(name: string): DataFormat | undefined {
  const base = name.toLowerCase().replace(/\.gz$/, "");
  if (base.endsWith(".csv")) return "csv";
  if (base.endsWith(".tsv")) return "tsv";
  if (base.endsWith(".jsonl") || base.endsWith(".ndjson")) return "jsonl";
  if (base.endsWith(".json")) return "json";
  return undefined;
}

function recordsOf(
  format: DataFormat,
  plain: AsyncIterable<Buffer>,
  encoding: TextEncoding,
  label: string,
  state: FormatState,
): AsyncIterable<SourceRecord[]> {
  if (format === "jsonl") return jsonLinesRecords(decodeText(plain, { encoding, label }));
  if (format === "json") return jsonArrayRecords(decodeText(plain, { encoding, label }), label);
  return csvRecords(utf8Bytes(plain, { encoding, label }), label, state, format === "tsv" ? "\t" : ",");
}

function textSource(
  kind: OpenedSource["kind"],
  name: string,
  bytes: AsyncIterable<Buffer>,
  format: DataFormat,
  encoding: TextEncoding,
  totalBytes?: number,
): OpenedSource {
  const hash = newChecksum();
  const progress: OpenedSource["progress"] = { bytes: 0, totalBytes };
  const state: FormatState = {};
  const plain = plainBytes(bytes, { hash, counter: progress, label: name });
  let digest: string | undefined;
  return {
    kind,
    name,
    records: recordsOf(format, plain, encoding, name, state),
    checksum: () => (digest ??= hash.digest("hex")),
    progress,
    state,
  };
}

function openFile(spec: Extract<SourceSpec, { kind: "file" }>): OpenedSource {
  const file = path.resolve(spec.path);
  if (!existsSync(file)) throw usageError("FILE_NOT_FOUND", `No such file: ${file}.`, "Check the path.");
  const stat = statSync(file);
  if (!stat.isFile()) throw usageError("FILE_NOT_FOUND", `${file} is not a file.`, "Point --file at a CSV or JSONL file.");
  const format = spec.format ?? formatFromName(file);
  if (format === undefined) {
    throw usageError("FORMAT_UNKNOWN", `Cannot tell the format of ${path.basename(file)} from its name.`, "Pass --format csv, jsonl or json.");
  }
  const stream = createReadStream(file, { highWaterMark: 1 << 20 });
  const source = textSource("file", file, stream, format, spec.encoding ?? "utf8", stat.size);
  source.checksumUpfront = async () => {
    const hash = newChecksum();
    for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
    return hash.digest("hex");
  };
  return source;
}

function openStdin(spec: Extract<SourceSpec, { kind: "file" }>): OpenedSource {
  return textSource("stdin", "standard input", process.stdin, spec.format ?? "csv", spec.encoding ?? "utf8");
}

async function openUrl(spec: Extract<SourceSpec, { kind: "url" }>): Promise<OpenedSource> {
  let url: URL;
  try {
    url = new URL(spec.url);
  } catch {
    throw usageError("URL_INVALID", `Not a valid URL: ${redactUrl(spec.url)}.`, "Pass an http:// or https:// URL.");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw usageError("URL_INVALID", `Only http and https URLs can be collected, not ${url.protocol}.`, "Download the file and use --file.");
  }
  const shown = redactUrl(spec.url);
  // fetch refuses such URLs anyway; said plainly, and without the password, it is a usage error.
  if (url.username !== "" || url.password !== "") {
    throw usageError(
      "URL_CREDENTIALS",
      `${shown} holds a user name or password; mlops does not send credentials from a URL (they would end up in logs and batch records).`,
      "Download the file with your credentials (e.g. curl -u USER -o data.csv URL) and collect it with --file data.csv.",
    );
  }
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), 30_000);
  let response: Response;
  try {
    response = await fetch(url, {
      signal: controller.signal,
      headers: { accept: "text/csv, application/x-ndjson, application/json;q=0.9, */*;q=0.5" },
    });
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    throw new MlopsError("URL_UNREACHABLE", `Cannot reach ${shown}: ${cause?.code ?? cause?.message ?? (error as Error).message}.`, {
      exitCode: ExitCode.unavailable,
      hint: "Check the URL and that the server is up.",
    });
  } finally {
    clearTimeout(timer);
  }
  if (!response.ok || response.body === null) {
    throw new MlopsError("URL_FAILED", `${shown} answered HTTP ${response.status} ${response.statusText}.`, {
      exitCode: response.status >= 500 ? ExitCode.unavailable : ExitCode.usage,
      hint: response.status >= 500 ? "The server failed; try again later." : "Check the URL and any credentials it needs.",
    });
  }
  const type = response.headers.get("content-type") ?? "";
  const format =
    spec.format ??
    (/ndjson|jsonl|json-seq/.test(type) ? "jsonl" : /json/.test(type) ? "json" : /csv|text\/plain/.test(type) ? "csv" : undefined) ??
    formatFromName(url.pathname) ??
    "csv";
  const length = Number(response.headers.get("content-length") ?? NaN);
  const body = Readable.fromWeb(response.body as import("node:stream/web").ReadableStream<Uint8Array>);
  return textSource("url", shown, body, format, spec.encoding ?? "utf8", Number.isFinite(length) ? length : undefined);
}

async function openQuery(spec: Extract<SourceSpec, { kind: "query" }>): Promise<OpenedSource> {
  const { bytes, name } = await queryCsvStream(spec.query, spec.fromDb);
  return textSource("query", name, bytes, "csv", "utf8");
}

function openSynthetic(options: SyntheticOptions, config: MlopsConfig): OpenedSource {
  const rows = generateRows(config, options);
  const progress: OpenedSource["progress"] = { bytes: 0 };
  const checksum = newChecksum()
    .update(JSON.stringify({ generator: 1, options, features: config.features, label: config.label, rowKey: config.rowKey ?? null }))
    .digest("hex");
  async function* records(): AsyncGenerator<SourceRecord[]> {
    let line = 0;
    let out: SourceRecord[] = [];
    for (const row of rows) {
      line += 1;
      out.push({ line, row });
      if (out.length === 5000) {
        yield out;
        out = [];
      }
    }
    if (out.length > 0) yield out;
  }
  const name = `synthetic (seed ${options.seed}, drift ${options.drift}, ${options.rows} rows)`;
  return { kind: "synthetic", name, records: records(), checksum: () => checksum, checksumUpfront: async () => checksum, progress, state: {} };
}
