import { randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { chmod, chown, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import lockfile from "proper-lockfile";
import { ExitCode, MlopsError } from "../errors.js";
import { DATA_DIR_RECORD, firstBlockedFolder, foldersDownTo, forgetDataDir, placeDataDir, recordedDataDir } from "./data-location.js";
import { locateBinaries, processState, resolveRunAs, runPgProgram, type RunAs } from "./pg-process.js";
import { ensureStateDir, stateDirOf } from "./state-dir.js";

/**
 * The embedded server's files: under the project's `.mlops/` folder, except the data folder when
 * `.mlops/data-dir` records that it is kept elsewhere (see data-location.ts).
 */
export function embeddedPaths(root: string) {
  const stateDir = stateDirOf(root);
  const recorded = recordedDataDir(stateDir);
  const dataDir = recorded ?? path.join(stateDir, "pgdata");
  return {
    stateDir,
    dataDir,
    /** The file naming the data folder when it lives outside the project, else undefined. */
    dataDirRecord: recorded === undefined ? undefined : path.join(stateDir, DATA_DIR_RECORD),
    logFile: path.join(dataDir, "server.log"),
    credentialsFile: path.join(stateDir, "credentials.json"),
    portFile: path.join(stateDir, "port"),
    lockTarget: stateDir,
  };
}

interface Credentials {
  user: string;
  password: string;
  database: string;
}

export interface EmbeddedStatus {
  initialized: boolean;
  running: boolean;
  pid?: number;
  port?: number;
  dataDir: string;
  /** Set when the data folder is outside the project: the file under .mlops/ that records it. */
  dataDirRecord?: string;
  logFile: string;
}

interface PidFile {
  pid: number;
  port: number;
  status: string;
}

/** postmaster.pid: line 1 the PID, line 4 the port, line 8 the status ("ready" once it accepts). */
function readPidFile(dataDir: string): PidFile | undefined {
  let text: string;
  try {
    text = readFileSync(path.join(dataDir, "postmaster.pid"), "utf8");
  } catch {
    return undefined;
  }
  const lines = text.split("\n");
  return { pid: Number(lines[0]), port: Number(lines[3]), status: (lines[7] ?? "").trim() };
}

function isLive(pid: number): boolean {
  const state = processState(pid);
  return state !== undefined && state !== "Z";
}

/** Reads the server's state from its files alone: fast enough for every command to call. */
export function embeddedStatus(root: string): EmbeddedStatus {
  const { dataDir, logFile, dataDirRecord } = embeddedPaths(root);
  const initialized = existsSync(path.join(dataDir, "PG_VERSION"));
  const pidFile = initialized ? readPidFile(dataDir) : undefined;
  const running = pidFile !== undefined && isLive(pidFile.pid) && pidFile.status === "ready";
  return {
    initialized,
    running,
    dataDir,
    ...(dataDirRecord ? { dataDirRecord } : {}),
    logFile,
    ...(running && pidFile ? { pid: pidFile.pid, port: pidFile.port } : {}),
  };
}

export interface EmbeddedServer {
  url: string;
  port: number;
  /** What this call did: nothing (already running), started it, or created it. */
  action: "joined" | "started" | "created";
}

function connectionUrl(credentials: Credentials, port: number): string {
  const user = encodeURIComponent(credentials.user);
  const password = encodeURIComponent(credentials.password);
  return `postgresql://${user}:${password}@127.0.0.1:${port}/${credentials.database}`;
}

function readCredentials(file: string): Credentials {
  try {
    return JSON.parse(readFileSync(file, "utf8")) as Credentials;
  } catch (error) {
    throw new MlopsError("EMBEDDED_CREDENTIALS_MISSING", `Cannot read the embedded database credentials at ${file}.`, {
      exitCode: ExitCode.unavailable,
      hint: "Stop the server (`mlops db stop`), move .mlops/ aside and run `mlops init` to create a fresh database.",
      cause: error,
    });
  }
}

/**
 * Starts the project's embedded server unless it already runs, creating it first when needed.
 * A lock on `.mlops/` makes concurrent callers (two `mlops init` at once) end with one server.
 */
export async function ensureEmbeddedServer(root: string, configuredPort?: number): Promise<EmbeddedServer> {
  const paths = embeddedPaths(root);
  const status = embeddedStatus(root);
  if (status.running && status.port !== undefined && existsSync(paths.credentialsFile)) {
    return { url: connectionUrl(readCredentials(paths.credentialsFile), status.port), port: status.port, action: "joined" };
  }
  const runAs = resolveRunAs(paths.dataDir);
  // The server's own user passes through .mlops/ only while its data is kept inside it.
  await ensureStateDir(root, runAs.uid !== undefined && paths.dataDirRecord === undefined);
  const release = await acquireLock(paths.lockTarget);
  try {
    const again = embeddedStatus(root);
    if (again.running && again.port !== undefined) {
      return { url: connectionUrl(readCredentials(paths.credentialsFile), again.port), port: again.port, action: "joined" };
    }
    const { binDir } = await locateBinaries(runAs);
    let created = false;
    let current = embeddedPaths(root);
    if (!again.initialized) {
      if (current.dataDirRecord === undefined) {
        const placed = await placeDataDir(root, paths.stateDir, runAs);
        if (placed.blockedBy !== undefined) await ensureStateDir(root, false);
        current = embeddedPaths(root);
      }
      await createCluster(binDir, current, runAs);
      created = true;
    }
    const port = await choosePort(current.portFile, configuredPort);
    await startCluster(binDir, current, runAs, port);
    const credentials = readCredentials(current.credentialsFile);
    return { url: connectionUrl(credentials, port), port, action: created ? "created" : "started" };
  } finally {
    await release();
  }
}

export async function stopEmbeddedServer(root: string): Promise<{ wasRunning: boolean }> {
  const paths = embeddedPaths(root);
  const status = embeddedStatus(root);
  if (!status.initialized || !status.running) return { wasRunning: false };
  const release = await acquireLock(paths.lockTarget);
  try {
    const runAs = resolveRunAs(paths.dataDir);
    const { binDir } = await locateBinaries(runAs);
    const result = await runPgProgram(path.join(binDir, "pg_ctl"), ["stop", "-D", paths.dataDir, "-m", "fast", "-w", "-t", "60"], runAs);
    if (result.code !== 0 && embeddedStatus(root).running) {
      throw new MlopsError("EMBEDDED_STOP_FAILED", `The embedded server did not stop: ${result.output.trim()}`, {
        hint: `See the server log at ${paths.logFile}.`,
      });
    }
    return { wasRunning: true };
  } finally {
    await release();
  }
}

async function acquireLock(target: string): Promise<() => Promise<void>> {
  try {
    return await lockfile.lock(target, {
      lockfilePath: path.join(target, "server.lock"),
      realpath: false,
      stale: 20_000,
      retries: { retries: 600, factor: 1, minTimeout: 100, maxTimeout: 100 },
    });
  } catch (error) {
    throw new MlopsError("EMBEDDED_LOCKED", "Another mlops process holds the embedded server's lock and did not release it within a minute.", {
      exitCode: ExitCode.unavailable,
      hint: `Wait for the other mlops command to finish; if none runs, remove ${path.join(target, "server.lock")}.`,
      cause: error,
    });
  }
}

/** initdb in a fresh data folder with a random password (never the package's default). */
async function createCluster(binDir: string, paths: ReturnType<typeof embeddedPaths>, runAs: RunAs): Promise<void> {
  // A half-made folder from a killed initdb would make initdb refuse; it holds no data yet.
  await rm(paths.dataDir, { recursive: true, force: true });
  await mkdir(paths.dataDir, { recursive: true, mode: 0o700 });
  if (runAs.uid !== undefined) await chown(paths.dataDir, runAs.uid, runAs.gid ?? runAs.uid);
  await chmod(paths.dataDir, 0o700);

  const credentials: Credentials = { user: "mlops", password: randomBytes(24).toString("base64url"), database: "postgres" };
  // initdb reads the password from a file, which the server's user must be able to read.
  const scratch = await mkdtemp(path.join(os.tmpdir(), "mlops-initdb-"));
  const pwfile = path.join(scratch, "pw");
  try {
    await writeFile(pwfile, `${credentials.password}\n`, { mode: 0o600 });
    if (runAs.uid !== undefined) {
      await chown(scratch, runAs.uid, runAs.gid ?? runAs.uid);
      await chown(pwfile, runAs.uid, runAs.gid ?? runAs.uid);
    }
    const result = await runPgProgram(
      path.join(binDir, "initdb"),
      [
        "-D",
        paths.dataDir,
        "-U",
        credentials.user,
        `--pwfile=${pwfile}`,
        "--auth=scram-sha-256",
        "-E",
        "UTF8",
        "--locale-provider=builtin",
        "--builtin-locale=C.UTF-8",
        "--locale=C",
      ],
      runAs,
    );
    if (result.code !== 0) {
      await forgetDataDir(paths.stateDir, paths.dataDir);
      throw await initdbError(result.output, paths.dataDir, runAs);
    }
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  await writeFile(paths.credentialsFile, `${JSON.stringify(credentials, null, 2)}\n`, { mode: 0o600 });
}

/**
 * initdb's own reason, without its chatter ("Data page checksums are enabled.", the locale
 * lines): the lines it marks as errors, else its last line.
 */
export function initdbReason(output: string): string {
  const lines = output
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "");
  const errors = lines.filter((line) => /\b(error|fatal|panic):/i.test(line)).map((line) => line.replace(/^initdb:\s*(error|fatal):\s*/i, ""));
  return (errors.length > 0 ? errors : lines.slice(-1)).join("; ") || "initdb failed without saying why";
}

async function initdbError(output: string, dataDir: string, runAs: RunAs): Promise<MlopsError> {
  const denied = /permission denied/i.test(output);
  const blocked = denied ? await firstBlockedFolder(foldersDownTo(dataDir), runAs) : undefined;
  return new MlopsError("EMBEDDED_INIT_FAILED", `Could not create the embedded database in ${dataDir}: ${initdbReason(output)}`, {
    exitCode: ExitCode.unavailable,
    hint: denied
      ? `The server runs as user "${runAs.user}", which cannot enter ${blocked ?? "that folder"}: let it pass (chmod o+x), set MLOPS_SHARED_DIR to a folder every user can enter, run mlops as a normal user, or set DATABASE_URL.`
      : "Check free disk space and the message above, or set DATABASE_URL to use another PostgreSQL server.",
    details: { dataDir, ...(blocked ? { blockedBy: blocked } : {}) },
  });
}

/** The configured port, else the one chosen before, else a free one chosen now and remembered. */
async function choosePort(portFile: string, configured?: number): Promise<number> {
  if (configured !== undefined) return configured;
  if (existsSync(portFile)) {
    const remembered = Number((await readFile(portFile, "utf8")).trim());
    if (Number.isInteger(remembered) && remembered > 0) return remembered;
  }
  const port = await freePort();
  await writeFile(portFile, `${port}\n`, { mode: 0o600 });
  return port;
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

async function startCluster(binDir: string, paths: ReturnType<typeof embeddedPaths>, runAs: RunAs, port: number): Promise<void> {
  await waitForDeadPostmaster(paths.dataDir);
  // Listen on loopback only, without a unix socket (no socket-folder permissions, no path limit).
  // A batch writes up to a million rows at once: more shared buffers and WAL room between
  // checkpoints keep a bulk load from stalling on checkpoint I/O.
  const settings = "-c shared_buffers=256MB -c max_wal_size=4GB -c checkpoint_completion_target=0.9";
  const result = await runPgProgram(
    path.join(binDir, "pg_ctl"),
    ["start", "-D", paths.dataDir, "-l", paths.logFile, "-w", "-t", "60", "-o", `-p ${port} -h 127.0.0.1 -k '' ${settings}`],
    runAs,
    true,
  );
  if (result.code === 0) return;
  const log = existsSync(paths.logFile) ? readFileSync(paths.logFile, "utf8").trim().split("\n").slice(-6).join("\n") : "";
  const portTaken = /could not (bind|create any TCP\/IP)|address already in use/i.test(log);
  throw new MlopsError(
    "EMBEDDED_START_FAILED",
    portTaken
      ? `The embedded PostgreSQL server could not listen on 127.0.0.1:${port}: another program uses that port.`
      : `The embedded PostgreSQL server did not start:\n${log || result.output.trim()}`,
    {
      exitCode: ExitCode.unavailable,
      hint: portTaken
        ? `Set "database": { "port": <free port> } in mlops.config.json (or delete ${paths.portFile} to pick a new one), then retry.`
        : `See the server log at ${paths.logFile}; check free disk space.`,
    },
  );
}

/**
 * After a `kill -9` the old postmaster.pid stays behind. PostgreSQL recovers by itself on the next
 * start, but refuses while the old PID still exists, and a zombie awaiting its reaper still
 * counts; wait for it, and remove the stale file if nothing ever reaps it.
 */
async function waitForDeadPostmaster(dataDir: string): Promise<void> {
  const pidFile = readPidFile(dataDir);
  if (pidFile === undefined) return;
  const deadline = Date.now() + 10_000;
  while (processState(pidFile.pid) !== undefined && Date.now() < deadline) {
    if (processState(pidFile.pid) !== "Z") return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  if (processState(pidFile.pid) === "Z") await rm(path.join(dataDir, "postmaster.pid"), { force: true });
}
