import { vi } from "vitest";
import { invokeCommand, type CommandSpec } from "../../src/commands/spec.js";
import { Output } from "../../src/terminal/output.js";

export interface InProcessResult<T> {
  code: number;
  /** The one JSON document the command printed under --json. */
  result: T;
  stderr: string;
}

/**
 * Runs a command in this process as `mlops --json <command>` would after parsing (declared
 * defaults included), in `cwd`, and captures what it prints. Much faster than a subprocess each
 * time: no Node start, and Prisma and tfjs load once per test file.
 */
export async function runInProcess<T = Record<string, unknown>>(
  spec: CommandSpec,
  cwd: string,
  options: Record<string, unknown> = {},
  args: string[] = [],
): Promise<InProcessResult<T>> {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const out = vi.spyOn(process.stdout, "write").mockImplementation((chunk) => stdout.push(String(chunk)) > 0);
  const err = vi.spyOn(process.stderr, "write").mockImplementation((chunk) => stderr.push(String(chunk)) > 0);
  try {
    const code = await invokeCommand(spec, { cwd, out: new Output({ json: true }) }, options, args);
    const text = stdout.join("");
    try {
      return { code, result: JSON.parse(text) as T, stderr: stderr.join("") };
    } catch {
      throw new Error(`stdout is not one JSON document:\n${text}\n--- stderr ---\n${stderr.join("")}`);
    }
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}
