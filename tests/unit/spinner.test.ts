import { describe, expect, it } from "vitest";
import { createSpinner, isInteractive, type SpinnerStream } from "../../src/terminal/spinner.js";

function stream(isTTY: boolean, columns: number | undefined) {
  const written: string[] = [];
  const target: SpinnerStream = { isTTY, columns, write: (chunk: string) => (written.push(chunk), true) };
  return { target, written };
}

describe("createSpinner", () => {
  it("on a pseudo-terminal reporting 0 columns prints plain lines and returns at once (ora looped forever there)", () => {
    const { target, written } = stream(true, 0);
    expect(isInteractive(target, {})).toBe(false);
    const spinner = createSpinner("Loading training data", { stream: target, silent: false, env: {} });
    for (let epoch = 1; epoch <= 1000; epoch += 1) spinner.progress(`epoch ${epoch}/1000`);
    spinner.text = "Saving the model";
    spinner.stop();
    expect(written.join("")).not.toContain("\u001b");
    expect(written).toEqual(["Loading training data\n", "epoch 1/1000\n", "Saving the model\n"]);
  });

  it("off a terminal: one line per step, its first progress at once, then progress at most once per interval, nothing after stop", () => {
    const { target, written } = stream(false, undefined);
    let clock = 0;
    const spinner = createSpinner("Creating the project", { stream: target, silent: false, intervalMs: 2000, now: () => clock, env: {} });
    spinner.text = "Starting the database";
    spinner.text = "Starting the database";
    for (clock = 0; clock <= 5000; clock += 100) spinner.progress(`at ${clock}`);
    spinner.stop();
    spinner.text = "after stop";
    expect(written).toEqual(["Creating the project\n", "Starting the database\n", "at 0\n", "at 2000\n", "at 4000\n"]);
  });

  it("is silent when asked (--json off a terminal), and animates only on a real, sized terminal", () => {
    const { target, written } = stream(false, undefined);
    const spinner = createSpinner("x", { stream: target, silent: true });
    spinner.text = "y";
    spinner.progress("z");
    spinner.stop();
    expect(written).toEqual([]);
    expect(isInteractive({ isTTY: true, columns: 80, write: () => true }, {})).toBe(true);
    expect(isInteractive({ isTTY: true, columns: 80, write: () => true }, { CI: "true" })).toBe(false);
    expect(isInteractive({ isTTY: true, columns: 80, write: () => true }, { TERM: "dumb" })).toBe(false);
  });
});
