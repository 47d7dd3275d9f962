import type { FastifyReply, FastifyRequest } from "fastify";
import type { MlopsConfig } from "../config/schema.js";
import type { ServerMetrics } from "./metrics.js";
import type { PredictionLogWriter } from "./prediction-log.js";
import type { ServingModel } from "./serving-model.js";

export interface AppOptions {
  config: MlopsConfig;
  /** Shown in the API document's title (the project folder's name). */
  projectName?: string;
  /** Loads the version to serve (the active one, or the pinned one). */
  loadModel: () => Promise<ServingModel>;
  /** The prediction log; absent with --no-log-predictions. */
  log?: PredictionLogWriter;
  /** Whether the database answers (for /health). */
  databaseUp: () => Promise<boolean>;
  /**
   * The version the registry says is active (null: none; undefined: not known, or not followed
   * because a version is pinned). /health says degraded while it differs from the loaded one.
   */
  activeVersion?: () => Promise<string | null | undefined>;
  /** MLOPS_API_KEY: required for /reload-model, and for /predict when serve.requireApiKey. */
  apiKey?: string;
  bodyLimit?: number;
  /** Renders the report page for GET /dashboard (on its own connection); absent, there is no dashboard. */
  dashboard?: DashboardPages;
}

/** The one mutable piece of the server: replaced whole on reload, so requests never see half a swap. */
export interface ModelHolder {
  current: ServingModel | undefined;
}

export interface ServerContext extends AppOptions {
  holder: ModelHolder;
  metrics: ServerMetrics;
  startedAt: number;
  requireKey: (request: FastifyRequest, reply: FastifyReply) => boolean;
}

/**
 * The live report page, rendered by the report module (which the serve command hands in, so the
 * server does not depend on it): `page` reads the database and renders, `close` ends its connection.
 */
export interface DashboardPages {
  page(refreshSeconds: number): Promise<string>;
  close(): Promise<void>;
}
