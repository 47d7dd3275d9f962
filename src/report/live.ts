import pg from "pg";
import type { Project } from "../config/load.js";
import type { DatabaseTarget } from "../db/connection.js";
import { buildReportData } from "./build-data.js";
import type { ReportData } from "./types.js";

/** A dashboard query that runs longer than this is cancelled by PostgreSQL itself. */
export const DASHBOARD_STATEMENT_TIMEOUT_MS = 5000;

export interface LiveReport {
  read(): Promise<ReportData>;
  close(): Promise<void>;
}

/**
 * The report's data for the live /dashboard: read on a pool of its own with one connection and a
 * statement timeout, so a page view never takes a connection the server's model loading or
 * health probe needs, and a slow query is cut off rather than piling up. The connection opens on
 * the first view.
 */
export function liveReport(project: Project, target: DatabaseTarget): LiveReport {
  let pool: pg.Pool | undefined;
  return {
    async read() {
      if (!pool) {
        pool = new pg.Pool({
          connectionString: target.url,
          max: 1,
          connectionTimeoutMillis: 2000,
          idleTimeoutMillis: 30_000,
          statement_timeout: DASHBOARD_STATEMENT_TIMEOUT_MS,
          application_name: "mlops dashboard",
        });
        pool.on("error", () => undefined);
      }
      const client = await pool.connect();
      try {
        return await buildReportData(project, client);
      } finally {
        client.release();
      }
    },
    async close() {
      await pool?.end();
    },
  };
}
