import type { CommandSpec } from "../spec.js";

export const dbCommand: CommandSpec = {
  name: "db",
  description: "manage the database: the embedded server and the schema",
  subcommands: [
    {
      name: "status",
      description: "show the server (running, port, data folder), migrations applied/pending and database size",
      run: async () => (await import("../db.js")).runDbStatus,
    },
    {
      name: "start",
      description: "start the embedded PostgreSQL server (no-op when it runs or DATABASE_URL is set)",
      run: async () => (await import("../db.js")).runDbStart,
    },
    {
      name: "stop",
      description: "stop the embedded PostgreSQL server (it outlives mlops commands until stopped)",
      run: async () => (await import("../db.js")).runDbStop,
    },
    {
      name: "backup",
      description: "write a consistent logical backup of every mlops table to .mlops/backups/ (gzipped COPY files + manifest)",
      options: [
        { flags: "--dir <dir>", description: "where backups go (default .mlops/backups)" },
        { flags: "--keep <n>", description: "keep only the newest n backups", default: "14" },
      ],
      run: async () => (await import("../backup.js")).runDbBackup,
    },
    {
      name: "restore",
      description:
        "restore a backup: --verify restores into a scratch database and compares row counts; --target-url restores into an empty database",
      arguments: [{ name: "[backup]", description: "a backup folder (default: the newest)" }],
      options: [
        { flags: "--verify", description: "restore into a scratch database, compare row counts and checksums, drop it" },
        { flags: "--target-url <url>", description: "restore into this (empty) PostgreSQL database" },
        { flags: "--dir <dir>", description: "where backups are (default .mlops/backups)" },
      ],
      run: async () => (await import("../backup.js")).runDbRestore,
    },
    {
      name: "migrate",
      description: "apply pending migrations from prisma/migrations",
      run: async () => (await import("../db.js")).runDbMigrate,
    },
  ],
};
