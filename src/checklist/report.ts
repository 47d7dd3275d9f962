import { chalk } from "../terminal/output.js";
import type { ItemOutcome } from "./run.js";

export interface ChecklistSummary {
  passed: number;
  failed: number;
  signed: number;
  unsigned: number;
  notApplicable: number;
  /** Exit 0 needs every automatic check to pass (and, with --strict, every manual item signed). */
  ok: boolean;
}

export function summarize(items: ItemOutcome[], strict: boolean): ChecklistSummary {
  const count = (status: ItemOutcome["status"]) => items.filter((i) => i.status === status).length;
  const summary = { passed: count("pass"), failed: count("fail"), signed: count("signed"), unsigned: count("unsigned"), notApplicable: count("n/a") };
  return { ...summary, ok: summary.failed === 0 && (!strict || summary.unsigned === 0) };
}

const MARKS: Record<ItemOutcome["status"], string> = {
  pass: chalk.green("✓ pass "),
  fail: chalk.red("✗ FAIL "),
  signed: chalk.green("✓ signed"),
  unsigned: chalk.yellow("○ manual"),
  "n/a": chalk.dim("- n/a  "),
};

/** The terminal view: by section, one line per item with its evidence. */
export function renderChecklist(items: ItemOutcome[], summary: ChecklistSummary): string {
  const lines: string[] = [];
  let heading = "";
  for (const item of items) {
    const current = [item.section, item.subsection].filter(Boolean).join(" / ");
    if (current !== heading) {
      heading = current;
      lines.push("", chalk.bold(heading));
    }
    const evidence = item.status === "pass" || item.status === "n/a" || item.status === "signed" ? chalk.dim(item.evidence) : item.evidence;
    lines.push(`  ${MARKS[item.status]} ${String(item.number).padStart(3)}. ${item.text}`);
    lines.push(`               ${evidence}${item.maps ? chalk.dim(` [${item.maps}]`) : ""}`);
  }
  lines.push(
    "",
    `${summary.passed} passed, ${summary.failed} failed, ${summary.signed} signed, ${summary.unsigned} awaiting sign-off, ${summary.notApplicable} not applicable`,
    summary.ok ? chalk.green("Checklist: OK") : chalk.red("Checklist: NOT OK"),
  );
  if (summary.unsigned > 0) lines.push(chalk.dim('Sign manual items with: mlops checklist sign <number> --by "Your Name" [--note "..."]'));
  return lines.join("\n");
}

/** The user's checklist, filled in: [x] for passed or signed items, each with its evidence. */
export function renderMarkdown(markdown: string, items: ItemOutcome[]): string {
  // Items are matched by their position in the file; with --only, the others stay as they were.
  const byNumber = new Map(items.map((i) => [i.number, i]));
  let number = 0;
  const out: string[] = [];
  for (const line of markdown.split(/\r?\n/)) {
    const trimmed = line.trim();
    const isItem = /^- \[[ xX]\] /.test(trimmed);
    const signOff = /^(Deployment completed by|Verified by):/.exec(trimmed);
    if (!isItem && !signOff) {
      out.push(line);
      continue;
    }
    number += 1;
    const item = byNumber.get(number);
    if (!item) {
      out.push(line);
      continue;
    }
    if (signOff) {
      out.push(item.signoff ? `${signOff[1]}: ${item.signoff.by} Date: ${item.signoff.at.slice(0, 10)}` : line);
      continue;
    }
    const done = item.status === "pass" || item.status === "signed";
    const suffix =
      item.status === "n/a" ? " (not applicable)" : item.status === "fail" ? " (FAILED)" : item.status === "unsigned" ? " (awaiting sign-off)" : "";
    out.push(`- [${done ? "x" : " "}] ${item.text}${suffix}`);
    out.push(`  - ${item.evidence.replace(/\n/g, " ")}`);
  }
  return out.join("\n");
}

const xml = (text: string) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

/** JUnit XML, one testsuite per section: failed checks fail, n/a and unsigned items are skipped (failures with --strict). */
export function renderJunit(items: ItemOutcome[], strict: boolean): string {
  const sections = [...new Set(items.map((i) => i.section))];
  const suites = sections.map((section) => {
    const cases = items.filter((i) => i.section === section);
    const failures = cases.filter((i) => i.status === "fail" || (strict && i.status === "unsigned")).length;
    const body = cases
      .map((i) => {
        const name = xml(`${i.number}. ${[i.subsection, i.text].filter(Boolean).join(" / ")}`);
        const time = (i.durationMs / 1000).toFixed(3);
        let inner = `<system-out>${xml(i.evidence)}</system-out>`;
        if (i.status === "fail" || (strict && i.status === "unsigned")) inner = `<failure message="${xml(i.evidence)}"/>${inner}`;
        else if (i.status === "n/a" || i.status === "unsigned") inner = `<skipped message="${xml(i.evidence)}"/>${inner}`;
        return `    <testcase classname="${xml(section)}" name="${name}" time="${time}">${inner}</testcase>`;
      })
      .join("\n");
    return `  <testsuite name="${xml(section)}" tests="${cases.length}" failures="${failures}">\n${body}\n  </testsuite>`;
  });
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="mlops deployment checklist">\n${suites.join("\n")}\n</testsuites>\n`;
}
