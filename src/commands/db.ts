import type { CommandContext } from "./context.js";
import { chalk } from "../terminal/output.js";
import { formatBytes } from "../terminal/format.js";
import { openProject } from "../config/load.js";
import { connectPg, resolveDatabase } from "../db/connection.js";
import { stopEmbeddedServer } from "../db/embedded.js";
import { applyMigrations } from "../db/migrate.js";
import { databaseStatus, type DatabaseStatus } from "../db/status.js";
import { ExitCode } from "../errors.js";
import { MIGRATIONS_DIR } from "../package-root.js";

export async function runDbStatus(ctx: CommandContext): Promise<number> {
  const project = openProject(ctx.cwd);
  const status = await databaseStatus(project);
  ctx.out.result(status, () => renderStatus(status));
  return status.mode === "external" && !status.reachable ? ExitCode.unavailable : ExitCode.ok;
}

function renderStatus(status: DatabaseStatus): string {
  const yes = (ok: boolean, text: string) => (ok ? chalk.green(text) : chalk.red(text));
  const lines: string[] = [];
  if (status.mode === "embedded") {
    lines.push(`server      embedded PostgreSQL, ${yes(status.server.running, status.server.running ? "running" : "not running")}`);
    if (status.server.running) lines.push(`pid         ${status.server.pid}`, `port        ${status.server.port}`);
    const outside = status.server.dataDirRecord ? chalk.dim(` (outside the project, recorded in ${status.server.dataDirRecord})`) : "";
    lines.push(`data        ${status.server.dataDir}${outside}`, `log         ${status.server.logFile}`);
  } else {
    lines.push(`server      DATABASE_URL, ${yes(status.reachable, status.reachable ? "reachable" : "unreachable")}`);
  }
  if (status.url) lines.push(`url         ${status.url}`);
  if (status.error) lines.push(`error       ${chalk.red(status.error)}`);
  if (status.migrations) {
    const m = status.migrations;
    lines.push(
      `migrations  ${m.applied.length} applied, ${m.pending.length === 0 ? "none pending" : chalk.yellow(`${m.pending.length} pending: ${m.pending.join(", ")}`)}`,
    );
    if (m.edited.length > 0) lines.push(`            ${chalk.yellow(`edited since applied: ${m.edited.join(", ")}`)}`);
    if (m.failed.length > 0) lines.push(`            ${chalk.red(`failed: ${m.failed.join(", ")}`)}`);
  }
  if (status.sizeBytes !== null) lines.push(`size        ${formatBytes(status.sizeBytes)}`);
  if (status.mode === "embedded" && !status.server.running)
    lines.push("", chalk.dim("Start it with `mlops db start` (any command that needs it starts it too)."));
  return lines.join("\n");
}

export async function runDbStart(ctx: CommandContext): Promise<number> {
  const project = openProject(ctx.cwd);
  const target = await ctx.out.withSpinner("Starting the database", async () => {
    const resolved = await resolveDatabase(project);
    // Proves the server accepts connections, for DATABASE_URL as much as for the embedded one.
    await (await connectPg(resolved)).end();
    return resolved;
  });
  const action = target.embedded ? (target.embeddedAction ?? "joined") : "external";
  const result = { embedded: target.embedded, url: target.display, action };
  const words = {
    created: "created and started",
    started: "started",
    joined: "already running",
    external: "DATABASE_URL is set and reachable; nothing to start",
  };
  ctx.out.result(result, () => `${target.embedded ? "Embedded PostgreSQL " : ""}${words[action]} ${chalk.dim(target.display)}`);
  return 0;
}

export async function runDbStop(ctx: CommandContext): Promise<number> {
  const project = openProject(ctx.cwd);
  if (process.env.DATABASE_URL?.trim()) {
    const result = { embedded: false, stopped: false, reason: "DATABASE_URL is set: mlops does not manage that server" };
    ctx.out.result(result, () => "DATABASE_URL is set: mlops does not manage that server; nothing stopped.");
    return 0;
  }
  const { wasRunning } = await stopEmbeddedServer(project.root);
  const result = { embedded: true, stopped: wasRunning };
  ctx.out.result(result, () => (wasRunning ? "Embedded PostgreSQL stopped." : "Embedded PostgreSQL was not running."));
  return 0;
}

export async function runDbMigrate(ctx: CommandContext): Promise<number> {
  const project = openProject(ctx.cwd);
  const target = await resolveDatabase(project);
  const client = await connectPg(target);
  try {
    const { applied, status } = await applyMigrations(client, MIGRATIONS_DIR);
    const result = { url: target.display, applied, status };
    ctx.out.result(result, () =>
      applied.length > 0
        ? `Applied ${applied.length} migration${applied.length === 1 ? "" : "s"}: ${applied.join(", ")}`
        : `Schema up to date (${status.applied.length} migrations applied).`,
    );
    return 0;
  } finally {
    await client.end();
  }
}
