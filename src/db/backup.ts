/**
 * Logical backups (see backup/manifest.ts for why not pg_dump), split by job: the folder and its
 * manifest, writing one, restoring one, and proving one restores. Callers import from here.
 */
export { listBackups, openBackup, pruneBackups, type Backup, type BackupManifest, type BackupTable } from "./backup/manifest.js";
export { createBackup } from "./backup/dump.js";
export { assertEmptyTarget, restoreBackup, type RestoreOutcome, type TableRestore } from "./backup/restore.js";
export { checkBackupFiles, verifyBackup, withScratchDatabase, type FileCheck, type Verification } from "./backup/verify.js";
