import { randomBytes } from "node:crypto";
import { statSync } from "node:fs";
import { rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";

/**
 * Whether an output path names something other than a regular file: a device (/dev/null,
 * /dev/stdout) or a pipe (`--out >(gzip > x)`). Such a target is written in place: the usual
 * temporary file renamed over it would replace the device itself (as root, `--out /dev/null`
 * turned /dev/null into a regular 0600 file, and every later `> /dev/null` on the machine failed).
 */
export function isSpecialFile(target: string): boolean {
  try {
    return !statSync(target).isFile();
  } catch {
    return false;
  }
}

/**
 * Writes the file through a temporary sibling and a rename, so a reader (a browser reloading a
 * report, a CI upload, the next command reading the config) never sees half of it, and a crash
 * leaves the old file whole. 0600 unless told: what we write quotes user data. A device or a pipe is
 * written in place. Returns the bytes written.
 */
export async function writeFileAtomically(file: string, content: string, mode = 0o600): Promise<number> {
  if (isSpecialFile(file)) {
    await writeFile(file, content);
    return Buffer.byteLength(content);
  }
  const temporary = path.join(path.dirname(file), `.${path.basename(file)}.${randomBytes(4).toString("hex")}.tmp`);
  try {
    await writeFile(temporary, content, { mode });
    await rename(temporary, file);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
  return Buffer.byteLength(content);
}
