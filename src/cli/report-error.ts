import { ExitCode, isMlopsError, type MlopsError } from "../errors.js";
import { chalkStderr } from "../terminal/colors.js";
import { redactSecrets } from "../redact.js";

interface ReportOptions {
  json: boolean;
  verbose: boolean;
}

/**
 * Prints an error the way the user needs it and returns the exit code. Known errors show their
 * message and hint; anything else is a bug, shown with a request to re-run with --verbose.
 */
export function reportError(error: unknown, options: ReportOptions): ExitCode {
  const known: MlopsError | undefined = isMlopsError(error) ? error : undefined;
  const code = known?.code ?? "UNEXPECTED";
  const message = redactSecrets(known?.message ?? (error instanceof Error ? error.message : String(error)));
  const hint = known?.hint ?? "This is a bug in mlops: re-run with --verbose for the stack trace and report it with that output.";
  const exitCode = known?.exitCode ?? ExitCode.failure;

  if (options.json) {
    const document = { error: { code, message, hint, exitCode, ...(known?.details ? { details: known.details } : {}) } };
    process.stdout.write(`${JSON.stringify(document, null, 2)}\n`);
    // A script reading stderr line by line gets one line; the message in full, the hint and the
    // details are in the document on stdout.
    const firstLine = message.split("\n", 1)[0] ?? "";
    const more = firstLine === message ? "" : " …";
    process.stderr.write(`error: ${firstLine}${more} (${code}; details in the JSON document on stdout)\n`);
    if (options.verbose) writeStack(error);
    return exitCode;
  }
  process.stderr.write(`${chalkStderr.red("error:")} ${message}\n`);
  process.stderr.write(`${chalkStderr.dim("hint:")} ${redactSecrets(hint)}\n`);
  if (options.verbose) writeStack(error);
  return exitCode;
}

/** --verbose: the stack trace and its cause's. */
function writeStack(error: unknown): void {
  const stack = error instanceof Error ? error.stack : undefined;
  if (stack) process.stderr.write(`${chalkStderr.dim(redactSecrets(stack))}\n`);
  const cause = error instanceof Error ? error.cause : undefined;
  if (cause instanceof Error && cause.stack) {
    process.stderr.write(`${chalkStderr.dim(`caused by: ${redactSecrets(cause.stack)}`)}\n`);
  }
}
