import { readFileSync } from "node:fs";
import path from "node:path";
import { PACKAGE_ROOT } from "../package-root.js";
/** The user's deployment checklist, shipped with mlops so its own words are always at hand. */
export const CHECKLIST_FILE = path.join(PACKAGE_ROOT, "checklist", "DEPLOYMENT_CHECKLIST.md");
const SIGN_OFF = /^(Deployment completed by|Verified by):/;
/**
 * Reads the checklist's items in order: `## Section`, `### Subsection`, `- [ ] item`, and the
 * two sign-off lines ("Deployment completed by", "Verified by"), which are items too.
 */
export function parseChecklist(markdown) {
    const items = [];
    let section = "";
    let subsection = null;
    for (const raw of markdown.split(/\r?\n/)) {
        const line = raw.trim();
        if (line.startsWith("## ")) {
            section = line.slice(3).trim();
            subsection = null;
        }
        else if (line.startsWith("### ")) {
            subsection = line.slice(4).trim();
        }
        else if (/^- \[[ xX]\] /.test(line)) {
            add(line.slice(6).trim());
        }
        else if (SIGN_OFF.test(line)) {
            add(line.match(SIGN_OFF)[1]);
        }
    }
    return items;
    function add(text) {
        items.push({ number: items.length + 1, section, subsection, text, key: [section, subsection, text].filter(Boolean).join(" / ") });
    }
}
export function loadChecklist(file = CHECKLIST_FILE) {
    return parseChecklist(readFileSync(file, "utf8"));
}
//# sourceMappingURL=parse.js.map