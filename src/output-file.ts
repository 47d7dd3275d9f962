import { statSync } from "node:fs";

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
