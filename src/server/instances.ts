import type { Feature, MlopsConfig } from "../config/schema.js";
import { numericWidth, transformRow } from "../model/preprocess.js";
import type { PreprocessParams } from "../model/preprocess.js";
import { DECIMAL, isMissingToken } from "../data/values.js";

export interface FieldError {
  /** Index of the instance in a batch (0 for a single row). */
  instance: number;
  field: string;
  problem: string;
}

export interface ParsedInstances {
  /** Rows as objects keyed by feature name (what is logged). */
  rows: Array<Record<string, unknown>>;
  batch: boolean;
  /** Some row carried ignored columns (dropped from `rows`), so the body's text is not the features' text. */
  trimmed: boolean;
}

/**
 * Reads `{features: {...}}`, `{features: [...]}` (schema order) or `{instances: [...]}` and
 * checks every field against the schema, naming each bad one (the body's keys, the request id
 * and every feature of every instance alike). Nothing here throws on input.
 */
export function parseInstances(body: unknown, config: MlopsConfig, maxBatch: number): ParsedInstances | { errors: FieldError[] } {
  if (body === null || typeof body !== "object" || Array.isArray(body)) {
    return { errors: [{ instance: 0, field: "(body)", problem: 'expected a JSON object with "features" or "instances"' }] };
  }
  const record = body as Record<string, unknown>;
  const errors: FieldError[] = [];
  for (const key in record) {
    if (key !== "features" && key !== "instances" && key !== "request_id")
      errors.push({ instance: 0, field: key, problem: "unknown field of the body (expected features or instances, and request_id)" });
  }
  const idError = requestIdError(record.request_id, "request_id");
  if (idError) errors.push(idError);
  if ("features" in record === "instances" in record) {
    errors.push({ instance: 0, field: "(body)", problem: 'expected exactly one of "features" or "instances"' });
    return { errors };
  }
  const batch = "instances" in record;
  const items = batch ? record.instances : [record.features];
  if (!Array.isArray(items) || items.length === 0) errors.push({ instance: 0, field: "instances", problem: "expected a non-empty array" });
  else if (items.length > maxBatch)
    errors.push({ instance: 0, field: "instances", problem: `at most ${maxBatch} instances per request, got ${items.length}` });
  else {
    const rows = new Array<Record<string, unknown>>(items.length);
    let trimmed = false;
    for (let i = 0; i < items.length; i += 1) {
      rows[i] = checkInstance(items[i], i, config, errors);
      if (rows[i] !== items[i] && !Array.isArray(items[i])) trimmed = true;
    }
    if (errors.length === 0) return { rows, batch, trimmed };
  }
  return { errors };
}

/**
 * A client's request id must be a string (or absent, or null) that PostgreSQL can store as
 * text; anything else is a bad field.
 */
export function requestIdError(value: unknown, field: string): FieldError | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string") return { instance: 0, field, problem: `expected a string, got ${Array.isArray(value) ? "an array" : typeof value}` };
  const problem = textProblem(value);
  return problem ? { instance: 0, field, problem } : undefined;
}

/**
 * Why PostgreSQL's UTF8 text would refuse (or silently alter) this string: a NUL character,
 * which no text value may hold, or a lone UTF-16 surrogate, which has no UTF-8 form (Node
 * would write U+FFFD in its place). Both checks are single native scans.
 */
function textProblem(text: string): string | undefined {
  if (text.includes("\0")) return "holds a NUL character (\\u0000), which PostgreSQL text cannot store";
  if (!(text as WellFormedCheck).isWellFormed()) return "holds a lone UTF-16 surrogate (not valid Unicode text)";
  return undefined;
}

/** ES2024's String.prototype.isWellFormed, in Node since 20; the project's TypeScript lib predates it. */
type WellFormedCheck = string & { isWellFormed(): boolean };

/** Feature names, and the other columns of the user's rows that a row may carry and the server ignores. */
interface SchemaNames {
  features: Set<string>;
  ignored: Set<string>;
}
const schemaNames = new WeakMap<MlopsConfig, SchemaNames>();

function namesOf(config: MlopsConfig): SchemaNames {
  let names = schemaNames.get(config);
  if (!names) {
    // The row key, the label and the columns the schema lists as ignored: collect accepts rows
    // holding them, so the same rows sent to /predict are accepted too (and those columns ignored).
    const ignored = [config.label.name, ...(config.rowKey ? [config.rowKey] : []), ...(config.ignoredColumns ?? [])];
    schemaNames.set(config, (names = { features: new Set(config.features.map((f) => f.name)), ignored: new Set(ignored) }));
  }
  return names;
}

/** Largest float32: numbers beyond it become Infinity in the network's input. */
const FLOAT32_MAX = 3.4028234663852886e38;

function checkInstance(item: unknown, index: number, config: MlopsConfig, errors: FieldError[]): Record<string, unknown> {
  const features = config.features;
  const names = namesOf(config);
  let row: Record<string, unknown>;
  if (Array.isArray(item)) {
    if (item.length !== features.length) {
      errors.push({ instance: index, field: "(features)", problem: `expected ${features.length} values in schema order, got ${item.length}` });
      return {};
    }
    row = Object.fromEntries(features.map((f, i) => [f.name, item[i]]));
  } else if (item !== null && typeof item === "object") {
    row = item as Record<string, unknown>;
    let ignoredSeen = false;
    for (const key in row) {
      if (names.features.has(key)) continue;
      if (names.ignored.has(key)) ignoredSeen = true;
      else errors.push({ instance: index, field: key, problem: "unknown field (not in the feature schema)" });
    }
    // Only the features are logged: the ignored columns are dropped here, once, on this rare path.
    if (ignoredSeen) row = Object.fromEntries(features.filter((f) => f.name in row).map((f) => [f.name, row[f.name]]));
  } else {
    errors.push({ instance: index, field: "(features)", problem: "expected an object of feature values or an array in schema order" });
    return {};
  }
  for (const feature of features) {
    const value = row[feature.name];
    if (value === undefined) errors.push({ instance: index, field: feature.name, problem: "missing" });
    else if (value === null || (typeof value === "string" && isMissingToken(value.trim()) && !isCategory(feature, value))) {
      // An empty cell ("", "NA", ...) is a missing value, as `collect` reads it: rows stored from a
      // CSV must be predictable as sent.
      if (!feature.nullable) {
        const what = value === null ? "null" : `${JSON.stringify(value)} (no value)`;
        errors.push({ instance: index, field: feature.name, problem: `${what}, but the feature is not nullable` });
      }
    } else if (feature.type === "numeric") {
      const number = typeof value === "number" ? value : typeof value === "string" && DECIMAL.test(value.trim()) ? Number(value) : NaN;
      if (typeof value !== "number" && typeof value !== "string")
        errors.push({ instance: index, field: feature.name, problem: `expected a number, got ${typeof value}` });
      else if (!Number.isFinite(number))
        errors.push({
          instance: index,
          field: feature.name,
          problem: `not a finite number: ${typeof value === "number" ? String(value) : JSON.stringify(value)}`,
        });
      else if (number > FLOAT32_MAX || number < -FLOAT32_MAX) {
        errors.push({
          instance: index,
          field: feature.name,
          problem: `${number} is beyond the model's number range (float32, at most about 3.4e38 in magnitude)`,
        });
      } else if ((feature.min !== undefined && number < feature.min) || (feature.max !== undefined && number > feature.max)) {
        errors.push({ instance: index, field: feature.name, problem: `${number} is outside [${feature.min ?? "-inf"}, ${feature.max ?? "inf"}]` });
      }
    } else if (typeof value !== "string" || !feature.values.includes(value)) {
      const shown =
        typeof value === "string"
          ? JSON.stringify(value)
          : Array.isArray(value)
            ? "an array"
            : typeof value === "object"
              ? "an object"
              : String(value);
      errors.push({ instance: index, field: feature.name, problem: `unknown category ${shown} (allowed: ${feature.values.join(", ")})` });
    }
  }
  return row;
}

/**
 * Inputs the network cannot take although each value passed validation: a value in float32's
 * range whose standardised form is not (3e38 with a standard deviation below 1 overflows).
 * The standardised value is a numeric's first input; its bin inputs lie in [0, 1] whatever the value.
 * Checked after preprocessing, per numeric input; the loop is a few compares per feature.
 */
export function nonFiniteInputs(preprocess: PreprocessParams, x: Float32Array, rows: number): FieldError[] | undefined {
  let errors: FieldError[] | undefined;
  const dim = preprocess.inputDim;
  for (let r = 0; r < rows; r += 1) {
    let offset = r * dim;
    for (const feature of preprocess.features) {
      if (feature.type === "numeric") {
        if (!Number.isFinite(x[offset]!))
          (errors ??= []).push({
            instance: r,
            field: feature.name,
            problem: "too large in magnitude for the model: its standardised value overflows float32",
          });
        offset += numericWidth(feature) + (feature.indicator ? 1 : 0);
      } else offset += feature.values.length + 1;
    }
  }
  return errors;
}

/** The network inputs of validated rows. */
export function inputsOf(preprocess: PreprocessParams, rows: Array<Record<string, unknown>>): Float32Array {
  const x = new Float32Array(rows.length * preprocess.inputDim);
  rows.forEach((row, i) => transformRow(preprocess, row, x.subarray(i * preprocess.inputDim, (i + 1) * preprocess.inputDim)));
  return x;
}

const SENT_FEATURES_PREFIX = '{"features":{';

/**
 * The features object's JSON text exactly as the client sent it, when the body is nothing but
 * `{"features":{...}}` (what clients send, compact); otherwise undefined and the caller
 * serialises the parsed row. Logging the received text spares JSON.stringify on every request.
 * The body already parsed as JSON, so a scan of strings and nesting finds where the object
 * ends; anything after it but whitespace (a second "features" key, say) means undefined.
 */
export function sentFeaturesText(raw: string | undefined): string | undefined {
  if (raw === undefined || !raw.startsWith(SENT_FEATURES_PREFIX)) return undefined;
  let end = raw.length - 1;
  while (end > 0 && raw.charCodeAt(end) <= 32) end -= 1;
  if (raw.charCodeAt(end) !== 125) return undefined;
  const start = SENT_FEATURES_PREFIX.length - 1;
  let depth = 0;
  let i = start;
  for (; i < end; i += 1) {
    const code = raw.charCodeAt(i);
    if (code === 34) {
      for (i += 1; i < end; i += 1) {
        const inner = raw.charCodeAt(i);
        if (inner === 92) i += 1;
        else if (inner === 34) break;
      }
    } else if (code === 123 || code === 91) {
      depth += 1;
    } else if ((code === 125 || code === 93) && --depth === 0) {
      break;
    }
  }
  for (let j = i + 1; j < end; j += 1) if (raw.charCodeAt(j) > 32) return undefined;
  return raw.slice(start, i + 1);
}

/** A categorical feature may list a value that is also a missing token ("none"): then it is that category. */
function isCategory(feature: Feature, value: string): boolean {
  return feature.type === "categorical" && feature.values.includes(value);
}
