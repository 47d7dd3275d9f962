import type { Feature } from "../config/schema.js";
import { usageError } from "../errors.js";
import type { Dataset } from "./dataset.js";

export interface MissingFeatures {
  /** Declared features no stored row holds a value for. */
  absent: string[];
  /** Whether training went ahead anyway (--allow-missing-features). */
  allowed: boolean;
}

/**
 * A feature declared in the schema but absent from every stored row (say, added with `schema
 * infer --write` after the data was collected) would be trained as 100% missing, and `/predict`
 * would then demand a field the model ignores. Refuse, naming the features, unless allowed.
 */
export function checkFeaturesPresent(features: readonly Feature[], dataset: Pick<Dataset, "rows" | "present">, allow: boolean): MissingFeatures {
  if (dataset.rows === 0 || !dataset.present) return { absent: [], allowed: allow };
  const absent = features.filter((f) => (dataset.present!.get(f.name) ?? 0) === 0).map((f) => f.name);
  if (absent.length > 0 && !allow) {
    throw usageError(
      "FEATURES_MISSING",
      `No stored row holds a value for ${absent.length === 1 ? "the declared feature" : "the declared features"} ${absent.map((n) => `"${n}"`).join(", ")}: the model would learn nothing from ${absent.length === 1 ? "it" : "them"}.`,
      "Collect data that has the column, or remove it from mlops.config.json; --allow-missing-features trains anyway (the feature is then always missing).",
      { absent },
    );
  }
  return { absent, allowed: allow };
}
