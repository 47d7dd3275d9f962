// Builds the CLI offline: generates the Prisma client, then compiles TypeScript into dist/.
// `prisma generate` only checks that a schema engine binary exists (it never runs it), so any
// existing file satisfies it; the real engine would be a download, which fails offline.
import { spawnSync } from "node:child_process";
import { rmSync } from "node:fs";

function run(command, args, env = {}) {
  const result = spawnSync(command, args, { stdio: "inherit", env: { ...process.env, ...env } });
  if (result.status !== 0) {
    console.error(`build: ${command} ${args.join(" ")} failed`);
    process.exit(result.status ?? 1);
  }
}

rmSync("dist", { recursive: true, force: true });
run(process.execPath, ["node_modules/prisma/build/index.js", "generate"], {
  PRISMA_SCHEMA_ENGINE_BINARY: process.env.PRISMA_SCHEMA_ENGINE_BINARY ?? process.execPath,
  PRISMA_HIDE_UPDATE_MESSAGE: "1",
});
run(process.execPath, ["node_modules/typescript/bin/tsc", "-p", "tsconfig.json"]);
