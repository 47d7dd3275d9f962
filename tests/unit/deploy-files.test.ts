import { spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Command } from "commander";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse, parseAllDocuments } from "yaml";
import { buildProgram } from "../../src/cli/program.js";
import { sampleConfig } from "../../src/config/sample.js";
import { configSchema } from "../../src/config/schema.js";
import { buildApp } from "../../src/server/app.js";
import { deployFiles, type ContainerSpec } from "../helpers/deploy-files.js";

// The deployment files name things the code defines: subcommands and flags, probe routes, the
// port, environment variables, paths in the image. Each is checked against the code itself so
// the two cannot drift apart.

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const DEPLOY = path.join(ROOT, "deploy");
const files = deployFiles(DEPLOY);
const SERVE_PORT = configSchema.parse(sampleConfig()).serve.port;
const MODEL_DIR = configSchema.parse(sampleConfig()).model.dir;
const COMPOSE = spawnSync("docker-compose", ["version"], { encoding: "utf8" });
const HAVE_COMPOSE = COMPOSE.status === 0;

let app: Awaited<ReturnType<typeof buildApp>>["app"];
beforeAll(async () => {
  // Only the route table is read: no model is loaded and no database is asked.
  ({ app } = await buildApp({
    config: configSchema.parse(sampleConfig()),
    loadModel: () => Promise.reject(new Error("not loaded")),
    databaseUp: async () => true,
  }));
});
afterAll(() => app?.close());

/** The subcommand an argument list names (`db migrate` -> the migrate command under db), and its flags. */
function resolveCommand(args: string[]): { command: Command; flags: string[] } {
  let command: Command = buildProgram({ exitCode: 0 });
  let i = 0;
  for (; i < args.length && !args[i]!.startsWith("-"); i += 1) {
    const sub = command.commands.find((c) => c.name() === args[i]);
    if (!sub) throw new Error(`mlops has no command "${args.slice(0, i + 1).join(" ")}"`);
    command = sub;
  }
  return { command, flags: args.slice(i).filter((a) => a.startsWith("-")) };
}

function knownFlags(command: Command): Set<string> {
  const flags = new Set<string>();
  for (let c: Command | null = command; c; c = c.parent)
    for (const option of c.options) [option.long, option.short].forEach((f) => f && flags.add(f));
  return flags;
}

/** The code reads this variable (process.env.NAME or process.env["NAME"]). */
function sourcesRead(name: string): boolean {
  const walk = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
      entry.isDirectory()
        ? entry.name === "generated"
          ? []
          : walk(path.join(dir, entry.name))
        : entry.name.endsWith(".ts")
          ? [path.join(dir, entry.name)]
          : [],
    );
  const pattern = new RegExp(`process\\.env(\\.${name}\\b|\\[["']${name}["']\\])`);
  return [...walk(path.join(ROOT, "src")), ...walk(path.join(ROOT, "bin"))].some((file) => pattern.test(readFileSync(file, "utf8")));
}

describe("deploy/", () => {
  it("every YAML file parses", () => {
    const yamlFiles = readdirSync(path.join(DEPLOY, "kubernetes"))
      .map((f) => path.join("kubernetes", f))
      .concat("compose.yaml");
    expect(yamlFiles.length).toBeGreaterThanOrEqual(9);
    for (const file of yamlFiles) {
      for (const document of parseAllDocuments(readFileSync(path.join(DEPLOY, file), "utf8"))) {
        expect(document.errors.map((e) => `${file}: ${e.message}`)).toEqual([]);
        expect(document.toJS(), file).toBeTypeOf("object");
      }
    }
  });

  it("has the Kubernetes objects the deployment needs", () => {
    const kinds = files.kubernetes.map((o) => `${o.kind}/${o.metadata.name}`).sort();
    expect(kinds).toEqual([
      "Deployment/mlops-scheduler",
      "Deployment/mlops-serve",
      "HorizontalPodAutoscaler/mlops-serve",
      "Job/mlops-migrate",
      "PersistentVolumeClaim/mlops-models",
      "PodDisruptionBudget/mlops-serve",
      "Secret/mlops-secrets",
      "Service/mlops-serve",
    ]);
    const kustomization = parse(readFileSync(path.join(DEPLOY, "kubernetes/kustomization.yaml"), "utf8")) as { resources: string[] };
    for (const resource of kustomization.resources) expect(readdirSync(path.join(DEPLOY, "kubernetes"))).toContain(resource);
  });

  it("runs only mlops subcommands and flags that exist", () => {
    const commands = files.containers.map((c) => c.args);
    expect(commands.map((args) => args.filter((a) => !a.startsWith("-") && !/^[\d.]+$/.test(a)).join(" ")).sort()).toEqual([
      "db migrate",
      "db migrate",
      "scheduler",
      "scheduler",
      "serve",
      "serve",
      "serve",
    ]);
    for (const { where, args } of files.containers) {
      const { command, flags } = resolveCommand(args);
      const known = knownFlags(command);
      for (const flag of flags) expect(known.has(flag), `${where}: ${args.join(" ")}: no flag ${flag}`).toBe(true);
    }
    expect(files.dockerfile.entrypoint).toEqual(["mlops"]);
    expect(knownFlags(buildProgram({ exitCode: 0 })).has("--version")).toBe(true);
  });

  it("probes routes the server has, on the port it listens on", () => {
    expect(files.probes.length).toBeGreaterThanOrEqual(3);
    for (const probe of files.probes) {
      expect(app.hasRoute({ method: "GET", url: probe.path }), `${probe.where}: GET ${probe.path}`).toBe(true);
      expect(probe.port, probe.where).toBe(SERVE_PORT);
    }
    const paths = new Set(files.probes.map((p) => p.path));
    expect(paths).toEqual(new Set(["/v2/health/ready", "/v2/health/live"]));
  });

  it("uses the server's port everywhere: --port, the image, the Service, Compose and the proxy", () => {
    for (const { where, args } of files.containers.filter((c) => c.args[0] === "serve")) {
      expect(args[args.indexOf("--port") + 1], where).toBe(String(SERVE_PORT));
    }
    expect(files.ports.length).toBeGreaterThanOrEqual(5);
    for (const { where, port } of files.ports) expect(port, where).toBe(SERVE_PORT);
  });

  it("passes only environment variables the code reads", () => {
    const names = new Set(files.containers.flatMap((c: ContainerSpec) => c.env));
    expect([...names].sort()).toEqual(["DATABASE_URL", "MLOPS_API_KEY"]);
    for (const name of names) expect(sourcesRead(name), `src reads ${name}`).toBe(true);
    // The secret names every reference points at.
    for (const ref of files.secretRefs) expect(files.secretKeys, `${ref.where}: ${ref.key}`).toContain(ref.key);
  });

  it("builds a non-root image whose paths match the code's defaults", () => {
    const { dockerfile } = files;
    expect(dockerfile.stages).toEqual(["build", "runtime"]);
    expect(
      dockerfile.from.every((image) => /^node:\d+-\w+-slim$/.test(image)),
      dockerfile.from.join(", "),
    ).toBe(true);
    expect(dockerfile.runs.some((r) => r.includes("npm ci --omit=dev"))).toBe(true);
    expect(dockerfile.user).not.toMatch(/^(root|0)(:|$)/);
    expect(dockerfile.workdir).toBe("/project");
    for (const source of dockerfile.copies) expect(readdirSync(path.join(ROOT, path.dirname(source))), source).toContain(path.basename(source));
    for (const mount of files.modelMounts) expect(mount.path, mount.where).toBe(`${dockerfile.workdir}/${MODEL_DIR}`);
    // What package.json ships is what the image copies (dist, prisma, checklist).
    const shipped = (JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")) as { files: string[] }).files;
    for (const entry of shipped)
      expect(
        dockerfile.copyTargets.some((t) => t.endsWith(entry)),
        entry,
      ).toBe(true);
  });

  it.runIf(HAVE_COMPOSE)("docker-compose config accepts compose.yaml with the example env file, and refuses it without one", () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "mlops-compose-"));
    try {
      for (const file of ["compose.yaml", "nginx.conf"]) copyFileSync(path.join(DEPLOY, file), path.join(dir, file));
      // The shell's variables would win over the env file: run without the test's own.
      const env = Object.fromEntries(
        Object.entries(process.env).filter(([name]) => !["DATABASE_URL", "MLOPS_API_KEY", "POSTGRES_PASSWORD"].includes(name)),
      );
      const config = () => spawnSync("docker-compose", ["-f", path.join(dir, "compose.yaml"), "config"], { encoding: "utf8", cwd: dir, env });
      const missing = config();
      expect(missing.status).not.toBe(0);
      expect(missing.stderr).toContain("set POSTGRES_PASSWORD in deploy/.env");
      copyFileSync(path.join(DEPLOY, ".env.example"), path.join(dir, ".env"));
      const ok = config();
      expect(ok.status, ok.stderr).toBe(0);
      const resolved = parse(ok.stdout) as { services: Record<string, { command?: string[]; environment?: Record<string, string> }> };
      expect(Object.keys(resolved.services).sort()).toEqual(["migrate", "postgres", "proxy", "scheduler", "serve"]);
      expect(resolved.services.serve!.command).toEqual(["serve", "--host", "0.0.0.0", "--port", String(SERVE_PORT)]);
      expect(Object.keys(resolved.services.postgres!.environment ?? {})).not.toContain("MLOPS_API_KEY");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  it.skipIf(HAVE_COMPOSE)("docker-compose config (skipped: docker-compose is not installed; .ci/run installs Debian's)", () => undefined);
});
