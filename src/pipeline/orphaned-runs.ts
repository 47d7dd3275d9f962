import type pg from "pg";
import { connectPg, type DatabaseTarget } from "../db/connection.js";

export interface OrphanedRun {
  id: number;
  pipeline: string;
  pid: number;
  hostname: string;
}

/**
 * Marks failed every run left `running` by a process that died (kill -9, a lost machine): a
 * live run holds its pipeline's session advisory lock (runner.ts, key hashtext('mlops:pipeline:'
 * || pipeline)) from before its row is inserted until after its status is written, and
 * PostgreSQL drops the lock the moment the holder's connection closes. So a `running` row whose
 * lock nobody holds has no process behind it.
 *
 * The lock is looked up in pg_locks rather than taken: taking it, even briefly, would make a
 * scheduled run that starts in that instant refuse to run as "already running". One statement
 * decides and writes, so a run that finishes meanwhile keeps its status (the row's status is
 * rechecked on update) and a run started meanwhile is not in the statement's snapshot.
 */
async function failOrphanedRuns(client: pg.Client): Promise<OrphanedRun[]> {
  const reaped = await client.query<OrphanedRun>(
    `WITH orphaned AS (
       UPDATE pipeline_runs r
          SET status = 'failed', finished_at = now(),
              error = 'the process running it died (pid ' || r.pid || ' on ' || r.hostname || '); marked failed by another scheduler'
        WHERE r.status = 'running'
          AND NOT EXISTS (
            SELECT 1 FROM pg_locks l
             WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
               AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
               -- A bigint key shows as its high half in classid and its low half in objid.
               AND l.classid = ((hashtext('mlops:pipeline:' || r.pipeline)::bigint >> 32) & 4294967295)::oid
               AND l.objid = (hashtext('mlops:pipeline:' || r.pipeline)::bigint & 4294967295)::oid)
       RETURNING r.id, r.pipeline, r.pid, r.hostname
     ), stages AS (
       UPDATE stage_runs s SET status = 'failed', finished_at = now(), error = 'the process running it died'
        WHERE s.status = 'running' AND s.run_id IN (SELECT id FROM orphaned)
     )
     SELECT id, pipeline, pid, hostname FROM orphaned ORDER BY id`,
  );
  return reaped.rows;
}

/**
 * Every `seconds`, marks failed the runs whose process died, so a worker killed mid-run (kill -9,
 * a lost node) does not leave its run `running` until that pipeline's next tick. Every scheduler
 * does this; the check is one statement and idempotent. Trouble reaching the database is
 * pg-boss's to report, so it is not repeated here.
 */
export function watchForOrphanedRuns(target: DatabaseTarget, seconds: number, onOrphan: (run: OrphanedRun) => void): { stop(): void } {
  let checking = false;
  const check = async () => {
    if (checking) return;
    checking = true;
    try {
      const client = await connectPg(target, 5000, "mlops scheduler");
      try {
        for (const run of await failOrphanedRuns(client)) onOrphan(run);
      } finally {
        await client.end().catch(() => undefined);
      }
    } catch {
      // The database is away; pg-boss says so, and the next check tries again.
    } finally {
      checking = false;
    }
  };
  void check();
  const timer = setInterval(() => void check(), seconds * 1000);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
