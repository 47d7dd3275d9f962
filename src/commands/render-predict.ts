import { chalk, type Output } from "../terminal/output.js";
import type { PredictSummary } from "../pipeline/predict/run.js";

const n = (value: number) => value.toLocaleString("en-US");
const pct = (value: number) => `${(value * 100).toFixed(1)}%`;

/** How often a plain progress line is printed off a TTY (CI logs want a few lines, not one per chunk). */
const PLAIN_EVERY_MS = 5000;

/**
 * Progress of a scoring run on stderr: a spinner with rows, rows/s and time left on a TTY;
 * plain lines every few seconds off a TTY; nothing under --json off a TTY.
 */
export function progressReporter(out: Output): { update: (p: { rows: number; bytes: number; totalBytes?: number }) => void; stop: () => void } {
  const started = performance.now();
  const tty = process.stderr.isTTY === true;
  const spinner = tty ? out.spinner("Scoring") : undefined;
  let lastPlain = started;
  const text = (p: { rows: number; bytes: number; totalBytes?: number }) => {
    const seconds = (performance.now() - started) / 1000;
    const rate = seconds > 0 ? p.rows / seconds : 0;
    const share = p.totalBytes ? Math.min(1, p.bytes / p.totalBytes) : undefined;
    const left =
      share !== undefined && share > 0.01 ? ` (${(share * 100).toFixed(0)}%, about ${Math.ceil((seconds / share) * (1 - share))} s left)` : "";
    return `Scoring: ${n(p.rows)} rows, ${n(Math.round(rate))} rows/s${left}`;
  };
  return {
    update(p) {
      if (spinner) spinner.text = text(p);
      else if (!out.json && performance.now() - lastPlain >= PLAIN_EVERY_MS) {
        lastPlain = performance.now();
        out.note(text(p));
      }
    },
    stop: () => spinner?.stop(),
  };
}

/** The summary a person reads after `mlops predict`. */
export function renderPredict(s: PredictSummary): string {
  const r = s.rows;
  const lines = [
    `scored      ${n(r.scored)} of ${n(r.read)} rows with ${s.model.version} in ${s.seconds.toFixed(2)} s (${n(Math.round(r.read / Math.max(s.seconds, 1e-9)))} rows/s)  ${chalk.dim(s.source)}`,
    `positive    ${s.positiveRate === null ? "-" : pct(s.positiveRate)} at threshold ${s.model.threshold}`,
    `output      ${s.output === "-" ? "standard output" : s.output} (${s.format})${s.logged > 0 ? `; ${n(s.logged)} rows logged as batch predictions` : ""}`,
  ];
  if (r.rejected > 0) {
    const over = s.status === "too_many_invalid";
    lines.push(
      `rejected    ${(over ? chalk.red : chalk.yellow)(`${n(r.rejected)} rows (${pct(s.invalidShare)}${over ? `, over the limit of ${pct(s.maxInvalid)}` : ""})`)}${s.rejects ? ` -> ${s.rejects}` : chalk.dim(" (pass --rejects FILE to keep them with their reasons)")}`,
    );
    for (const reason of s.topReasons.slice(0, 5))
      lines.push(`              ${String(reason.count).padStart(7)}  ${reason.field ?? "(row)"}: ${reason.example}`);
  }
  lines.push(chalk.dim(`model       sha256 ${s.model.checksum.slice(0, 16)}… (weights.bin)`));
  return lines.join("\n");
}
