import type pg from "pg";
import type { Project } from "../config/load.js";
import { MIGRATIONS_DIR } from "../package-root.js";
import { isMlopsError } from "../errors.js";
import { connectionLost, connectPg, isConnectionError, resolveDatabase, type DatabaseTarget } from "./connection.js";
import { applyMigrations, migrationStatus } from "./migrate.js";
import { createPrisma, type PrismaClient } from "./prisma.js";

export interface DatabaseSession {
  target: DatabaseTarget;
  /** node-postgres, for COPY, advisory locks and the queries on hot paths. */
  client: pg.Client;
  /** The Prisma client for row-at-a-time CRUD, created on first use (it takes a few hundred ms). */
  prisma(): Promise<PrismaClient>;
}

async function migrateIfNeeded(client: pg.Client): Promise<void> {
  const status = await migrationStatus(client, MIGRATIONS_DIR);
  if (status.pending.length > 0) await applyMigrations(client, MIGRATIONS_DIR);
}

/** For long-running commands (serve, run) that open their own connections: the database, started and migrated. */
export async function prepareDatabase(project: Project): Promise<DatabaseTarget> {
  const target = await resolveDatabase(project);
  const client = await connectPg(target);
  try {
    await migrateIfNeeded(client);
  } finally {
    await client.end().catch(() => undefined);
  }
  return target;
}

/**
 * Connects a command to the project's database: starts the embedded server when needed and
 * applies pending migrations (a newer mlops may bring some), so no command ever meets an old
 * schema. Both clients are closed when `fn` settles.
 */
export async function withDatabase<T>(project: Project, fn: (session: DatabaseSession) => Promise<T>): Promise<T> {
  const target = await resolveDatabase(project);
  const client = await connectPg(target);
  let prisma: Promise<PrismaClient> | undefined;
  try {
    await migrateIfNeeded(client);
    return await fn({ target, client, prisma: () => (prisma ??= createPrisma(target)) });
  } catch (error) {
    // The server went away mid-command (killed, restarted, network): the environment's fault,
    // exit 4, not an unexpected failure of mlops.
    if (!isMlopsError(error) && isConnectionError(error)) throw connectionLost(target.display, error);
    throw error;
  } finally {
    await client.end().catch(() => undefined);
    if (prisma) await (await prisma).$disconnect().catch(() => undefined);
  }
}
