import type { Project } from "../config/load.js";
import { MIGRATIONS_DIR } from "../package-root.js";
import { redactUrl } from "../redact.js";
import { connectPg, resolveDatabase, validateDatabaseUrl, type DatabaseTarget } from "./connection.js";
import { embeddedStatus } from "./embedded.js";
import { migrationStatus, type MigrationStatus } from "./migrate.js";

export interface DatabaseStatus {
  mode: "embedded" | "external";
  url: string | null;
  server: {
    running: boolean;
    pid: number | null;
    port: number | null;
    dataDir: string | null;
    /** When the data folder is outside the project (root in a private folder): the file recording it. */
    dataDirRecord: string | null;
    logFile: string | null;
  };
  reachable: boolean;
  error: string | null;
  migrations: MigrationStatus | null;
  sizeBytes: number | null;
}

/**
 * What `mlops db status` shows. It never starts anything: an embedded server that is down is
 * reported as such, and only a running (or external) server is queried.
 */
export async function databaseStatus(project: Project): Promise<DatabaseStatus> {
  const external = process.env.DATABASE_URL?.trim();
  let target: DatabaseTarget | undefined;
  let server: DatabaseStatus["server"];
  if (external) {
    validateDatabaseUrl(external);
    target = { url: external, display: redactUrl(external), embedded: false };
    server = { running: true, pid: null, port: Number(new URL(external).port || 5432), dataDir: null, dataDirRecord: null, logFile: null };
  } else {
    const status = embeddedStatus(project.root);
    server = {
      running: status.running,
      pid: status.pid ?? null,
      port: status.port ?? null,
      dataDir: status.dataDir,
      dataDirRecord: status.dataDirRecord ?? null,
      logFile: status.logFile,
    };
    if (status.running) target = await resolveDatabase(project, { start: false });
  }
  const base = { mode: external ? ("external" as const) : ("embedded" as const), url: target?.display ?? null, server };
  if (target === undefined) return { ...base, reachable: false, error: null, migrations: null, sizeBytes: null };
  try {
    const client = await connectPg(target, 3000);
    try {
      const size = await client.query<{ size: string }>("SELECT pg_database_size(current_database())::text AS size");
      return {
        ...base,
        reachable: true,
        error: null,
        migrations: await migrationStatus(client, MIGRATIONS_DIR),
        sizeBytes: Number(size.rows[0]?.size ?? 0),
      };
    } finally {
      await client.end();
    }
  } catch (error) {
    return { ...base, reachable: false, error: (error as Error).message, migrations: null, sizeBytes: null };
  }
}
