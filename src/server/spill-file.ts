import { chmod, mkdir, open } from "node:fs/promises";
import path from "node:path";

/**
 * Appends bytes to a file holding users' prediction inputs and makes them durable: the file
 * 0600 in a 0700 folder (both forced, in case an older release made them wider), the data
 * fsynced before this resolves, and a new file's folder entry fsynced too, so a crash right
 * after loses nothing that was appended.
 */
export async function appendDurably(file: string, data: Buffer): Promise<void> {
  const dir = path.dirname(file);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
  const handle = await open(file, "a", 0o600);
  let created = false;
  try {
    created = (await handle.stat()).size === 0;
    if (created) await handle.chmod(0o600);
    await handle.write(data);
    await handle.datasync();
  } finally {
    await handle.close();
  }
  if (created) {
    const folder = await open(dir, "r");
    try {
      await folder.sync();
    } finally {
      await folder.close();
    }
  }
}
