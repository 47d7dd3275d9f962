import type { CheckContext } from "./context.js";
import { CHECKS } from "./checks/index.js";
import { DEFINITIONS } from "./definitions.js";
import type { ChecklistItem } from "./parse.js";

export type ItemStatus = "pass" | "fail" | "signed" | "unsigned" | "n/a";

export interface ItemOutcome {
  number: number;
  section: string;
  subsection: string | null;
  text: string;
  kind: "auto" | "manual" | "na";
  status: ItemStatus;
  /** What was checked and found; the sign-off; or why the item does not apply. */
  evidence: string;
  /** How an Airflow/Docker item maps to this toolkit. */
  maps: string | null;
  signoff: { by: string; at: string; note: string | null } | null;
  durationMs: number;
}

export interface Signoff {
  itemKey: string;
  by: string;
  at: Date;
  note: string | null;
}

/**
 * Runs every check at once, each with its own time limit: a failing or hanging check never
 * holds up or hides the others. Manual items take their newest sign-off.
 */
export async function runChecklist(
  ctx: CheckContext,
  items: ChecklistItem[],
  signoffs: Map<string, Signoff>,
  timeoutMs: number,
): Promise<ItemOutcome[]> {
  return Promise.all(
    items.map(async (item): Promise<ItemOutcome> => {
      const definition = DEFINITIONS[item.key];
      const base = {
        number: item.number,
        section: item.section,
        subsection: item.subsection,
        text: item.text,
        maps: null as string | null,
        signoff: null,
        durationMs: 0,
      };
      if (!definition) return { ...base, kind: "manual", status: "unsigned", evidence: "this item has no verifier yet: sign it off" };
      if (definition.kind === "na") return { ...base, kind: "na", status: "n/a", evidence: definition.reason };
      if (definition.kind === "manual") {
        const signoff = signoffs.get(item.key);
        return signoff
          ? {
              ...base,
              kind: "manual",
              status: "signed",
              evidence: `signed by ${signoff.by} at ${signoff.at.toISOString()}${signoff.note ? `: ${signoff.note}` : ""}`,
              signoff: { by: signoff.by, at: signoff.at.toISOString(), note: signoff.note },
            }
          : {
              ...base,
              kind: "manual",
              status: "unsigned",
              evidence: definition.guidance ? `needs a sign-off. ${definition.guidance}` : "needs a sign-off",
            };
      }
      const started = performance.now();
      let timer: NodeJS.Timeout | undefined;
      try {
        const result = await Promise.race([
          CHECKS[definition.check](ctx),
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs / 1000} s`)), timeoutMs);
          }),
        ]);
        return {
          ...base,
          kind: "auto",
          maps: definition.maps ?? null,
          status: result.notApplicable ? "n/a" : result.ok ? "pass" : "fail",
          evidence: result.evidence,
          durationMs: performance.now() - started,
        };
      } catch (error) {
        return {
          ...base,
          kind: "auto",
          maps: definition.maps ?? null,
          status: "fail",
          evidence: `the check failed: ${(error as Error).message}`,
          durationMs: performance.now() - started,
        };
      } finally {
        clearTimeout(timer);
      }
    }),
  );
}
