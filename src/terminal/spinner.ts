import ora from "ora";

/**
 * What a command shows while it works. `text` names a step ("Starting the database"); `progress`
 * reports within a step (epochs, rows) and may be called as often as the work advances.
 */
export interface Spinner {
  text: string;
  progress(text: string): void;
  stop(): void;
}

/** The part of a stream the spinner needs (process.stderr, or a test's stand-in). */
export interface SpinnerStream {
  isTTY?: boolean;
  columns?: number;
  write(chunk: string): boolean;
}

export interface SpinnerOptions {
  stream: SpinnerStream;
  /** Print nothing at all (under --json off a terminal, so CI logs hold only the result). */
  silent: boolean;
  /** Off a terminal: the least time between two progress lines. */
  intervalMs?: number;
  env?: NodeJS.ProcessEnv;
  now?: () => number;
}

/**
 * An animated spinner only on a real terminal; everywhere else plain lines: one per step, the
 * first progress of each step, then progress at most once per `intervalMs`. A pseudo-terminal that reports 0 columns (a `script`
 * session, some containers) counts as no terminal: ora divides by the width to count the lines
 * to clear, and a width of 0 made it loop forever writing escape codes.
 */
export function createSpinner(text: string, options: SpinnerOptions): Spinner {
  if (options.silent) return { text, progress() {}, stop() {} };
  if (isInteractive(options.stream, options.env ?? process.env)) return animated(text, options.stream);
  return plainLines(text, options);
}

export function isInteractive(stream: SpinnerStream, env: NodeJS.ProcessEnv): boolean {
  return stream.isTTY === true && (stream.columns ?? 0) > 0 && env.TERM !== "dumb" && !("CI" in env);
}

function animated(text: string, stream: SpinnerStream): Spinner {
  const spinner = ora({ text, stream: stream as NodeJS.WriteStream }).start();
  return {
    get text() {
      return spinner.text;
    },
    set text(value: string) {
      spinner.text = value;
    },
    progress(value: string) {
      spinner.text = value;
    },
    stop() {
      spinner.stop();
    },
  };
}

function plainLines(initial: string, options: SpinnerOptions): Spinner {
  const interval = options.intervalMs ?? 2000;
  const now = options.now ?? Date.now;
  let current = initial;
  let lastLine = "";
  let lastAt = -Infinity;
  let stopped = false;
  // The first progress of a step is printed at once: a step shorter than the interval would
  // otherwise show none (a quick training printed no epoch line at all).
  let stepStarted = true;
  const print = (line: string) => {
    if (stopped || line === lastLine) return;
    options.stream.write(`${line}\n`);
    lastLine = line;
    lastAt = now();
  };
  print(initial);
  return {
    get text() {
      return current;
    },
    set text(value: string) {
      current = value;
      stepStarted = value !== lastLine || stepStarted;
      print(value);
    },
    progress(value: string) {
      current = value;
      if (stepStarted || now() - lastAt >= interval) {
        print(value);
        stepStarted = false;
      }
    },
    stop() {
      stopped = true;
    },
  };
}
