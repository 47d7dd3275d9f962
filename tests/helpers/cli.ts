import { spawn, type ChildProcess, type SpawnOptions } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import pg from "pg";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const CLI = fileURLToPath(new URL("../../dist/bin/mlops.js", import.meta.url));

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  cwd: string;
  env?: NodeJS.ProcessEnv;
  input?: string;
  uid?: number;
  gid?: number;
  /** Another build of the CLI to run (a copy installed elsewhere); the repository's by default. */
  cli?: string;
}

/**
 * Runs the built CLI as a user would, in a subprocess. DATABASE_URL is removed unless a test
 * passes it, so each test chooses between the embedded database and an external one.
 */
export function runCli(args: string[], options: CliOptions): Promise<CliResult> {
  const env: NodeJS.ProcessEnv = { ...process.env, CI: "true", NO_COLOR: "1", FORCE_COLOR: "0" };
  delete env.DATABASE_URL;
  Object.assign(env, options.env);
  const spawnOptions: SpawnOptions = { cwd: options.cwd, env, stdio: ["pipe", "pipe", "pipe"], uid: options.uid, gid: options.gid };
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [options.cli ?? CLI, ...args], spawnOptions);
    let stdout = "";
    let stderr = "";
    child.stdout?.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin?.end(options.input ?? "");
  });
}

/** Parses stdout as the single JSON document --json promises, failing loudly otherwise. */
export function json<T = Record<string, unknown>>(result: CliResult): T {
  try {
    return JSON.parse(result.stdout) as T;
  } catch {
    throw new Error(`stdout is not one JSON document:\n${result.stdout}\n--- stderr ---\n${result.stderr}`);
  }
}

/** A temp project folder; `cleanup` stops its embedded server (if any) and removes it. */
export function tempProject(prefix = "mlops-e2e-"): { dir: string; cleanup(): Promise<void> } {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  chmodSync(dir, 0o755);
  return {
    dir,
    async cleanup() {
      await runCli(["db", "stop"], { cwd: dir });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface RunningServer {
  child: ChildProcess;
  url: string;
  stderr: () => string;
}

/** Starts `mlops serve --port 0 --json` and resolves with its URL once it prints its JSON document. */
export function startServe(cwd: string, args: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<RunningServer> {
  const child = spawn(process.execPath, [CLI, "serve", "--port", "0", "--json", ...args], {
    cwd,
    env: { ...process.env, NO_COLOR: "1", DATABASE_URL: "", ...env },
  });
  let stdout = "";
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.stdout!.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      try {
        resolve({ child, url: JSON.parse(stdout).url, stderr: () => stderr });
      } catch {
        // Not a whole JSON document yet.
      }
    });
    child.on("exit", (code) => reject(new Error(`serve exited ${code}: ${stderr}`)));
  });
}

/** SIGTERM, then the exit code. */
export function stopServe(child: ChildProcess): Promise<number | null> {
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  child.kill("SIGTERM");
  return exited;
}

/**
 * A connection to a test project's embedded database, as a user would make one: the URL from
 * `mlops db status --json` with the password from .mlops/credentials.json. The caller ends it.
 */
export async function connectProject(dir: string): Promise<pg.Client> {
  const status = json<{ url: string }>(await runCli(["db", "status", "--json"], { cwd: dir }));
  const { password } = JSON.parse(readFileSync(path.join(dir, ".mlops", "credentials.json"), "utf8")) as { password: string };
  const client = new pg.Client({ connectionString: status.url.replace("***", encodeURIComponent(password)) });
  await client.connect();
  return client;
}

/** One valid row of the sample project's schema (`mlops init` without --from), as /predict takes it. */
export const SAMPLE_ROW = {
  x01: 1,
  x02: -2,
  x03: 3.5,
  x04: 0,
  x05: 10,
  x06: -7,
  x07: 2,
  x08: 1,
  x09: 0.5,
  x10: 3,
  x11: 1,
  x12: 2,
  x13: 3,
  x14: 4,
  x15: 5,
  x16: 6,
  x17: 7,
  x18: 8,
  x19: 9,
  x20: 10,
  segment: "b",
  channel: "app",
};
