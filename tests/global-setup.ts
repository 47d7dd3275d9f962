import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { TestProject } from "vitest/node";
import { ensureEmbeddedServer, stopEmbeddedServer } from "../src/db/embedded.js";

declare module "vitest" {
  export interface ProvidedContext {
    /** A PostgreSQL URL whose user may create databases: one per test file. */
    adminUrl: string;
  }
}

/**
 * Integration tests run against a real PostgreSQL: the server named by DATABASE_URL when it is
 * set, otherwise an embedded server started here for the whole run (and stopped after it).
 */
export default async function setup(project: TestProject) {
  const external = process.env.DATABASE_URL?.trim();
  if (external) {
    project.provide("adminUrl", external);
    return;
  }
  const root = mkdtempSync(path.join(os.tmpdir(), "mlops-test-server-"));
  chmodSync(root, 0o755);
  const server = await ensureEmbeddedServer(root);
  project.provide("adminUrl", server.url);
  return async () => {
    await stopEmbeddedServer(root);
    rmSync(root, { recursive: true, force: true });
  };
}
