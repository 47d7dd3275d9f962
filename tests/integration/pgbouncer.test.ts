import { mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inject } from "vitest";
import { sampleConfig } from "../../src/config/sample.js";
import type { DatabaseTarget } from "../../src/db/connection.js";
import { applyMigrations } from "../../src/db/migrate.js";
import { connectSession, DIRECT_URL_VARIABLE } from "../../src/db/pooling.js";
import { MIGRATIONS_DIR } from "../../src/package-root.js";
import { json, runCli } from "../helpers/cli.js";
import { connect, createScratchDatabase, type ScratchDatabase } from "../helpers/database.js";
import { PGBOUNCER, startPgBouncer, type Bouncer } from "../helpers/pgbouncer.js";

// LISTEN/NOTIFY and advisory locks through Debian's PgBouncer: session pooling works,
// transaction pooling is refused with a clear error, and DATABASE_DIRECT_URL is the way out.

const external = (url: string): DatabaseTarget => ({ url, display: url.replace(/:[^:@/]*@/, ":***@"), embedded: false });

describe.skipIf(!PGBOUNCER)("behind PgBouncer", () => {
  let db: ScratchDatabase;
  let direct: pg.Client;
  let session: Bouncer;
  let transaction: Bouncer;
  let project: string;
  const saved = process.env[DIRECT_URL_VARIABLE];

  beforeAll(async () => {
    db = await createScratchDatabase();
    direct = await connect(db.url);
    await applyMigrations(direct, MIGRATIONS_DIR);
    [session, transaction] = await Promise.all([startPgBouncer(inject("adminUrl"), "session"), startPgBouncer(inject("adminUrl"), "transaction")]);
    project = mkdtempSync(path.join(os.tmpdir(), "mlops-pgbouncer-project-"));
    writeFileSync(
      path.join(project, "mlops.config.json"),
      JSON.stringify({ ...sampleConfig(), pipelines: { noop: { stages: ["evaluate-active"] } } }),
    );
  });
  afterAll(async () => {
    if (saved === undefined) delete process.env[DIRECT_URL_VARIABLE];
    else process.env[DIRECT_URL_VARIABLE] = saved;
    await direct?.end();
    await Promise.all([session?.stop(), transaction?.stop()]);
    await db?.drop();
  });

  it("session pooling keeps one session: LISTEN hears a NOTIFY", async () => {
    delete process.env[DIRECT_URL_VARIABLE];
    const listener = await connectSession(external(session.url(db.url)), "LISTEN");
    try {
      const heard = new Promise<string | undefined>((resolve) => listener.on("notification", (message) => resolve(message.payload)));
      await listener.query("LISTEN mlops_pooling_test");
      await direct.query("NOTIFY mlops_pooling_test, 'promoted'");
      expect(await heard).toBe("promoted");
    } finally {
      await listener.end();
    }
  });

  it("transaction pooling is refused, naming the pool mode and the way out", async () => {
    delete process.env[DIRECT_URL_VARIABLE];
    const error = await connectSession(external(transaction.url(db.url)), "LISTEN for promotions").then(
      (client) => client.end().then(() => undefined),
      (caught: unknown) => caught,
    );
    expect(error).toMatchObject({ code: "DATABASE_TRANSACTION_POOLING", exitCode: 2 });
    expect((error as Error).message).toContain("pool_mode = transaction");
    expect((error as Error).message).toContain("LISTEN for promotions needs one session");
    expect((error as { hint: string }).hint).toContain(DIRECT_URL_VARIABLE);
  });

  it("with DATABASE_DIRECT_URL, LISTEN and locks bypass the transaction pooler", async () => {
    process.env[DIRECT_URL_VARIABLE] = db.url;
    const client = await connectSession(external(transaction.url(db.url)), "LISTEN");
    try {
      const seen = await direct.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_stat_activity WHERE pid = $1", [
        (await client.query("SELECT pg_backend_pid() AS pid")).rows[0].pid,
      ]);
      expect(seen.rows[0]!.n).toBe(1);
    } finally {
      await client.end();
      delete process.env[DIRECT_URL_VARIABLE];
    }
  });

  it("mlops run, serve and scheduler exit 2 through transaction pooling, and run works with DATABASE_DIRECT_URL", async () => {
    const through = transaction.url(db.url);
    const refused = await runCli(["run", "noop", "--json"], { cwd: project, env: { DATABASE_URL: through } });
    expect(refused.code, refused.stderr).toBe(2);
    expect(json(refused)).toMatchObject({ error: { code: "DATABASE_TRANSACTION_POOLING", hint: expect.stringContaining("pool_mode = session") } });

    // Were the check missing, serve would keep running and this would time out.
    const served = await runCli(["serve", "--port", "0", "--json"], { cwd: project, env: { DATABASE_URL: through } });
    expect(served.code, served.stderr).toBe(2);
    expect(json(served)).toMatchObject({
      error: { code: "DATABASE_TRANSACTION_POOLING", message: expect.stringContaining("Following promotions (LISTEN) needs one session") },
    });

    const scheduler = await runCli(["scheduler", "--json"], { cwd: project, env: { DATABASE_URL: through } });
    expect(scheduler.code, scheduler.stderr).toBe(2);
    expect(json(scheduler)).toMatchObject({ error: { code: "DATABASE_TRANSACTION_POOLING" } });

    const ran = await runCli(["run", "noop", "--json"], { cwd: project, env: { DATABASE_URL: through, [DIRECT_URL_VARIABLE]: db.url } });
    expect(ran.code, ran.stderr).toBe(0);
    expect(json(ran)).toMatchObject({ pipeline: "noop", status: "succeeded" });

    const viaSession = await runCli(["run", "noop", "--json"], { cwd: project, env: { DATABASE_URL: session.url(db.url) } });
    expect(viaSession.code, viaSession.stderr).toBe(0);
  });
});

describe.runIf(!PGBOUNCER)("behind PgBouncer", () => {
  it.skip("skipped: pgbouncer is not installed (.ci/run installs Debian's pgbouncer)", () => undefined);
});
