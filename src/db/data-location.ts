import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { chmod, mkdir, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { ExitCode, MlopsError } from "../errors.js";
import { runPgProgram, type RunAs } from "./pg-process.js";
import { sharedDir } from "./shared-dir.js";

export { sharedDir } from "./shared-dir.js";

/**
 * Where the embedded server's data lives. Normally `.mlops/pgdata` inside the project. When root
 * runs mlops, PostgreSQL runs as an unprivileged user; a project under a folder that user cannot
 * enter (root's home is 0700, the usual place in a container) cannot hold the data, so it is kept
 * under a shared folder instead, in a folder owned by that user, and the place is recorded in
 * `.mlops/data-dir` so every later command (start, stop, status, backup) finds it.
 */
export const DATA_DIR_RECORD = "data-dir";

/** The recorded data folder, when the data lives outside the project. */
export function recordedDataDir(stateDir: string): string | undefined {
  try {
    const recorded = readFileSync(path.join(stateDir, DATA_DIR_RECORD), "utf8").trim();
    return path.isAbsolute(recorded) ? recorded : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The first of `dirs` (in order) that the server's user cannot pass through, checked by that user
 * itself (group memberships and ACLs count as the kernel counts them), or undefined.
 */
export async function firstBlockedFolder(dirs: string[], runAs: RunAs): Promise<string | undefined> {
  if (runAs.uid === undefined || dirs.length === 0) return undefined;
  const script = 'for d in "$@"; do test -x "$d" || { printf "%s" "$d"; exit 1; }; done';
  const result = await runPgProgram("/bin/sh", ["-c", script, "sh", ...dirs], runAs);
  return result.code === 0 ? undefined : result.output.trim() || dirs[0];
}

/** Every folder from the file system root down to `dir`, inclusive. */
export function foldersDownTo(dir: string): string[] {
  const folders: string[] = [];
  for (let current = path.resolve(dir); ; current = path.dirname(current)) {
    folders.unshift(current);
    if (path.dirname(current) === current) return folders;
  }
}

export interface PlacedDataDir {
  dataDir: string;
  /** Set when the data is kept outside the project: the folder that kept it out. */
  blockedBy?: string;
}

/**
 * Chooses where a new cluster goes. Inside the project when the server's user can reach
 * `.mlops/`; otherwise a fresh folder under the shared folder, recorded before initdb runs so a
 * killed init is retried in the same place instead of leaving an orphan behind.
 */
export async function placeDataDir(root: string, stateDir: string, runAs: RunAs): Promise<PlacedDataDir> {
  const inside = path.join(stateDir, "pgdata");
  const blockedBy = await firstBlockedFolder(foldersDownTo(stateDir), runAs);
  if (blockedBy === undefined) return { dataDir: inside };
  const base = sharedDir();
  const made = await mkdir(base, { recursive: true, mode: 0o755 });
  await chmod(base, 0o755);
  const sharedBlock = await firstBlockedFolder(foldersDownTo(base), runAs);
  if (sharedBlock !== undefined) {
    if (made !== undefined) await rm(made, { recursive: true, force: true });
    throw new MlopsError(
      "EMBEDDED_NO_PLACE",
      `The embedded database's user "${runAs.user}" cannot enter ${blockedBy} (where the project is) nor ${sharedBlock} (where mlops keeps data it cannot reach).`,
      {
        exitCode: ExitCode.unavailable,
        hint: `Let it pass through one of them (chmod o+x ${sharedBlock}), set MLOPS_SHARED_DIR to a folder every user can enter, run mlops as a normal user, or set DATABASE_URL.`,
      },
    );
  }
  const name = `${path.basename(root).replace(/[^A-Za-z0-9._-]/g, "_") || "project"}-${randomBytes(4).toString("hex")}`;
  const dataDir = path.join(base, name);
  await writeFile(path.join(stateDir, DATA_DIR_RECORD), `${dataDir}\n`, { mode: 0o600 });
  return { dataDir, blockedBy };
}

/** Undoes placeDataDir after a failed initdb: no orphan folder, no record of it. */
export async function forgetDataDir(stateDir: string, dataDir: string): Promise<void> {
  await rm(dataDir, { recursive: true, force: true });
  if (recordedDataDir(stateDir) === dataDir) await rm(path.join(stateDir, DATA_DIR_RECORD), { force: true });
}
