import { CommanderError } from "commander";
import { ExitCode } from "../errors.js";
import { buildProgram, type CliOutcome } from "./program.js";
import { reportError } from "./report-error.js";

/** Runs the CLI and returns its exit code; bin/mlops.ts is the only place that exits. */
export async function main(argv: string[]): Promise<number> {
  const outcome: CliOutcome = { exitCode: ExitCode.ok };
  const program = buildProgram(outcome);
  const json = argv.includes("--json");
  const verbose = argv.includes("--verbose");
  try {
    await program.parseAsync(argv);
    return outcome.exitCode;
  } catch (error) {
    if (error instanceof CommanderError) return commanderExitCode(error, json);
    return reportError(error, { json, verbose });
  }
}

/**
 * Commander has already printed its message (unknown command or option, missing argument).
 * Help and version end with 0; everything else, including a bare `mlops`, is a usage error.
 */
function commanderExitCode(error: CommanderError, json: boolean): number {
  if (error.exitCode === 0) return ExitCode.ok;
  // Under --json commander's own one-line message is the whole of stderr (issue 14, point 15).
  if (!json) process.stderr.write("hint: run `mlops --help` (or `mlops <command> --help`) for the commands and options.\n");
  if (json) {
    const message = error.message.replace(/^error: /, "");
    process.stdout.write(`${JSON.stringify({ error: { code: "USAGE", message, exitCode: ExitCode.usage } }, null, 2)}\n`);
  }
  return ExitCode.usage;
}
