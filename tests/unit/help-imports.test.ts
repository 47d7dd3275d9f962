import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

/**
 * `mlops --help` and `mlops <command> --help` load src/cli/program.ts and what it imports at
 * start-up. Those files may import at run time only commander, each other and the tiny
 * package-root; every command body (zod, Prisma, tfjs, fastify) must stay behind a dynamic
 * import() so that help stays under 150 ms.
 */
const SRC = fileURLToPath(new URL("../../src/", import.meta.url));
const declarations = readdirSync(path.join(SRC, "commands/declarations")).map((name) => `commands/declarations/${name}`);
const HELP_TIME = new Set(["cli/program.ts", "commands/spec.ts", "package-root.ts", ...declarations]);
const ALLOWED_PACKAGES = new Set(["commander", "node:path", "node:url", "node:fs"]);

/** Static, value-carrying imports (`import type` and `import()` are left out). */
function staticImports(file: string): string[] {
  const text = readFileSync(path.join(SRC, file), "utf8");
  return [...text.matchAll(/^import\s+(?!type\s)[^;]*?from\s+"([^"]+)"/gms)].map((m) => m[1]!);
}

describe("help-time imports", () => {
  it("declares every command in a light file", () => {
    expect(declarations.length).toBeGreaterThan(10);
  });

  it("loads no command body, zod, Prisma, tfjs or fastify before a command runs", () => {
    const heavy: string[] = [];
    for (const file of HELP_TIME) {
      for (const spec of staticImports(file)) {
        if (!spec.startsWith(".")) {
          if (!ALLOWED_PACKAGES.has(spec)) heavy.push(`${file} -> ${spec}`);
          continue;
        }
        const target = path.relative(SRC, path.resolve(path.dirname(path.join(SRC, file)), spec)).replace(/\.js$/, ".ts");
        if (!HELP_TIME.has(target)) heavy.push(`${file} -> ${target}`);
      }
    }
    expect(heavy).toEqual([]);
  });
});
