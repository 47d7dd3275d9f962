import { Command } from "commander";
import { TOOLKIT_VERSION } from "../package-root.js";
import type { CommandContext, GlobalOptions } from "./context.js";

/** A command implementation: validated inside, returns an exit code when it is not 0. */
export type CommandRun = (ctx: CommandContext, options: Record<string, unknown>, args: string[]) => Promise<number | void>;

export interface RunState {
  exitCode: number;
}

/**
 * Wraps a lazily imported command so that `mlops --help` never loads Prisma or tfjs: the
 * module is imported only when its command runs.
 */
function lazy(state: RunState, load: () => Promise<CommandRun>) {
  return async (...received: unknown[]): Promise<void> => {
    const command = received.at(-1) as Command;
    const args = command.args;
    const options = command.optsWithGlobals() as Record<string, unknown> & GlobalOptions;
    const [run, { createContext }] = await Promise.all([load(), import("./context.js")]);
    const code = await run(createContext(options), options, args);
    state.exitCode = code ?? 0;
  };
}

export function buildProgram(state: RunState): Command {
  const program = new Command("mlops")
    .description("Take a tabular binary classifier from raw data to a gated, served, monitored model on PostgreSQL.")
    .version(TOOLKIT_VERSION, "-V, --version", "print the toolkit version")
    .option("--json", "print exactly one JSON document on stdout (for scripts and CI)")
    .option("--verbose", "show debug output and stack traces on stderr")
    .option("-C, --cwd <dir>", "run as if mlops was started in <dir>")
    .helpOption("-h, --help", "show help for a command")
    .showSuggestionAfterError(true)
    .configureHelp({ showGlobalOptions: true, sortSubcommands: false })
    .exitOverride()
    .addHelpText(
      "after",
      `
Exit codes: 0 ok, 1 unexpected failure, 2 bad usage/input/config, 3 a gate failed, 4 database unreachable.
Environment: DATABASE_URL (use that PostgreSQL instead of the embedded one), NO_COLOR.
Start here: mlops init`,
    );

  program
    .command("init")
    .description("create or verify the project here: config, models/, database, migrations (idempotent)")
    .action(lazy(state, async () => (await import("../commands/init.js")).runInit));

  const db = program
    .command("db")
    .description("manage the database: the embedded server and the schema")
    .exitOverride();
  db.command("status")
    .description("show the server (running, port, data folder), migrations applied/pending and database size")
    .action(lazy(state, async () => (await import("../commands/db.js")).runDbStatus));
  db.command("start")
    .description("start the embedded PostgreSQL server (no-op when it runs or DATABASE_URL is set)")
    .action(lazy(state, async () => (await import("../commands/db.js")).runDbStart));
  db.command("stop")
    .description("stop the embedded PostgreSQL server (it outlives mlops commands until stopped)")
    .action(lazy(state, async () => (await import("../commands/db.js")).runDbStop));
  db.command("migrate")
    .description("apply pending migrations from prisma/migrations")
    .action(lazy(state, async () => (await import("../commands/db.js")).runDbMigrate));

  return program;
}
