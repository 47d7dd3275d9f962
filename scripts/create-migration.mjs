// Writes the next migration for prisma/schema.prisma without `prisma migrate dev`, which would
// need a downloaded native engine. Usage: npm run migration:create -- <name>
//
// Like `migrate dev --create-only`, the new migration is the difference between what the existing
// migrations produce and what the schema describes. To get the former we replay the migrations into
// a throwaway database with mlops's own applier (the code users run), let Prisma's schema engine
// (wasm, see schema-engine.mjs) introspect it, and diff that against the schema.
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import pg from "pg";
import { LOCKFILE_CONTENT, LOCKFILE_NAME, SCHEMA_FILTERS, withSchemaEngine } from "./schema-engine.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
// The same paths prisma.config.ts declares.
const schemaPath = path.join(root, "prisma", "schema.prisma");
const migrationsDir = path.join(root, "prisma", "migrations");
const applierPath = path.join(root, "dist", "src", "db", "migrate.js");

class UsageError extends Error {}

let interrupted = false;

/** Migration folder names end up in _prisma_migrations.migration_name (VARCHAR(255)). */
function sanitizeName(raw) {
  return (raw ?? "")
    .toLowerCase()
    .replace(/[^a-z0-9_]+/g, "_")
    .replace(/^_+|_+$/g, "")
    .slice(0, 200);
}

/** UTC YYYYMMDDHHMMSS, the prefix Prisma gives migration folders. */
const timestamp = (date = new Date()) => date.toISOString().replace(/[-:T]/g, "").slice(0, 14);

/** Connection string for another database on the same server (keeps user, host, port and options). */
function urlForDatabase(databaseUrl, database) {
  const url = new URL(databaseUrl);
  url.pathname = `/${encodeURIComponent(database)}`;
  return url.toString();
}

/** Replays the existing migrations with mlops's applier, so the diff starts from what users really get. */
async function applyExistingMigrations(scratchUrl) {
  const { applyMigrations } = await import(pathToFileURL(applierPath).href);
  const client = new pg.Client({ connectionString: scratchUrl });
  // Dropping the scratch database on Ctrl-C kills this connection; that must not crash the cleanup.
  client.on("error", () => {});
  await client.connect();
  try {
    return (await applyMigrations(client, migrationsDir)).applied;
  } finally {
    await client.end();
  }
}

async function diffToSchema(scratchUrl, schema) {
  const files = [{ path: schemaPath, content: schema }];
  const { stdout } = await withSchemaEngine(scratchUrl, (engine) =>
    engine.diff({
      // schemaDatasource introspects the database the adapter is connected to: the scratch one.
      // Starting from a real (empty) public schema, not {tag: 'empty'}, is also what keeps
      // `CREATE SCHEMA IF NOT EXISTS "public"` out of the first migration.
      from: { tag: "schemaDatasource", files, configDir: root },
      to: { tag: "schemaDatamodel", files },
      script: true,
      exitCode: null,
      filters: SCHEMA_FILTERS,
    }),
  );
  // With nothing to do the engine still prints a comment saying so.
  const trimmed = stdout.trim();
  return trimmed === "" || trimmed === "-- This is an empty migration." ? "" : stdout;
}

async function writeMigration(name, sql) {
  const folder = `${timestamp()}_${name}`;
  const folderPath = path.join(migrationsDir, folder);
  if (existsSync(folderPath)) throw new UsageError(`${path.relative(root, folderPath)} already exists; wait a second and retry.`);
  await mkdir(folderPath, { recursive: true });
  await writeFile(path.join(folderPath, "migration.sql"), sql, "utf8");
  await writeFile(path.join(migrationsDir, LOCKFILE_NAME), LOCKFILE_CONTENT, "utf8");
  return [path.join(folderPath, "migration.sql"), path.join(migrationsDir, LOCKFILE_NAME)].map((p) => path.relative(root, p));
}

async function main() {
  const name = sanitizeName(process.argv[2]);
  if (!name) throw new UsageError("Usage: npm run migration:create -- <name>   (e.g. add_model_owner)");

  const databaseUrl = process.env.DATABASE_URL;
  if (!databaseUrl) {
    throw new UsageError(
      "DATABASE_URL is not set. Point it at any PostgreSQL server where you may create databases; a scratch\n" +
        "database is created there and dropped again. On these machines:\n" +
        "  DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres npm run migration:create -- <name>",
    );
  }
  if (!existsSync(applierPath)) {
    throw new UsageError(
      `${path.relative(root, applierPath)} is missing: run \`npm run build\` first (the migrations are replayed with mlops's own applier).`,
    );
  }
  const schema = await readFile(schemaPath, "utf8");

  const scratch = `mlops_migration_${randomBytes(6).toString("hex")}`;
  const admin = new pg.Client({ connectionString: databaseUrl });
  await admin.connect();
  let created = false;
  let dropping;
  // Memoized: Ctrl-C and the normal cleanup path must wait for the same DROP, not race two.
  const dropScratch = () => {
    if (!created) return Promise.resolve();
    // FORCE (PG 13+): ends any connection still on it, e.g. the applier's or the engine's.
    dropping ??= admin.query(`DROP DATABASE IF EXISTS "${scratch}" WITH (FORCE)`);
    return dropping;
  };
  // Ctrl-C must not strand the scratch database. Dropping it also aborts whatever query is running,
  // so the main path fails, runs its own cleanup (awaiting this same drop) and exits 130 below.
  const onSignal = () => {
    interrupted = true;
    dropScratch().catch(() => {});
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    await admin.query(`CREATE DATABASE "${scratch}"`);
    created = true;
    if (interrupted) throw new Error("interrupted");
    const scratchUrl = urlForDatabase(databaseUrl, scratch);
    const replayed = await applyExistingMigrations(scratchUrl);
    const sql = await diffToSchema(scratchUrl, schema);
    if (interrupted) throw new Error("interrupted");
    if (!sql) {
      console.log(`No schema changes: the ${replayed.length} existing migration(s) already match prisma/schema.prisma. Nothing written.`);
      return;
    }
    for (const file of await writeMigration(name, sql)) console.log(`Wrote ${file}`);
    console.log("Review the SQL, then commit it with the schema change.");
  } finally {
    try {
      await dropScratch();
    } finally {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
      await admin.end();
    }
  }
}

main().catch((error) => {
  if (interrupted) {
    console.error("Interrupted; the scratch database was dropped and nothing was written.");
    process.exit(130);
  }
  if (error instanceof UsageError) {
    console.error(error.message);
    process.exit(2);
  }
  // mlops errors carry a hint; the engine's errors carry a Rust backtrace after the first line.
  console.error(`migration:create failed: ${error?.message ?? error}`);
  if (error?.hint) console.error(error.hint);
  if (process.env.DEBUG) console.error(error);
  process.exit(1);
});
