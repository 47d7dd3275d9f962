import type { CommandContext } from "./context.js";

/** A command's body: it validates its options with its zod schema and returns an exit code when it is not 0. */
export type CommandRun = (ctx: CommandContext, options: Record<string, unknown>, args: string[]) => Promise<number | undefined>;

export interface ArgumentSpec {
  /** As commander writes it: `<version>` is required, `[N]` optional, `<item...>` variadic. */
  name: string;
  description: string;
  default?: string;
}

export interface OptionSpec {
  /** As commander writes it: `--keep <n>`, `-C, --cwd <dir>`, `--no-serve`. */
  flags: string;
  description: string;
  /** The flag's one default (as the text a user would type); help shows it, and the body's zod schema coerces it. */
  default?: string;
  required?: boolean;
}

/**
 * What `mlops <name> --help` shows and what commander parses: name, arguments, flags with their
 * defaults, help. It stays free of zod, Prisma and tfjs: importing zod alone took 40-100 ms here
 * beside a whole `mlops --help` of about 90 ms, so the body (schema and run) is imported by `run`
 * only when the command runs.
 */
export interface CommandSpec {
  name: string;
  description: string;
  arguments?: ArgumentSpec[];
  options?: OptionSpec[];
  /** Loads the body; a group such as `mlops db` has none. */
  run?: () => Promise<CommandRun>;
  subcommands?: CommandSpec[];
}

/** The option key commander gives a flag: `--row-key <c>` is rowKey, `--no-serve` is serve. */
function optionKey(flags: string): string {
  const long = flags.split(/[ ,|]+/).find((part) => part.startsWith("--")) ?? flags;
  return long.replace(/^--(no-)?/, "").replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

/**
 * The declared defaults of a command's flags, as commander sets them: a `--no-x` flag defaults
 * to true, unless `--x` is declared too (then x is undefined until one of them is given).
 */
function declaredDefaults(spec: CommandSpec): Record<string, unknown> {
  const defaults: Record<string, unknown> = {};
  const options = spec.options ?? [];
  const positive = new Set(options.filter((o) => !/(^|[ ,])--no-/.test(o.flags)).map((o) => optionKey(o.flags)));
  for (const option of options) {
    if (option.default !== undefined) defaults[optionKey(option.flags)] = option.default;
    else if (/(^|[ ,])--no-/.test(option.flags) && !positive.has(optionKey(option.flags))) defaults[optionKey(option.flags)] = true;
  }
  return defaults;
}

/**
 * Runs a command as `mlops` would after parsing: declared defaults under the given options, and
 * declared argument defaults where an argument is missing. Tests call commands in-process this way.
 */
export async function invokeCommand(
  spec: CommandSpec,
  ctx: CommandContext,
  options: Record<string, unknown> = {},
  args: string[] = [],
): Promise<number> {
  if (!spec.run) throw new Error(`mlops ${spec.name} is a group of commands; invoke one of its subcommands.`);
  const withDefaults = (spec.arguments ?? []).map((argument, i) => args[i] ?? argument.default);
  const given = Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined));
  const run = await spec.run();
  const code = await run(
    ctx,
    { ...declaredDefaults(spec), ...given },
    [...withDefaults, ...args.slice(withDefaults.length)].filter((a) => a !== undefined),
  );
  return code ?? 0;
}
