import type { Feature, MlopsConfig } from "../config/schema.js";
import type { ServingModel } from "./serving-model.js";

/** The feature schema the served version was trained on (the config's, for manifests without one). */
export function servedFeatures(config: MlopsConfig, model: ServingModel | undefined): Feature[] {
  const schema = model?.manifest.featureSchema;
  return Array.isArray(schema) && schema.length > 0 ? (schema as Feature[]) : config.features;
}

const configs = new WeakMap<ServingModel, MlopsConfig>();

/**
 * The config as the served version sees it: its own feature schema in place of the config
 * file's, so that after a promotion to a version trained on another schema, requests are
 * checked against the schema its preprocessing expects (and /docs/json describes), without a
 * restart. One WeakMap lookup per request; built once per loaded model.
 */
export function servedConfig(config: MlopsConfig, model: ServingModel): MlopsConfig {
  let served = configs.get(model);
  if (!served) {
    const features = servedFeatures(config, model);
    served = features === config.features ? config : { ...config, features };
    configs.set(model, served);
  }
  return served;
}
