import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { DEFINITIONS } from "../../src/checklist/definitions.js";
import { CHECKS } from "../../src/checklist/checks/index.js";
import { CHECKLIST_FILE, loadChecklist, parseChecklist } from "../../src/checklist/parse.js";

/** The user's own checklist, beside the project (../shared), as CI and every developer have it. */
const SHARED = fileURLToPath(new URL("../../../shared/DEPLOYMENT_CHECKLIST.md", import.meta.url));

describe("the deployment checklist", () => {
  it.runIf(existsSync(SHARED))("ships every item of the user's checklist in its own words and section", () => {
    const theirs = parseChecklist(readFileSync(SHARED, "utf8")).map((i) => i.key);
    const ours = loadChecklist().map((i) => i.key);
    expect(ours).toEqual(theirs);
    expect(readFileSync(CHECKLIST_FILE, "utf8")).toBe(readFileSync(SHARED, "utf8"));
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
