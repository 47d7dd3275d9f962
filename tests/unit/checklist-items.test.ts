import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { DEFINITIONS } from "../../src/checklist/definitions.js";
import { CHECKS } from "../../src/checklist/checks/index.js";
import { CHECKLIST_FILE, loadChecklist, parseChecklist } from "../../src/checklist/parse.js";

/** The repository's own copy of the user's checklist: the file the CLI ships, present in any clone. */
const OWN = fileURLToPath(new URL("../../checklist/DEPLOYMENT_CHECKLIST.md", import.meta.url));

describe("the deployment checklist", () => {
  it("ships every item of the repository's checklist in its own words and section", () => {
    expect(path.resolve(CHECKLIST_FILE)).toBe(path.resolve(OWN));
    const text = readFileSync(OWN, "utf8");
    // Read line by line here, apart from the parser: every box and both sign-off lines, in order.
    const boxes = text
      .split("\n")
      .map((line) => line.trim())
      .filter((line) => /^- \[[ xX]\] /.test(line) || /^(Deployment completed by|Verified by):/.test(line))
      .map((line) => (line.startsWith("- [") ? line.slice(6).trim() : line.slice(0, line.indexOf(":"))));
    const items = loadChecklist();
    expect(items.map((i) => i.text)).toEqual(boxes);
    const headings = text
      .split("\n")
      .filter((line) => line.startsWith("## "))
      .map((line) => line.slice(3).trim());
    expect([...new Set(items.map((i) => i.section))]).toEqual(headings.filter((h) => items.some((i) => i.section === h)));
    expect(items.every((i) => i.key.startsWith(`${i.section} / `) && i.key.endsWith(` / ${i.text}`))).toBe(true);
  });

  it("has a verifier, a sign-off or a reason for every item, and nothing else", () => {
    const keys = loadChecklist().map((i) => i.key);
    expect(keys).toHaveLength(139);
    expect(Object.keys(DEFINITIONS).sort()).toEqual([...keys].sort());
    for (const definition of Object.values(DEFINITIONS)) {
      if (definition.kind === "auto") expect(CHECKS[definition.check], definition.check).toBeTypeOf("function");
    }
  });

  it("reads sections, subsections, items and the two sign-off lines", () => {
    const items = parseChecklist(
      "## A\n### B\n- [ ] one\n- [x] two\n## Sign-Off\nDeployment completed by: ____ Date: ___\nVerified by: __ Date: __\n",
    );
    expect(items.map((i) => i.key)).toEqual(["A / B / one", "A / B / two", "Sign-Off / Deployment completed by", "Sign-Off / Verified by"]);
    expect(items.map((i) => i.number)).toEqual([1, 2, 3, 4]);
  });
});
