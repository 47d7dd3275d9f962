import { Command, Option } from "commander";
import type { CommandContext, GlobalOptions } from "../commands/context.js";
import { COMMANDS } from "../commands/declarations/index.js";
import { type CommandSpec, invokeCommand } from "../commands/spec.js";
import { TOOLKIT_VERSION } from "../package-root.js";

/** What main() reads back after commander ran a command. */
export interface CliOutcome {
  exitCode: number;
}

/**
 * Builds the program from the commands' declarations (src/commands/declarations/). A command's
 * body, with its zod schema, Prisma and tfjs, is imported only when that command runs, so
 * `mlops --help` and `mlops <command> --help` load commander and the declarations alone.
 */
export function buildProgram(outcome: CliOutcome): Command {
  const program = new Command("mlops")
    .description("Take a tabular binary classifier from raw data to a gated, served, monitored model on PostgreSQL.")
    .version(TOOLKIT_VERSION, "-V, --version", "print the toolkit version")
    .option("--json", "print exactly one JSON document on stdout (for scripts and CI)")
    .option("--verbose", "show stack traces of errors on stderr")
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
  for (const spec of COMMANDS) register(program, spec, outcome);
  return program;
}

/** Adds one declared command (and its subcommands) to `parent`; settings such as exitOverride are inherited. */
function register(parent: Command, spec: CommandSpec, outcome: CliOutcome): void {
  const command = parent.command(spec.name).description(spec.description);
  for (const argument of spec.arguments ?? []) command.argument(argument.name, argument.description, argument.default);
  for (const option of spec.options ?? []) {
    const declared = new Option(option.flags, option.description);
    if (option.default !== undefined) declared.default(option.default);
    if (option.required) declared.makeOptionMandatory();
    command.addOption(declared);
  }
  if (spec.run) command.action(action(spec, outcome));
  for (const sub of spec.subcommands ?? []) register(command, sub, outcome);
}

function action(spec: CommandSpec, outcome: CliOutcome) {
  return async (...received: unknown[]): Promise<void> => {
    const command = received.at(-1) as Command;
    const options = command.optsWithGlobals() as Record<string, unknown> & GlobalOptions;
    const { createContext } = await import("../commands/context.js");
    const ctx: CommandContext = createContext(options);
    outcome.exitCode = await invokeCommand(spec, ctx, options, command.args);
  };
}
