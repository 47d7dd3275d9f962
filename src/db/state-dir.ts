import { chmod, mkdir } from "node:fs/promises";
import path from "node:path";

/**
 * The project's `.mlops/` folder holds credentials, backups of every example and the prediction
 * spill (features as users sent them): nobody but its owner may list or read it.
 *
 * One exception: when root runs mlops, PostgreSQL runs as an unprivileged user and, if the data
 * folder stays inside `.mlops/`, that user must be able to pass through it. Then `.mlops/` is
 * 0711: others may traverse it to a path they already know, never list it, and every file in it
 * is 0600 and every folder 0700 anyway.
 */
const STATE_DIR_MODE = 0o700;
const STATE_DIR_MODE_SHARED = 0o711;

export function stateDirOf(root: string): string {
  return path.join(root, ".mlops");
}

/** Creates a folder (and missing parents) for the owner alone; an existing one is tightened. */
export async function ensurePrivateDir(dir: string, mode = STATE_DIR_MODE): Promise<string> {
  await mkdir(dir, { recursive: true, mode });
  // mkdir's mode passes through the umask and leaves existing folders as they were.
  await chmod(dir, mode);
  return dir;
}

/** `.mlops/` itself; `traversable` when the embedded server's own user must reach its data inside. */
export async function ensureStateDir(root: string, traversable = false): Promise<string> {
  return ensurePrivateDir(stateDirOf(root), traversable ? STATE_DIR_MODE_SHARED : STATE_DIR_MODE);
}
