import type { Command } from "commander";
import { describe, expect, it } from "vitest";
import { buildProgram } from "../../src/cli/program.js";
import { COMMANDS } from "../../src/commands/declarations/index.js";
import { type CommandSpec, invokeCommand } from "../../src/commands/spec.js";
import { Output } from "../../src/terminal/output.js";

/** Every declared command that runs, with the commander command the program built for it. */
function runnable(specs: CommandSpec[], parent: Command, prefix = ""): Array<{ name: string; spec: CommandSpec; command: Command }> {
  return specs.flatMap((spec) => {
    const command = parent.commands.find((c) => c.name() === spec.name)!;
    const name = `${prefix}${spec.name}`;
    return [...(spec.run ? [{ name, spec, command }] : []), ...runnable(spec.subcommands ?? [], command, `${name} `)];
  });
}

/** What a command's body receives from invokeCommand: the body is swapped for one that hands it back. */
async function received(spec: CommandSpec, options: Record<string, unknown> = {}, args: string[] = []) {
  let got: { options: Record<string, unknown>; args: string[] } | undefined;
  const probe: CommandSpec = {
    ...spec,
    run: async () => async (_ctx, o, a) => {
      got = { options: o, args: a };
      return 0;
    },
  };
  await invokeCommand(probe, { cwd: process.cwd(), out: new Output({ json: true }) }, options, args);
  return got!;
}

const commands = runnable(COMMANDS, buildProgram({ exitCode: 0 }));

describe("command declarations", () => {
  it("registers every declared command, in the declared order", () => {
    const program = buildProgram({ exitCode: 0 });
    expect(program.commands.map((c) => c.name())).toEqual(COMMANDS.map((c) => c.name));
    expect(commands.length).toBeGreaterThan(20);
  });

  it.each(commands.map((c) => [c.name, c] as const))("mlops %s: an in-process call gets the option values commander gives", async (_name, c) => {
    // Right after the program is built, commander holds each option's default (and true for --no-x).
    expect((await received(c.spec)).options).toEqual(c.command.opts());
  });

  it("fills a missing optional argument with its declared default, keeps given values, and passes variadic arguments on", async () => {
    const seed = COMMANDS.find((c) => c.name === "seed")!;
    const declared = seed.arguments![0]!.default;
    expect((await received(seed)).args).toEqual([declared]);
    expect(await received(seed, { drift: "0.5" }, ["25"])).toMatchObject({ args: ["25"], options: { drift: "0.5" } });
    const sign = COMMANDS.find((c) => c.name === "checklist")!.subcommands!.find((c) => c.name === "sign")!;
    expect((await received(sign, { by: "Ada" }, ["Verified", "by"])).args).toEqual(["Verified", "by"]);
  });
});
