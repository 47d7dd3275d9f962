// Serving figures (issue "Serving"): POST /predict with the prediction log on, 16 connections for
// DURATION seconds (default 15). Targets on this 2-core machine: >= 15,000 req/s, p99 <= 10 ms,
// RSS < 250 MB. A bare node:http JSON echo server is measured in the same run, so the figures can
// be read as a share of what Node plus this load generator can do here at all. For scale: a
// FastAPI + scikit-learn server that INSERTs each prediction did 807 req/s, p99 138 ms.
//
// The load generator is wrk when it is on PATH (Debian: apt-get install wrk), else autocannon
// (LOADGEN=wrk|autocannon chooses). wrk is C and costs about a third of autocannon's CPU per
// request, CPU that the server under test shares on 2 cores; the "CPU over the ... s" lines show
// what each party used, so runs with either can be compared per request.
//
// Extra lines, not targets: --no-log-predictions (what the log costs) and --workers 2 (the
// workers share the 2 cores with the load generator and PostgreSQL).
//
// After each logged run the server gets SIGTERM and must exit 0 having written every prediction:
// the rows in `predictions` are compared with the 2xx responses the load generator counted.
import { spawn, spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import autocannon from "autocannon";
import pg from "pg";
import { CLI, cli } from "./lib.mjs";

const DURATION = Number(process.env.DURATION ?? 15);
const CONNECTIONS = 16;
const WARMUP_SECONDS = 2;
const TARGET = { rps: 15_000, p99Ms: 10, rssMb: 250 };

const dir = mkdtempSync(path.join(os.tmpdir(), "mlops-bench-serve-"));
// As root the embedded server runs as another user, which must be able to enter the folder.
chmodSync(dir, 0o755);
/** Every child this script starts, so `finally` can stop them whatever failed. */
const children = new Set();

// ---------------------------------------------------------------------------------------------
// Request bodies: random valid rows of the project's schema, built before the run so the load
// generator spends its (shared) CPU on HTTP rather than on Math.random and JSON.stringify.

function bodies(config, count) {
  let seed = 1;
  const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
  const gaussian = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  return Array.from({ length: count }, () => {
    const features = {};
    for (const feature of config.features) {
      features[feature.name] =
        feature.type === "categorical" ? feature.values[Math.floor(random() * feature.values.length)] : Math.round(gaussian() * 1000) / 1000;
    }
    return JSON.stringify({ features });
  });
}

// ---------------------------------------------------------------------------------------------
// Servers under test, each a child process so it never shares the load generator's event loop.

const ECHO_SERVER = `
  const http = require("node:http");
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const body = JSON.stringify(JSON.parse(Buffer.concat(chunks).toString("utf8")));
      res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
      res.end(body);
    });
  });
  server.listen(0, "127.0.0.1", () => console.log(JSON.stringify({ url: "http://127.0.0.1:" + server.address().port, pid: process.pid })));
  process.on("SIGTERM", () => server.close(() => process.exit(0)));
`;

/** Spawns a server that prints one JSON line `{url, pid, ...}` on stdout once it listens. */
function startServer(args, options = {}) {
  const child = spawn(process.execPath, args, {
    cwd: options.cwd,
    env: { ...process.env, NO_COLOR: "1", CI: "true", DATABASE_URL: "" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.add(child);
  const exited = new Promise((resolve) =>
    child.once("exit", (code, signal) => {
      children.delete(child);
      resolve({ code, signal });
    }),
  );
  let stderr = "";
  child.stderr.on("data", (chunk) => (stderr += chunk));
  const ready = new Promise((resolve, reject) => {
    let stdout = "";
    child.stdout.on("data", (chunk) => {
      stdout += chunk;
      // `--json` prints one (possibly pretty-printed) document: wait until it parses.
      try {
        resolve(JSON.parse(stdout));
      } catch {
        /* not complete yet */
      }
    });
    exited.then(({ code, signal }) => reject(new Error(`server exited (${code ?? signal}) before listening: ${stderr}`)));
  });
  return { child, ready, exited, stderr: () => stderr };
}

async function stopServer(server) {
  server.child.kill("SIGTERM");
  const timeout = setTimeout(() => server.child.kill("SIGKILL"), 30_000);
  const result = await server.exited;
  clearTimeout(timeout);
  return result;
}

// ---------------------------------------------------------------------------------------------
// Memory: the server's resident set, summed over its process tree (the cluster primary plus its
// workers), sampled during the run; VmHWM at the end catches peaks between samples.

function processTree(pid) {
  const pids = [pid];
  for (let i = 0; i < pids.length; i += 1) {
    try {
      for (const task of readdirSync(`/proc/${pids[i]}/task`)) {
        const children = readFileSync(`/proc/${pids[i]}/task/${task}/children`, "utf8").trim();
        if (children) pids.push(...children.split(/\s+/).map(Number));
      }
    } catch {
      /* the process ended meanwhile */
    }
  }
  return pids;
}

function statusKb(pid, field) {
  try {
    const match = readFileSync(`/proc/${pid}/status`, "utf8").match(new RegExp(`^${field}:\\s+(\\d+) kB`, "m"));
    return match ? Number(match[1]) : 0;
  } catch {
    return 0;
  }
}

function sampleRss(pid) {
  let peakKb = 0;
  const timer = setInterval(() => {
    peakKb = Math.max(
      peakKb,
      processTree(pid).reduce((sum, p) => sum + statusKb(p, "VmRSS"), 0),
    );
  }, 250);
  return () => {
    clearInterval(timer);
    const tree = processTree(pid);
    return {
      sampledPeakMb: peakKb / 1024,
      hwmSumMb: tree.reduce((sum, p) => sum + statusKb(p, "VmHWM"), 0) / 1024,
      hwmMaxMb: Math.max(...tree.map((p) => statusKb(p, "VmHWM"))) / 1024,
    };
  };
}

// ---------------------------------------------------------------------------------------------
// CPU: where the 2 cores go during a run (server, PostgreSQL writing the log, load generator).

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

function cpuSeconds(pid) {
  let ticks = 0;
  for (const [i, p] of processTree(pid).entries()) {
    try {
      const fields = readFileSync(`/proc/${p}/stat`, "utf8").split(") ")[1].split(" ");
      // utime, stime; for the root also cutime, cstime: children that ended (short-lived backends).
      const used = Number(fields[11]) + Number(fields[12]);
      ticks += i === 0 ? used + Number(fields[13]) + Number(fields[14]) : used;
    } catch {
      /* ended meanwhile */
    }
  }
  return ticks / TICKS_PER_SECOND;
}

/** CPU time the whole machine spent busy (user, nice, system, irq, softirq, steal). */
function machineBusySeconds() {
  const [user, nice, system, , , irq, softirq, steal] = readFileSync("/proc/stat", "utf8").split("\n")[0].split(/\s+/).slice(1).map(Number);
  return (user + nice + system + irq + softirq + steal) / TICKS_PER_SECOND;
}

/**
 * Also reports what other programs used meanwhile: on a shared 2-core machine a build or test run
 * elsewhere can halve the figures, and this makes such a run recognisable.
 */
function cpuMeter(pids) {
  const start = pids.map(cpuSeconds);
  const machineStart = machineBusySeconds();
  const self = selfAndReapedChildrenSeconds();
  return () => {
    const processes = pids.map((pid, i) => cpuSeconds(pid) - start[i]);
    // This process (autocannon runs in it) and wrk, once it has exited and been reaped.
    const loadGenerator = selfAndReapedChildrenSeconds() - self;
    const others = machineBusySeconds() - machineStart - loadGenerator - processes.reduce((a, b) => a + b, 0);
    return { processes, loadGenerator, others: Math.max(0, others) };
  };
}

// ---------------------------------------------------------------------------------------------
// Load.

const LOADGEN = process.env.LOADGEN ?? (spawnSync("wrk", ["--version"]).error ? "autocannon" : "wrk");

function percentile(sorted, q) {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
}

/** CPU seconds of this process and of the children it has waited for (a finished wrk). */
function selfAndReapedChildrenSeconds() {
  const fields = readFileSync("/proc/self/stat", "utf8").split(") ")[1].split(" ");
  return (Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14])) / TICKS_PER_SECOND;
}

function autocannonLoad(url, pool, duration) {
  let next = 0;
  const instance = autocannon({
    url,
    connections: CONNECTIONS,
    duration,
    method: "POST",
    headers: { "content-type": "application/json" },
    requests: [{ setupRequest: (request) => ({ ...request, body: pool[next++ % pool.length] }) }],
  });
  // autocannon's histogram keeps whole milliseconds; keep the exact times for sub-ms percentiles.
  const latencies = [];
  instance.on("response", (_client, status, _bytes, ms) => status < 300 && latencies.push(ms));
  return instance.then((result) => {
    latencies.sort((a, b) => a - b);
    return {
      rps: result.requests.average,
      p50: percentile(latencies, 0.5),
      p99: percentile(latencies, 0.99),
      ok: result["2xx"],
      non2xx: result.non2xx,
      errors: result.errors,
      timeouts: result.timeouts,
      sent: result.requests.sent,
    };
  });
}

/** wrk's script: every body of the pool as a ready request, sent in turn on each connection. */
function wrkScript(pool) {
  const file = path.join(dir, "load.lua");
  const bodies = pool.map((body) => `[==[${body}]==]`).join(",\n");
  writeFileSync(
    file,
    `
    local bodies = {${bodies}}
    local requests = {}
    local index = 0
    function init(args)
      for i, body in ipairs(bodies) do
        requests[i] = wrk.format("POST", nil, { ["content-type"] = "application/json" }, body)
      end
    end
    function request()
      index = index % #requests + 1
      return requests[index]
    end
    done = function(summary, latency, requests)
      io.write(string.format("RESULT %d %d %d %d %d %d %d\\n", summary.requests, summary.duration,
        summary.errors.status, summary.errors.connect + summary.errors.read + summary.errors.write,
        summary.errors.timeout, latency:percentile(50), latency:percentile(99)))
    end
  `,
  );
  return file;
}

function wrkLoad(url, script, duration) {
  return new Promise((resolve, reject) => {
    const child = spawn("wrk", ["-t1", `-c${CONNECTIONS}`, `-d${duration}s`, "-s", script, url], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stdout += chunk));
    child.once("error", reject);
    child.once("exit", (code) => {
      const line = stdout.split("\n").find((l) => l.startsWith("RESULT "));
      if (code !== 0 || !line) return reject(new Error(`wrk exited ${code}: ${stdout}`));
      const [requests, durationUs, non2xx, errors, timeouts, p50Us, p99Us] = line.split(" ").slice(1).map(Number);
      resolve({
        rps: requests / (durationUs / 1e6),
        p50: p50Us / 1000,
        p99: p99Us / 1000,
        ok: requests - non2xx,
        non2xx,
        errors,
        timeouts,
        // wrk counts answered requests; up to one per connection was in flight when it stopped.
        sent: requests + CONNECTIONS,
      });
    });
  });
}

/** The pool's wrk script, written once: every run sends the same bodies. */
let wrkScriptFile;

function load(url, pool, duration) {
  if (LOADGEN === "autocannon") return autocannonLoad(url, pool, duration);
  wrkScriptFile ??= wrkScript(pool);
  return wrkLoad(url, wrkScriptFile, duration);
}

/** A short unmeasured run first, so every server is compared with its JIT warm. */
async function measure(url, pool, onMeasured = () => undefined) {
  const warmup = await load(url, pool, WARMUP_SECONDS);
  const started = onMeasured();
  const figures = await load(url, pool, DURATION);
  return {
    ...figures,
    // Both runs, for reconciling with the prediction log.
    okTotal: warmup.ok + figures.ok,
    sentTotal: warmup.sent + figures.sent,
    cpu: started?.(),
  };
}

// ---------------------------------------------------------------------------------------------
// Reporting.

const n = (v) => Math.round(v).toLocaleString("en-US");
const verdict = (ok) => (ok ? "met" : "MISSED");

function line(name, figures, echo, targets) {
  const rpsRatio = echo ? `, ${((figures.rps / echo.rps) * 100).toFixed(0)}% of the echo server's` : "";
  const p99Ratio = echo ? `, ${(figures.p99 / echo.p99).toFixed(1)}x the echo server's` : "";
  const rps = targets ? ` (target >= ${n(TARGET.rps)}: ${verdict(figures.rps >= TARGET.rps)})` : "";
  const p99 = targets ? ` (target <= ${TARGET.p99Ms} ms: ${verdict(figures.p99 <= TARGET.p99Ms)})` : "";
  console.log(`${name.padEnd(34)} ${n(figures.rps)} req/s${rpsRatio}${rps}`);
  console.log(`${"".padEnd(34)} p99 ${figures.p99.toFixed(2)} ms${p99Ratio}${p99}; p50 ${figures.p50.toFixed(2)} ms`);
  console.log(`${"".padEnd(34)} ${n(figures.ok)} 2xx, ${figures.non2xx} non-2xx, ${figures.errors} errors, ${figures.timeouts} timeouts`);
}

/**
 * CPU seconds per party, and per request: unlike req/s, the cost per request hardly changes when
 * other programs take cores away, so it shows what makes one server slower than another.
 */
function cpuLine(figures, parties) {
  const requests = figures.ok + figures.non2xx;
  const us = (seconds) => `${((seconds / requests) * 1e6).toFixed(0)} µs/req`;
  const all = { ...parties, "load generator": figures.cpu.loadGenerator };
  const each = Object.entries(all).map(([name, seconds]) => `${name} ${seconds.toFixed(1)} s (${us(seconds)})`);
  return `${each.join(", ")}, other programs ${figures.cpu.others.toFixed(1)} s, of ${os.cpus().length * DURATION} s`;
}

function databaseStatus() {
  return JSON.parse(cli(["db", "status", "--json"], { cwd: dir }).stdout);
}

async function countPredictions() {
  const status = databaseStatus();
  const { password } = JSON.parse(readFileSync(path.join(dir, ".mlops/credentials.json"), "utf8"));
  const client = new pg.Client({ connectionString: status.url.replace("***", encodeURIComponent(password)) });
  await client.connect();
  try {
    return Number((await client.query("SELECT count(*) AS n FROM predictions")).rows[0].n);
  } finally {
    await client.end();
  }
}

/** One `mlops serve` run: load, memory, graceful stop, and (when logging) the log's completeness. */
async function benchServe(name, version, pool, echo, { workers = 1, logPredictions = true, targets = false } = {}) {
  const rowsBefore = logPredictions ? await countPredictions() : 0;
  const args = [CLI, "serve", "--model", version, "--port", "0", "--workers", String(workers), "--json"];
  if (!logPredictions) args.push("--no-log-predictions");
  const server = startServer(args, { cwd: dir });
  const { url } = await server.ready;
  const memory = sampleRss(server.child.pid);
  const postgresPid = databaseStatus().server.pid;
  const figures = await measure(`${url}/predict`, pool, () => cpuMeter([server.child.pid, postgresPid]));
  const rss = memory();
  const stopped = await stopServer(server);

  line(name, figures, echo, targets);
  const rssTarget = targets ? ` (target < ${TARGET.rssMb} MB: ${verdict(rss.hwmSumMb < TARGET.rssMb)})` : "";
  const perProcess = workers > 1 ? `, largest process ${rss.hwmMaxMb.toFixed(0)} MB` : "";
  console.log(
    `${"".padEnd(34)} RSS peak ${rss.hwmSumMb.toFixed(0)} MB over ${workers > 1 ? `primary + ${workers} workers` : "the process"} (VmHWM; sampled ${rss.sampledPeakMb.toFixed(0)} MB)${perProcess}${rssTarget}`,
  );
  console.log(
    `${"".padEnd(34)} SIGTERM: exit ${stopped.code ?? stopped.signal} (${stopped.code === 0 ? "ok" : `FAILED: ${server.stderr().trim().split("\n").slice(-5).join(" | ")}`})`,
  );
  const [serverCpu, postgresCpu] = figures.cpu.processes;
  console.log(`${"".padEnd(34)} CPU over the ${DURATION} s: ${cpuLine(figures, { server: serverCpu, PostgreSQL: postgresCpu })}`);
  if (logPredictions) {
    const rows = (await countPredictions()) - rowsBefore;
    // When its time is up the load generator hangs up on the requests still in flight; the server
    // answers and logs them anyway. So every 2xx must be logged, and at most every request sent.
    const inFlight = figures.sentTotal - figures.okTotal;
    const complete = rows >= figures.okTotal && rows <= figures.sentTotal;
    const extra =
      rows > figures.okTotal ? ` (+${rows - figures.okTotal} of at most ${inFlight} requests in flight when the load generator hung up)` : "";
    console.log(
      `${"".padEnd(34)} prediction log: ${n(rows)} rows for ${n(figures.okTotal)} 2xx responses incl. warm-up: ${complete ? "match" : "MISMATCH"}${extra}`,
    );
  }
  return figures;
}

/**
 * `mlops db stop`, or, when the CLI cannot run (dist/ is rebuilt by someone meanwhile), a fast
 * shutdown signal to the postmaster, so no server is left running on a deleted folder.
 */
async function stopDatabase() {
  if (cli(["db", "stop"], { cwd: dir, allowFailure: true }).status === 0) return;
  let pid;
  try {
    pid = Number(readFileSync(path.join(dir, ".mlops/pgdata/postmaster.pid"), "utf8").split("\n")[0]);
    process.kill(pid, "SIGINT");
  } catch {
    return; // never started, or already gone
  }
  for (let waited = 0; waited < 30_000; waited += 100) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

try {
  cli(["init"], { cwd: dir });
  cli(["seed", "5000", "--seed", "1"], { cwd: dir });
  const { version } = JSON.parse(cli(["train", "--epochs", "3", "--pretrain-epochs", "1", "--json"], { cwd: dir }).stdout);
  const config = JSON.parse(readFileSync(path.join(dir, "mlops.config.json"), "utf8"));
  const pool = bodies(config, 4096);
  console.log(
    `POST /predict, ${CONNECTIONS} connections, ${DURATION} s each (after ${WARMUP_SECONDS} s warm-up), load from ${LOADGEN}, ${os.cpus().length} CPUs, model ${version}`,
  );

  const echoServer = startServer(["-e", ECHO_SERVER]);
  const { url: echoUrl, pid: echoPid } = await echoServer.ready;
  const echo = await measure(echoUrl, pool, () => cpuMeter([echoPid]));
  await stopServer(echoServer);
  line("node:http JSON echo (baseline)", echo);
  console.log(`${"".padEnd(34)} CPU over the ${DURATION} s: ${cpuLine(echo, { server: echo.cpu.processes[0] })}`);

  await benchServe("mlops serve, logging on", version, pool, echo, { targets: true });
  await benchServe("mlops serve --no-log-predictions", version, pool, echo, { logPredictions: false });
  await benchServe("mlops serve --workers 2, logging", version, pool, echo, { workers: 2 });
  console.log("For scale: FastAPI + scikit-learn, INSERT per prediction: 807 req/s, p99 138 ms on this machine.");
} finally {
  // The whole tree: a cluster primary killed outright could leave its workers holding the port.
  for (const child of children)
    for (const pid of processTree(child.pid).reverse()) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        /* already gone */
      }
    }
  await stopDatabase();
  rmSync(dir, { recursive: true, force: true });
}
