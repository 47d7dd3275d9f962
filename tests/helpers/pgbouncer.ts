import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { chmodSync, chownSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import pg from "pg";

/** Debian's pgbouncer, when installed (.ci/run installs it). */
export const PGBOUNCER = ["/usr/sbin/pgbouncer", "/usr/bin/pgbouncer"].find((candidate) => spawnSync(candidate, ["--version"]).status === 0);

/** PgBouncer refuses to run as root: as root it runs as nobody. */
const NOBODY = 65534;

export interface Bouncer {
  /** `url` with host and port replaced by the pooler's. */
  url(databaseUrl: string): string;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Starts a PgBouncer of its own on a free port in front of the server of `adminUrl`, in the
 * given pool mode, logging in to PostgreSQL as the admin user whatever user the client names.
 */
export async function startPgBouncer(adminUrl: string, poolMode: "session" | "transaction"): Promise<Bouncer> {
  if (!PGBOUNCER) throw new Error("pgbouncer is not installed");
  const server = new URL(adminUrl);
  const port = await freePort();
  const dir = mkdtempSync(path.join(os.tmpdir(), "mlops-pgbouncer-"));
  const config = path.join(dir, "pgbouncer.ini");
  const password = decodeURIComponent(server.password);
  writeFileSync(
    config,
    [
      "[databases]",
      `* = host=${server.hostname} port=${server.port || 5432} user=${decodeURIComponent(server.username)}${password ? ` password=${password}` : ""}`,
      "[pgbouncer]",
      "listen_addr = 127.0.0.1",
      `listen_port = ${port}`,
      "unix_socket_dir =",
      "auth_type = any",
      `pool_mode = ${poolMode}`,
      "default_pool_size = 10",
      "ignore_startup_parameters = extra_float_digits,options",
      "",
    ].join("\n"),
    { mode: 0o600 },
  );
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    chmodSync(dir, 0o700);
    chownSync(dir, NOBODY, NOBODY);
    chownSync(config, NOBODY, NOBODY);
  }
  let stderr = "";
  const child: ChildProcess = spawn(PGBOUNCER, [config], { stdio: ["ignore", "ignore", "pipe"], ...(asRoot ? { uid: NOBODY, gid: NOBODY } : {}) });
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const url = (databaseUrl: string) => {
    const through = new URL(databaseUrl);
    through.hostname = "127.0.0.1";
    through.port = String(port);
    return through.toString();
  };
  const deadline = Date.now() + 10_000;
  for (;;) {
    const probe = new pg.Client({ connectionString: url(adminUrl), connectionTimeoutMillis: 1000 });
    try {
      await probe.connect();
      await probe.query("SELECT 1");
      await probe.end();
      break;
    } catch (error) {
      await probe.end().catch(() => undefined);
      if (child.exitCode !== null || Date.now() > deadline) {
        child.kill("SIGKILL");
        throw new Error(`pgbouncer did not start: ${(error as Error).message}\n${stderr}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  return {
    url,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once("exit", resolve));
        child.kill("SIGINT");
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
