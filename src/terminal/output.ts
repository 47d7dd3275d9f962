import { chalk, chalkStderr } from "./colors.js";
import { createSpinner, type Spinner } from "./spinner.js";

export { chalk, chalkStderr };

export interface OutputOptions {
  json: boolean;
}

/**
 * Where everything a command says goes: results to stdout (one JSON document under --json),
 * and progress, notes and warnings to stderr, so stdout stays machine-readable.
 */
export class Output {
  readonly json: boolean;

  constructor(options: OutputOptions) {
    this.json = options.json;
  }

  /** The command's result: the JSON document under --json, else the human rendering. */
  result(data: unknown, human: () => string): void {
    if (this.json) process.stdout.write(`${JSON.stringify(data, null, 2)}\n`);
    else {
      const text = human();
      if (text !== "") process.stdout.write(text.endsWith("\n") ? text : `${text}\n`);
    }
  }

  /** A progress note on stderr. */
  note(message: string): void {
    process.stderr.write(`${message}\n`);
  }

  warn(message: string): void {
    process.stderr.write(`${chalkStderr.yellow("warning:")} ${message}\n`);
  }

  /**
   * A spinner on stderr for anything that may take over a second. Off a terminal it prints plain
   * lines instead (see createSpinner); under --json off a terminal it stays silent so CI logs
   * hold only the result.
   */
  spinner(text: string): Spinner {
    return createSpinner(text, { stream: process.stderr, silent: this.json && !process.stderr.isTTY });
  }

  /** Runs `work` under a spinner that is stopped however it ends, before the result is printed. */
  async withSpinner<T>(text: string, work: (spinner: Spinner) => Promise<T>): Promise<T> {
    const spinner = this.spinner(text);
    try {
      return await work(spinner);
    } finally {
      spinner.stop();
    }
  }
}
