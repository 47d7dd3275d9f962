import { ExitCode, isMlopsError } from "../errors.js";
import { chalkStderr } from "./colors.js";
import { redactSecrets } from "../redact.js";
/**
 * Prints an error the way the user needs it and returns the exit code. Known errors show their
 * message and hint; anything else is a bug, shown with a request to re-run with --verbose.
 */
export function reportError(error, options) {
    const known = isMlopsError(error) ? error : undefined;
    const code = known?.code ?? "UNEXPECTED";
    const message = redactSecrets(known?.message ?? (error instanceof Error ? error.message : String(error)));
    const hint = known?.hint ?? "This is a bug in mlops: re-run with --verbose for the stack trace and report it with that output.";
    const exitCode = known?.exitCode ?? ExitCode.failure;
    if (options.json) {
        const document = { error: { code, message, hint, exitCode, ...(known?.details ? { details: known.details } : {}) } };
        process.stdout.write(`${JSON.stringify(document, null, 2)}\n`);
    }
    process.stderr.write(`${chalkStderr.red("error:")} ${message}\n`);
    process.stderr.write(`${chalkStderr.dim("hint:")} ${redactSecrets(hint)}\n`);
    if (options.verbose) {
        const stack = error instanceof Error ? error.stack : undefined;
        if (stack)
            process.stderr.write(`${chalkStderr.dim(redactSecrets(stack))}\n`);
        const cause = error instanceof Error ? error.cause : undefined;
        if (cause instanceof Error && cause.stack) {
            process.stderr.write(`${chalkStderr.dim(`caused by: ${redactSecrets(cause.stack)}`)}\n`);
        }
    }
    return exitCode;
}
//# sourceMappingURL=report-error.js.map