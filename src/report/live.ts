import pg from "pg";
import type { Project } from "../config/load.js";
import type { DatabaseTarget } from "../db/connection.js";
import { buildReportData } from "./build-data.js";
import { renderReportHtml } from "./render-html.js";

/** A dashboard query that runs longer than this is cancelled by PostgreSQL itself. */
export const DASHBOARD_STATEMENT_TIMEOUT_MS = 5000;

export interface LiveReport {
  /** The report page, read afresh and set to reload itself every `refreshSeconds`. */
  page(refreshSeconds: number): Promise<string>;
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
    async page(refreshSeconds) {
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
        return renderReportHtml(await buildReportData(project, client), { refreshSeconds });
      } finally {
        client.release();
      }
    },
    async close() {
      await pool?.end();
    },
  };
}
