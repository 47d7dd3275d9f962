import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { PACKAGE_ROOT } from "../../package-root.js";
import { fail, pass, type CheckContext, type CheckResult } from "../context.js";
import { migrations } from "./database.js";

/** The services of deploy/compose.yaml, each of which the checklist finds running by its own trace. */
const COMPOSE_SERVICES = ["postgres", "migrate", "serve", "scheduler"];
const DEPLOY_DIR = path.join(PACKAGE_ROOT, "deploy");

/** Top-level service names of a compose file (two-space keys under `services:`), read without a YAML parser. */
export function composeServiceNames(text: string): string[] {
  const start = text.search(/^services:[ \t]*$/m);
  if (start < 0) return [];
  const body = text.slice(text.indexOf("\n", start) + 1);
  const end = body.search(/^\S/m);
  return [...(end < 0 ? body : body.slice(0, end)).matchAll(/^ {2}([A-Za-z0-9_-]+):/gm)].map((m) => m[1]!);
}

/** Which container tools are here: `docker`, its `compose` plugin, Compose v1's `docker-compose`. */
function containerTools(): string[] {
  // docker-compose v1 is Python and takes seconds to answer: finding it on PATH is enough.
  const onPath = (name: string) => (process.env.PATH ?? "").split(path.delimiter).some((dir) => dir && existsSync(path.join(dir, name)));
  const docker = onPath("docker");
  return [
    docker && "docker",
    docker && spawnSync("docker", ["compose", "version"], { timeout: 3000, stdio: "ignore" }).status === 0 && "docker compose",
    onPath("docker-compose") && "docker-compose",
  ].filter((tool): tool is string => typeof tool === "string");
}

export const deployChecks = {
  /** "Docker and Docker Compose installed": the image and Compose files mlops ships, and the tools found. */
  async containerDeployment(_ctx: CheckContext): Promise<CheckResult> {
    const compose = path.join(DEPLOY_DIR, "compose.yaml");
    const missing = ["Dockerfile", "compose.yaml", "kubernetes"].filter((f) => !existsSync(path.join(DEPLOY_DIR, f)));
    if (missing.length > 0) return fail(`deploy/ is missing ${missing.join(", ")} in ${PACKAGE_ROOT}: reinstall mlops`);
    const services = composeServiceNames(readFileSync(compose, "utf8"));
    const absent = COMPOSE_SERVICES.filter((s) => !services.includes(s));
    if (absent.length > 0) return fail(`deploy/compose.yaml lacks the services ${absent.join(", ")}`);
    const manifests = readdirSync(path.join(DEPLOY_DIR, "kubernetes")).filter((f) => f.endsWith(".yaml")).length;
    const tools = containerTools();
    const found = tools.length > 0 ? `found here: ${tools.join(", ")}` : "no container tools here (mlops also runs without them, natively)";
    return pass(
      `deploy/Dockerfile, deploy/compose.yaml (services ${services.join(", ")}) and ${manifests} Kubernetes manifests ship with mlops; ${found}`,
    );
  },

  /** "All containers started (docker-compose ps)": each Compose service, seen from the database it shares. */
  async composeServices(ctx: CheckContext): Promise<CheckResult> {
    const seen: string[] = [];
    const problems: string[] = [];
    await ctx.query("SELECT 1");
    seen.push("postgres: accepting connections");
    const status = await migrations(ctx);
    if (status.pending.length === 0 && status.failed.length === 0) seen.push(`migrate: ${status.applied.length} migrations applied`);
    else problems.push(`migrate: ${status.pending.length} pending, ${status.failed.length} failed (run mlops db migrate)`);
    const sessions = await ctx.query<{ name: string; n: number }>(
      "SELECT application_name AS name, count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name IN ('mlops serve listener', 'mlops scheduler') GROUP BY application_name",
    );
    const count = (name: string) => sessions.find((s) => s.name === name)?.n ?? 0;
    const health = await ctx.health();
    if ("error" in health) problems.push(`serve: ${health.error}`);
    else seen.push(`serve: ${ctx.url} answers, ${count("mlops serve listener")} replica(s) listening for promotions`);
    const scheduled = Object.keys(ctx.project.config.schedules).length;
    if (scheduled === 0) seen.push("scheduler: not needed (no schedules in the config)");
    else if (count("mlops scheduler") > 0) seen.push(`scheduler: connected (${count("mlops scheduler")} connections)`);
    // cron, systemd timers or a CronJob calling `mlops run` are documented alternatives to it.
    else seen.push(`scheduler: none connected, so ${scheduled} scheduled pipeline(s) run only if cron or a CronJob calls mlops run`);
    return problems.length === 0 ? pass(seen.join("; ")) : fail([...problems, ...seen].join("; "));
  },
};
