import { existsSync, readFileSync } from "node:fs";
import { appendFile, mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { CONFIG_FILE, loadProject } from "../config/load.js";
import { sampleConfig } from "../config/sample.js";
import { usageError } from "../errors.js";
import { connectPg, resolveDatabase } from "../db/connection.js";
import { applyMigrations } from "../db/migrate.js";
import { MIGRATIONS_DIR } from "../package-root.js";
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
async function createOnce(file, content) {
    try {
        await writeFile(file, content, { flag: "wx" });
        return "created";
    }
    catch (error) {
        if (error.code === "EEXIST")
            return "exists";
        throw error;
    }
}
async function ensureGitignore(root) {
    const file = path.join(root, ".gitignore");
    if (!existsSync(file))
        return createOnce(file, `${GITIGNORE_ENTRIES.join("\n")}\n`);
    const lines = new Set(readFileSync(file, "utf8").split(/\r?\n/).map((line) => line.trim()));
    const missing = GITIGNORE_ENTRIES.filter((entry) => !lines.has(entry) && !lines.has(entry.replace(/\/$/, "")));
    if (missing.length === 0)
        return "exists";
    await appendFile(file, `\n${missing.join("\n")}\n`);
    return "created";
}
/**
 * Creates or verifies the project in `cwd`: config, models folder, .env.example, .gitignore
 * entries, the database (embedded unless DATABASE_URL is set) and its schema. Idempotent.
 */
export async function initProject(cwd, hooks = {}) {
    const root = path.resolve(cwd);
    await mkdir(root, { recursive: true });
    const files = [];
    const configPath = path.join(root, CONFIG_FILE);
    if (hooks.schema && existsSync(configPath)) {
        throw usageError("CONFIG_EXISTS", `${configPath} already exists; init --from would replace its schema.`, "Use `mlops schema infer FILE --label COLUMN --write` to replace the schema of an existing project.");
    }
    const config = { ...sampleConfig(), ...(hooks.schema ?? {}) };
    if (hooks.schema && hooks.schema.rowKey === undefined)
        delete config.rowKey;
    files.push({ path: CONFIG_FILE, action: await createOnce(configPath, `${JSON.stringify(config, null, 2)}\n`) });
    // Validates an existing config before anything else is touched.
    const project = loadProject(root);
    const modelsDir = path.join(root, project.config.model.dir);
    const modelsAction = existsSync(modelsDir) ? "exists" : "created";
    await mkdir(modelsDir, { recursive: true });
    files.push({ path: `${path.relative(root, modelsDir) || "."}/`, action: modelsAction });
    files.push({ path: ".env.example", action: await createOnce(path.join(root, ".env.example"), ENV_EXAMPLE) });
    files.push({ path: ".gitignore", action: await ensureGitignore(root) });
    hooks.onStep?.("database");
    const target = await resolveDatabase(project);
    hooks.onStep?.("migrations");
    const client = await connectPg(target);
    let migrations;
    try {
        migrations = await applyMigrations(client, MIGRATIONS_DIR);
    }
    finally {
        await client.end();
    }
    const databaseAction = target.embedded ? (target.embeddedAction ?? "joined") : "external";
    return {
        project: root,
        files,
        database: { embedded: target.embedded, url: target.display, action: databaseAction },
        migrations,
        changed: files.some((file) => file.action === "created") ||
            migrations.applied.length > 0 ||
            databaseAction === "created" ||
            databaseAction === "started",
    };
}
//# sourceMappingURL=init.js.map