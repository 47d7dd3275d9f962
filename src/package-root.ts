import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The folder of the mlops package itself (not the user's project): the nearest folder above this
 * module whose package.json is named "mlops". Works from src/ under vitest and from dist/src/.
 */
export const PACKAGE_ROOT: string = (() => {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = path.join(dir, "package.json");
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, "utf8")) as { name?: string }).name === "mlops") return dir;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error("mlops package.json not found above the installed files");
    dir = parent;
  }
})();

export const TOOLKIT_VERSION: string = (JSON.parse(readFileSync(path.join(PACKAGE_ROOT, "package.json"), "utf8")) as { version: string }).version;

export const MIGRATIONS_DIR = path.join(PACKAGE_ROOT, "prisma", "migrations");
