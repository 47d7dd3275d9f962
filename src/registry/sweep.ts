import { existsSync, readdirSync } from "node:fs";
import { readFile, rename, rm } from "node:fs/promises";
import path from "node:path";
import type pg from "pg";

const PARTIAL = /^\.(v\d+)\.partial-(\d+)$/;
const VERSION = /^v\d+$/;

/**
 * Cleans up after trainings that were killed, so the models folder holds only versions the
 * registry knows:
 * - a hidden `.vN.partial-PID` folder of a process that is gone: when vN is registered, its
 *   folder is missing and the hidden one holds the registered files (killed between registration
 *   and rename), it is renamed into place; otherwise it is removed;
 * The folder is listed before the registry is read: a version another training registers and
 * renames meanwhile is then in the registry already, so it is never mistaken for a leftover.
 * A complete `vN` folder the registry does not know is left alone: it may hold another
 * database's models (DATABASE_URL changed) or versions newer than a restored backup, and
 * `unknownVersionFolders` refuses a training that would write over it.
 */
export async function sweepModelFolders(client: pg.ClientBase, root: string, modelsDir: string): Promise<{ removed: string[]; recovered: string[] }> {
  const swept = { removed: [] as string[], recovered: [] as string[] };
  if (!existsSync(modelsDir)) return swept;
  const entries = readdirSync(modelsDir);
  const { rows } = await client.query<{ version: string; path: string; files: Record<string, string> | null }>(
    "SELECT version, path, manifest -> 'files' AS files FROM model_versions",
  );
  const registered = new Map(rows.map((r) => [r.version, r]));
  for (const name of entries) {
    const full = path.join(modelsDir, name);
    const partial = PARTIAL.exec(name);
    if (partial) {
      const [, version, pid] = partial;
      if (Number(pid) !== process.pid && isAlive(Number(pid))) continue;
      const row = registered.get(version!);
      const target = row ? path.resolve(root, row.path) : null;
      if (row && target && !existsSync(target) && (await holdsFiles(full, row.files))) {
        await rename(full, target);
        swept.recovered.push(version!);
      } else {
        await rm(full, { recursive: true, force: true });
        swept.removed.push(name);
      }
    }
  }
  return swept;
}

/**
 * Complete `vN` folders the registry does not know whose names its next versions would take:
 * training would otherwise register vN and then fail to rename its files over the folder.
 */
export async function unknownVersionFolders(client: pg.ClientBase, modelsDir: string): Promise<string[]> {
  if (!existsSync(modelsDir)) return [];
  const { rows } = await client.query<{ next: string; versions: string[] | null }>(
    `SELECT coalesce(pg_sequence_last_value(pg_get_serial_sequence('model_versions', 'id')::regclass), 0) + 1 AS next,
            (SELECT array_agg(version) FROM model_versions) AS versions`,
  );
  const next = Number(rows[0]!.next);
  const registered = new Set(rows[0]!.versions ?? []);
  return readdirSync(modelsDir)
    .filter((name) => VERSION.test(name) && !registered.has(name) && Number(name.slice(1)) >= next)
    .filter((name) => existsSync(path.join(modelsDir, name, "manifest.json")))
    .sort((a, b) => Number(a.slice(1)) - Number(b.slice(1)));
}

/** Whether a hidden folder's manifest names the same file checksums as the registry. */
async function holdsFiles(dir: string, files: Record<string, string> | null): Promise<boolean> {
  try {
    const manifest = JSON.parse(await readFile(path.join(dir, "manifest.json"), "utf8")) as { files?: Record<string, string> };
    return (
      files !== null &&
      JSON.stringify(manifest.files) === JSON.stringify(Object.fromEntries(Object.keys(manifest.files ?? {}).map((k) => [k, files[k]])))
    );
  } catch {
    return false;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
