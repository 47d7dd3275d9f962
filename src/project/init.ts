import { existsSync, readFileSync } from "node:fs";
import { appendFile, mkdir, rm, rmdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { CONFIG_FILE, openProject, type Project } from "../config/load.js";
import { sampleConfig } from "../config/sample.js";
import type { MlopsConfig } from "../config/schema.js";
import { usageError } from "../errors.js";
import { connectPg, resolveDatabase, type DatabaseTarget } from "../db/connection.js";
import { embeddedPaths, embeddedStatus, stopEmbeddedServer } from "../db/embedded.js";
import { applyMigrations, type MigrationStatus } from "../db/migrate.js";
import { MIGRATIONS_DIR } from "../package-root.js";

export type FileAction = "created" | "exists";

export interface InitResult {
  project: string;
  files: Array<{ path: string; action: FileAction }>;
  database: { embedded: boolean; url: string; action: "joined" | "started" | "created" | "external" };
  migrations: { applied: string[]; status: MigrationStatus };
  /** False when everything was already in place and nothing changed. */
  changed: boolean;
}

const ENV_EXAMPLE = `# Copy to .env (never commit .env). Variables already set in the environment win.
#
# Use your own PostgreSQL instead of the embedded one (created under .mlops/ when unset):
# DATABASE_URL=postgresql://mlops:change-me@127.0.0.1:5432/mlops
#
# API key for POST /reload-model (and /predict when serve.requireApiKey is true):
# MLOPS_API_KEY=
`;

const GITIGNORE_ENTRIES = [".mlops/", ".env"];

/** Writes a file only if it does not exist; a concurrent init that won the race is fine. */
async function createOnce(file: string, content: string): Promise<FileAction> {
  try {
    await writeFile(file, content, { flag: "wx" });
    return "created";
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return "exists";
    throw error;
  }
}

async function ensureGitignore(root: string): Promise<FileAction> {
  const file = path.join(root, ".gitignore");
  if (!existsSync(file)) return createOnce(file, `${GITIGNORE_ENTRIES.join("\n")}\n`);
  const lines = new Set(
    readFileSync(file, "utf8")
      .split(/\r?\n/)
      .map((line) => line.trim()),
  );
  const missing = GITIGNORE_ENTRIES.filter((entry) => !lines.has(entry) && !lines.has(entry.replace(/\/$/, "")));
  if (missing.length === 0) return "exists";
  await appendFile(file, `\n${missing.join("\n")}\n`);
  return "created";
}

export interface InitHooks {
  /** Called before slow steps so the command can show progress. */
  onStep?: (step: "database" | "migrations") => void;
  /** The user's own schema (inferred from their data) instead of the sample one. */
  schema?: Pick<MlopsConfig, "features" | "label" | "rowKey" | "ignoredColumns">;
}

/**
 * Creates or verifies the project in `cwd`: config, models folder, .env.example, .gitignore
 * entries, the database (embedded unless DATABASE_URL is set) and its schema. Idempotent.
 */
export async function initProject(cwd: string, hooks: InitHooks = {}): Promise<InitResult> {
  const root = path.resolve(cwd);
  await mkdir(root, { recursive: true });
  const configPath = path.join(root, CONFIG_FILE);
  if (hooks.schema && existsSync(configPath)) {
    throw usageError(
      "CONFIG_EXISTS",
      `${configPath} already exists; init --from would replace its schema.`,
      "Use `mlops schema infer FILE --label COLUMN --write` to replace the schema of an existing project.",
    );
  }
  // A failed init leaves the folder as it found it: a half-made project (a config but no
  // database) would make every later command fail in a more confusing way.
  const undo = await undoLog(root);
  try {
    return await createProject(root, configPath, hooks);
  } catch (error) {
    await undo();
    throw error;
  }
}

/** Remembers what exists now, and returns the function that removes what init added since. */
async function undoLog(root: string): Promise<() => Promise<void>> {
  const gitignore = path.join(root, ".gitignore");
  const before = {
    gitignore: existsSync(gitignore) ? readFileSync(gitignore) : undefined,
    existing: new Set([CONFIG_FILE, ".env.example", ".mlops", "models"].filter((name) => existsSync(path.join(root, name)))),
  };
  return async () => {
    // A server this init started must stop before its files go.
    if (!before.existing.has(".mlops") && embeddedStatus(root).running) await stopEmbeddedServer(root).catch(() => undefined);
    const { dataDirRecord, dataDir } = embeddedPaths(root);
    if (!before.existing.has(".mlops") && dataDirRecord !== undefined) await rm(dataDir, { recursive: true, force: true });
    for (const name of [CONFIG_FILE, ".env.example", ".mlops"]) {
      if (!before.existing.has(name)) await rm(path.join(root, name), { recursive: true, force: true });
    }
    // Only an empty models folder is init's own; a model in it is the user's.
    if (!before.existing.has("models")) await rmdir(path.join(root, "models")).catch(() => undefined);
    if (before.gitignore === undefined) await rm(gitignore, { force: true });
    else await writeFile(gitignore, before.gitignore);
  };
}

async function createProject(root: string, configPath: string, hooks: InitHooks): Promise<InitResult> {
  const files: InitResult["files"] = [];
  const config: MlopsConfig = { ...sampleConfig(), ...(hooks.schema ?? {}) };
  if (hooks.schema && hooks.schema.rowKey === undefined) delete config.rowKey;
  files.push({ path: CONFIG_FILE, action: await createOnce(configPath, `${JSON.stringify(config, null, 2)}\n`) });
  // Validates an existing config before anything else is touched.
  const project: Project = openProject(root);

  const modelsDir = path.join(root, project.config.model.dir);
  const modelsAction: FileAction = existsSync(modelsDir) ? "exists" : "created";
  await mkdir(modelsDir, { recursive: true });
  files.push({ path: `${path.relative(root, modelsDir) || "."}/`, action: modelsAction });
  files.push({ path: ".env.example", action: await createOnce(path.join(root, ".env.example"), ENV_EXAMPLE) });
  files.push({ path: ".gitignore", action: await ensureGitignore(root) });

  hooks.onStep?.("database");
  const target: DatabaseTarget = await resolveDatabase(project);
  hooks.onStep?.("migrations");
  const client = await connectPg(target);
  let migrations: InitResult["migrations"];
  try {
    migrations = await applyMigrations(client, MIGRATIONS_DIR);
  } finally {
    await client.end();
  }
  const databaseAction = target.embedded ? (target.embeddedAction ?? "joined") : "external";
  return {
    project: root,
    files,
    database: { embedded: target.embedded, url: target.display, action: databaseAction },
    migrations,
    changed:
      files.some((file) => file.action === "created") ||
      migrations.applied.length > 0 ||
      databaseAction === "created" ||
      databaseAction === "started",
  };
}
