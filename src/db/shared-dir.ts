import path from "node:path";

/** The shared folder: MLOPS_SHARED_DIR, else the system's state folder. */
export function sharedDir(): string {
  const configured = process.env.MLOPS_SHARED_DIR?.trim();
  return configured ? path.resolve(configured) : "/var/lib/mlops";
}
