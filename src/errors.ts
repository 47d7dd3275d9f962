/** Exit codes are part of the CLI's contract (README: "Exit codes"). */
export const ExitCode = {
  ok: 0,
  failure: 1,
  usage: 2,
  gateFailed: 3,
  unavailable: 4,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export interface MlopsErrorOptions {
  /** What the user can do about it, in one sentence. */
  hint?: string;
  exitCode?: ExitCode;
  cause?: unknown;
  /** Structured facts for `--json` consumers (never secrets). */
  details?: Record<string, unknown>;
}

/**
 * The one error type of the toolkit. A stable `code` for scripts, a message that names what
 * failed and why, a hint that says what to do next, and the exit code the CLI ends with.
 */
export class MlopsError extends Error {
  readonly code: string;
  readonly hint: string | undefined;
  readonly exitCode: ExitCode;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: string, message: string, options: MlopsErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "MlopsError";
    this.code = code;
    this.hint = options.hint;
    this.exitCode = options.exitCode ?? ExitCode.failure;
    this.details = options.details;
  }
}

export const usageError = (code: string, message: string, hint?: string, details?: Record<string, unknown>) =>
  new MlopsError(code, message, { hint, exitCode: ExitCode.usage, details });

export const isMlopsError = (value: unknown): value is MlopsError => value instanceof MlopsError;
