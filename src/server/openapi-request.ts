import type { Feature, MlopsConfig } from "../config/schema.js";
import { servedFeatures } from "./served-schema.js";
import type { ServingModel } from "./serving-model.js";

type JsonSchema = Record<string, unknown>;

/** One feature's value: its type, range or categories, and null where the feature allows it. */
function featureValueSchema(feature: Feature): JsonSchema {
  if (feature.type === "numeric") {
    return {
      type: "number",
      ...(feature.min !== undefined ? { minimum: feature.min } : {}),
      ...(feature.max !== undefined ? { maximum: feature.max } : {}),
      ...(feature.nullable ? { nullable: true } : {}),
      description: `numeric${feature.nullable ? ", null when missing" : ""} (a decimal string such as "1.5" is accepted too)`,
    };
  }
  // OpenAPI 3.0: an enum must list null itself for null to pass, nullable alone is not enough.
  return {
    type: "string",
    enum: feature.nullable ? [...feature.values, null] : [...feature.values],
    ...(feature.nullable ? { nullable: true } : {}),
    description: `one of the categories seen in training${feature.nullable ? ", or null" : ""}`,
  };
}

/**
 * A row as an object: every feature required (null where nullable), plus the columns the
 * server accepts and ignores (the label, the row key, the config's ignored columns), nothing else.
 */
export function instanceSchema(config: MlopsConfig, features: Feature[]): JsonSchema {
  const properties: Record<string, JsonSchema> = {};
  for (const feature of features) properties[feature.name] = featureValueSchema(feature);
  const ignored: Array<[string, string]> = [
    [config.label.name, "the label column: accepted and ignored"],
    ...(config.rowKey ? [[config.rowKey, "the row key: accepted and ignored"] as [string, string]] : []),
    ...(config.ignoredColumns ?? []).map((name) => [name, "an ignored column of the data: accepted and ignored"] as [string, string]),
  ];
  for (const [name, description] of ignored) if (!(name in properties)) properties[name] = { description };
  return {
    type: "object",
    required: features.map((f) => f.name),
    properties,
    additionalProperties: false,
    description: "feature values by name",
  };
}

/** A row as an array of values in schema order. */
export function instanceArraySchema(features: Feature[]): JsonSchema {
  return {
    type: "array",
    minItems: features.length,
    maxItems: features.length,
    // null only through the number branch: oneOf must match exactly one.
    items: { oneOf: [{ type: "number", nullable: true }, { type: "string" }] },
    description: `the values in schema order: ${features.map((f) => f.name).join(", ")}`,
  };
}

interface ProfileEntry {
  type?: string;
  mean?: number | null;
  proportions?: Record<string, number> | number[];
}

/**
 * A row that the served version accepts, from its training data's profile: the mean of each
 * numeric feature (kept inside its range), the most frequent category of each categorical one.
 * Without a profile, the middle of the range (or 0) and the first category.
 */
function exampleRow(features: Feature[], profile: unknown): Record<string, number | string> {
  const entries = ((profile as { features?: Record<string, ProfileEntry> } | null)?.features ?? {}) as Record<string, ProfileEntry>;
  const row: Record<string, number | string> = {};
  for (const feature of features) {
    const entry = entries[feature.name];
    if (feature.type === "numeric") {
      const fallback = feature.min !== undefined && feature.max !== undefined ? (feature.min + feature.max) / 2 : (feature.min ?? feature.max ?? 0);
      let value = typeof entry?.mean === "number" && Number.isFinite(entry.mean) ? entry.mean : fallback;
      if (feature.min !== undefined) value = Math.max(value, feature.min);
      if (feature.max !== undefined) value = Math.min(value, feature.max);
      row[feature.name] = Number(value.toPrecision(6));
    } else {
      const shares = entry?.proportions && !Array.isArray(entry.proportions) ? entry.proportions : {};
      const seen = feature.values.filter((v) => (shares[v] ?? 0) > 0).sort((a, b) => shares[b]! - shares[a]!);
      row[feature.name] = seen[0] ?? feature.values[0]!;
    }
  }
  return row;
}

/** The body of POST /predict for the served version: one row (`features`) or a batch (`instances`). */
export function predictRequestSchema(config: MlopsConfig, model: ServingModel | undefined): JsonSchema {
  const features = servedFeatures(config, model);
  const row = { oneOf: [{ $ref: "#/components/schemas/PredictInstance" }, { $ref: "#/components/schemas/PredictInstanceArray" }] };
  const example = exampleRow(features, model?.manifest.profile);
  return {
    type: "object",
    description: 'exactly one of "features" (one row) or "instances" (a batch)',
    properties: {
      features: row,
      instances: { type: "array", minItems: 1, maxItems: config.serve.maxBatch, items: row },
      request_id: { type: "string", nullable: true, description: "stored with each logged prediction (else the X-Request-Id header)" },
    },
    oneOf: [{ required: ["features"] }, { required: ["instances"] }],
    additionalProperties: false,
    example: { features: example },
  };
}
