import { existsSync, readFileSync, statfsSync, statSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { embeddedPaths } from "../../db/embedded.js";
import { PACKAGE_ROOT } from "../../package-root.js";
import { fail, pass, type CheckContext, type CheckResult } from "../context.js";

const GB = 1024 ** 3;
/** Passwords seen in tutorials and default installs. */
const DEFAULT_PASSWORDS = new Set([
  "",
  "postgres",
  "password",
  "admin",
  "root",
  "secret",
  "mlops",
  "airflow",
  "changeme",
  "change-me",
  "123456",
  "test",
]);

const isLoopback = (host: string) => host === "localhost" || host === "::1" || host === "[::1]" || host.startsWith("127.");

export const systemChecks = {
  async systemResources(ctx: CheckContext): Promise<CheckResult> {
    const memory = os.totalmem() / GB;
    const disk = statfsSync(ctx.project.root);
    const free = (disk.bavail * disk.bsize) / GB;
    const evidence = `${memory.toFixed(1)} GB RAM, ${free.toFixed(1)} GB free disk at ${ctx.project.root} (need 4 GB and 10 GB)`;
    return memory >= 4 && free >= 10 ? pass(evidence) : fail(evidence);
  },

  async ports(ctx: CheckContext): Promise<CheckResult> {
    const target = await ctx.database();
    const db = new URL(target.url);
    const server = new URL(ctx.url);
    const health = await ctx.health();
    const serverPort = "error" in health ? await portFree(server.hostname, Number(server.port || 80)) : "used by this mlops server";
    const evidence = `database port ${db.port || 5432} answers (${target.embedded ? "embedded" : "DATABASE_URL"}); server port ${server.port}: ${serverPort}`;
    return serverPort === "in use by another program" ? fail(evidence) : pass(evidence);
  },

  async connectivity(ctx: CheckContext): Promise<CheckResult> {
    await ctx.query("SELECT 1");
    const health = await ctx.health();
    if ("error" in health) return fail(`database reachable; ${health.error}`);
    return pass(`database reachable; server at ${ctx.url} answered in ${health.ms.toFixed(0)} ms`);
  },

  async configFiles(ctx: CheckContext): Promise<CheckResult> {
    const root = ctx.project.root;
    const example = existsSync(path.join(root, ".env.example"));
    const env = existsSync(path.join(root, ".env"));
    const evidence = `mlops.config.json valid; .env.example ${example ? "present" : "missing"}; .env ${env ? "present" : "not used (settings come from the environment)"}`;
    return example ? pass(evidence) : fail(`${evidence}: run mlops init to recreate .env.example`);
  },

  async databasePassword(ctx: CheckContext): Promise<CheckResult> {
    const target = await ctx.database();
    if (target.embedded) {
      const file = embeddedPaths(ctx.project.root).credentialsFile;
      const mode = statSync(file).mode & 0o777;
      const password = (JSON.parse(readFileSync(file, "utf8")) as { password: string }).password;
      const strong = password.length >= 24 && !DEFAULT_PASSWORDS.has(password);
      const evidence = `embedded database: random ${password.length}-character password generated at creation, in ${path.relative(ctx.project.root, file)} (mode ${mode.toString(8)})`;
      return strong && (mode & 0o077) === 0 ? pass(evidence) : fail(`${evidence}: expected a private file (mode 600) with a long random password`);
    }
    const password = decodeURIComponent(new URL(target.url).password);
    return DEFAULT_PASSWORDS.has(password.toLowerCase())
      ? fail(`DATABASE_URL uses ${password === "" ? "no password" : "a well-known default password"}: set a strong one`)
      : pass(`DATABASE_URL's password is not a well-known default (${password.length} characters)`);
  },

  async apiKeyStrong(ctx: CheckContext): Promise<CheckResult> {
    const key = ctx.apiKey;
    if (!key)
      return fail("MLOPS_API_KEY is not set: /reload-model is disabled and admin actions are unprotected; set a random key of 24+ characters");
    if (DEFAULT_PASSWORDS.has(key.toLowerCase()) || key.length < 24 || new Set(key).size < 10) {
      return fail(`MLOPS_API_KEY is weak (${key.length} characters): use a random key of 24+ characters, e.g. openssl rand -hex 24`);
    }
    return pass(`MLOPS_API_KEY is set (${key.length} characters, not a default)`);
  },

  async modelPath(ctx: CheckContext): Promise<CheckResult> {
    const dir = path.join(ctx.project.root, ctx.project.config.model.dir);
    return existsSync(dir) && statSync(dir).isDirectory()
      ? pass(`model.dir = ${ctx.project.config.model.dir} (${dir} exists)`)
      : fail(`model.dir ${dir} does not exist: run mlops init`);
  },

  async thresholds(ctx: CheckContext): Promise<CheckResult> {
    const gate = ctx.project.config.gate;
    const evidence = `gate.f1Threshold = ${gate.f1Threshold}, gate.maxRegression = ${gate.maxRegression}`;
    return gate.f1Threshold >= 0.5 ? pass(evidence) : fail(`${evidence}: a threshold below 0.5 lets weak models through`);
  },

  async networkExposure(ctx: CheckContext): Promise<CheckResult> {
    const host = ctx.project.config.serve.host;
    const db = new URL((await ctx.database()).url);
    const evidence = `server binds ${host}${isLoopback(host) ? " (this machine only)" : " (reachable from the network)"}; database at ${db.hostname}`;
    if (!isLoopback(host) && !ctx.apiKey) return fail(`${evidence} without MLOPS_API_KEY: set a key, or bind 127.0.0.1 behind a proxy`);
    return pass(evidence);
  },

  async tls(ctx: CheckContext): Promise<CheckResult> {
    const url = new URL(ctx.url);
    if (url.protocol === "https:") return pass(`${ctx.url} uses TLS`);
    if (isLoopback(url.hostname)) return pass(`${ctx.url} is on loopback only; put a TLS-terminating proxy in front when exposing it`);
    return fail(`${ctx.url} is reachable from the network without TLS: terminate TLS at a proxy (nginx, Caddy) and check with --url https://...`);
  },

  async secretsOutOfConfig(ctx: CheckContext): Promise<CheckResult> {
    const text = readFileSync(ctx.project.configPath, "utf8");
    const leaks = [/[a-z][a-z0-9+.-]*:\/\/[^:/\s"]+:[^@\s"]+@/i, /"(password|secret|token|api_?key)"\s*:/i].filter((pattern) => pattern.test(text));
    const envFile = path.join(ctx.project.root, ".env");
    const envMode = existsSync(envFile) ? statSync(envFile).mode & 0o777 : undefined;
    if (leaks.length > 0)
      return fail(
        `${path.basename(ctx.project.configPath)} holds a secret (a password in a URL or a password/token key): move it to .env or the environment`,
      );
    if (envMode !== undefined && (envMode & 0o007) !== 0) return fail(`.env is readable by every user (mode ${envMode.toString(8)}): chmod 600 .env`);
    return pass(
      `no secrets in ${path.basename(ctx.project.configPath)}; secrets come from the environment${envMode !== undefined ? ` and .env (mode ${envMode.toString(8)})` : ""}; source databases by environment variable (fromDbEnv)`,
    );
  },

  troubleshootingPorts: (ctx: CheckContext) => documented(ctx, "port", /already in use|could not listen/i),
  troubleshootingDatabase: (ctx: CheckContext) => documented(ctx, "database connection", /Cannot connect to PostgreSQL/),
  troubleshootingMemory: (ctx: CheckContext) => documented(ctx, "memory", /memory|heap/i),
  troubleshootingModel: (ctx: CheckContext) => documented(ctx, "model loading", /checksum in manifest|model files/i),
};

/** The toolkit's README (shipped with it) has a troubleshooting entry for this. */
async function documented(_ctx: CheckContext, topic: string, pattern: RegExp): Promise<CheckResult> {
  const readme = path.join(PACKAGE_ROOT, "README.md");
  if (!existsSync(readme)) return fail(`${readme} is missing`);
  const text = readFileSync(readme, "utf8");
  const section = text.slice(text.indexOf("## Troubleshooting"));
  return pattern.test(section)
    ? pass(`README.md (Troubleshooting) covers ${topic} problems`)
    : fail(`README.md's Troubleshooting has no entry for ${topic} problems`);
}

function portFree(host: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once("error", () => resolve("in use by another program"));
    server.listen(port, host, () => server.close(() => resolve("free (no server running)")));
  });
}
