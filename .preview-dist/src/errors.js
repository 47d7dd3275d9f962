/** Exit codes are part of the CLI's contract (README: "Exit codes"). */
export const ExitCode = {
    ok: 0,
    failure: 1,
    usage: 2,
    gateFailed: 3,
    unavailable: 4,
};
/**
 * The one error type of the toolkit. A stable `code` for scripts, a message that names what
 * failed and why, a hint that says what to do next, and the exit code the CLI ends with.
 */
export class MlopsError extends Error {
    code;
    hint;
    exitCode;
    details;
    constructor(code, message, options = {}) {
        super(message, options.cause === undefined ? undefined : { cause: options.cause });
        this.name = "MlopsError";
        this.code = code;
        this.hint = options.hint;
        this.exitCode = options.exitCode ?? ExitCode.failure;
        this.details = options.details;
    }
}
export const usageError = (code, message, hint, details) => new MlopsError(code, message, { hint, exitCode: ExitCode.usage, details });
export const isMlopsError = (value) => value instanceof MlopsError;
//# sourceMappingURL=errors.js.map