import { spawn } from "node:child_process";
import type { MlopsConfig } from "../config/schema.js";
import { redactUrl } from "../redact.js";
import type { AlertReport, RunResult } from "./run-result.js";

export type { AlertReport } from "./run-result.js";

const TIMEOUT_MS = 15_000;

/**
 * Tells someone a run failed: POSTs the run's details as JSON to the configured webhook and/or
 * runs the configured command with the same JSON on standard input. An alert that cannot be
 * delivered is reported, never turned into a different run outcome.
 */
export async function sendAlerts(alerts: MlopsConfig["alerts"], run: Omit<RunResult, "alerts">): Promise<AlertReport | null> {
  if (!alerts.webhook && !alerts.command) return null;
  const document = JSON.stringify({ event: "pipeline_run_failed", ...run });
  const [webhook, command] = await Promise.all([
    alerts.webhook ? postWebhook(alerts.webhook, document) : null,
    alerts.command ? runCommand(alerts.command, document) : null,
  ]);
  return { webhook, command };
}

async function postWebhook(url: string, body: string): Promise<NonNullable<AlertReport["webhook"]>> {
  const shown = redactUrl(url);
  try {
    const response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    await response.text();
    return { url: shown, ok: response.ok, detail: `HTTP ${response.status}` };
  } catch (error) {
    return { url: shown, ok: false, detail: (error as Error).message };
  }
}

function runCommand(command: string, input: string): Promise<NonNullable<AlertReport["command"]>> {
  return new Promise((resolve) => {
    const child = spawn("/bin/sh", ["-c", command], { stdio: ["pipe", "ignore", "pipe"], timeout: TIMEOUT_MS });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("error", (error) => resolve({ ok: false, detail: error.message }));
    child.on("close", (code) => resolve({ ok: code === 0, detail: code === 0 ? "exit 0" : `exit ${code}: ${stderr.trim().slice(0, 500)}` }));
    child.stdin.on("error", () => undefined);
    child.stdin.end(input);
  });
}
