import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { parseEnv } from "node:util";
import { MlopsError, usageError } from "../errors.js";
import { formatIssues } from "../zod-issues.js";
import { configSchema, type MlopsConfig } from "./schema.js";

export const CONFIG_FILE = "mlops.config.json";

export interface Project {
  /** The folder holding mlops.config.json. */
  root: string;
  configPath: string;
  config: MlopsConfig;
}

/** Finds the project folder: the nearest folder at or above `start` with a config file. */
function findProjectRoot(start: string): string | undefined {
  let dir = path.resolve(start);
  for (;;) {
    if (existsSync(path.join(dir, CONFIG_FILE))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

export function parseConfig(text: string, configPath: string): MlopsConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw usageError(
      "CONFIG_INVALID",
      `${configPath} is not valid JSON: ${(error as Error).message}`,
      "Fix the syntax error (a JSON validator or `node -e \"JSON.parse(require('fs').readFileSync(0))\" < mlops.config.json` shows where).",
    );
  }
  const result = configSchema.safeParse(raw);
  if (!result.success) {
    const problems = formatIssues(result.error.issues);
    throw usageError(
      "CONFIG_INVALID",
      `${configPath} has ${problems.length} problem${problems.length === 1 ? "" : "s"}:\n${problems.map((p) => `  - ${p}`).join("\n")}`,
      "Fix each listed field; README.md (Configuration) describes every key.",
      { problems },
    );
  }
  return result.data;
}

/**
 * Loads `.env` from the project folder into process.env without overriding variables that are
 * already set, so the shell and CI always win over the file.
 */
function loadDotEnv(root: string): void {
  const file = path.join(root, ".env");
  if (!existsSync(file)) return;
  const values = parseEnv(readFileSync(file, "utf8"));
  for (const [key, value] of Object.entries(values)) {
    if (process.env[key] === undefined) process.env[key] = value;
  }
}

/**
 * Opens the project every command works on: reads it (`readProject`) and
 * then loads its `.env` into process.env (`loadDotEnv`), so DATABASE_URL and the like apply.
 */
export function openProject(cwd: string): Project {
  const project = readProject(cwd);
  loadDotEnv(project.root);
  return project;
}

/** Finds and parses the project's config; touches nothing else (process.env included). */
function readProject(cwd: string): Project {
  const root = findProjectRoot(cwd);
  if (root === undefined) {
    throw usageError(
      "PROJECT_NOT_FOUND",
      `No ${CONFIG_FILE} in ${path.resolve(cwd)} or any folder above it.`,
      "Run `mlops init` in the project folder first, or pass --cwd <dir>.",
    );
  }
  const configPath = path.join(root, CONFIG_FILE);
  let text: string;
  try {
    text = readFileSync(configPath, "utf8");
  } catch (error) {
    throw new MlopsError("CONFIG_UNREADABLE", `Cannot read ${configPath}: ${(error as Error).message}`, {
      exitCode: 2,
      hint: "Check the file's permissions.",
    });
  }
  return { root, configPath, config: parseConfig(text, configPath) };
}
