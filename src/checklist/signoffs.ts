import type pg from "pg";
import type { PrismaClient } from "../db/prisma.js";
import { ExitCode, MlopsError, usageError } from "../errors.js";
import { DEFINITIONS } from "./definitions.js";
import type { ChecklistItem } from "./parse.js";
import type { Signoff } from "./run.js";
import { CheckContext } from "./context.js";

/** The newest sign-off of every item (the table is append-only; older ones stay as history). */
export async function loadSignoffs(db: { query: pg.ClientBase["query"] } | CheckContext): Promise<Map<string, Signoff>> {
  const sql = "SELECT DISTINCT ON (item_id) item_id, signed_by, created_at, note FROM checklist_signoffs ORDER BY item_id, id DESC";
  type Row = { item_id: string; signed_by: string; created_at: Date; note: string | null };
  const rows: Row[] = db instanceof CheckContext ? await db.query<Row>(sql) : (await db.query<Row>(sql)).rows;
  return new Map(rows.map((r) => [r.item_id, { itemKey: r.item_id, by: r.signed_by, at: r.created_at, note: r.note }]));
}

/** Finds an item by its number, its key, or its exact words (which must then be unique). */
export function findItem(items: ChecklistItem[], reference: string): ChecklistItem {
  const byNumber = /^\d+$/.test(reference) ? items.find((i) => i.number === Number(reference)) : undefined;
  if (byNumber) return byNumber;
  const wanted = reference.trim().toLowerCase();
  const matches = items.filter((i) => i.key.toLowerCase() === wanted || i.text.toLowerCase() === wanted);
  if (matches.length === 1) return matches[0]!;
  if (matches.length > 1) {
    throw usageError(
      "ITEM_AMBIGUOUS",
      `"${reference}" appears ${matches.length} times in the checklist.`,
      `Use its number: ${matches.map((m) => `${m.number} (${m.section} / ${m.subsection})`).join(", ")}.`,
    );
  }
  throw usageError("ITEM_UNKNOWN", `No checklist item "${reference}".`, "Use the number shown by `mlops checklist`, or the item's exact words.");
}

/**
 * Records a sign-off for a manual item. An item already signed is never silently overwritten:
 * replacing needs --replace, and the earlier sign-off stays in the history.
 */
export async function signItem(
  prisma: PrismaClient,
  item: ChecklistItem,
  by: string,
  note: string | undefined,
  replace: boolean,
): Promise<{ item: ChecklistItem; replaced: Signoff | null }> {
  const definition = DEFINITIONS[item.key];
  if (definition?.kind === "auto") {
    throw usageError(
      "ITEM_AUTOMATIC",
      `Item ${item.number} ("${item.text}") is verified by machine, not signed.`,
      "Run `mlops checklist` to check it.",
    );
  }
  if (definition?.kind === "na")
    throw usageError("ITEM_NOT_APPLICABLE", `Item ${item.number} does not apply: ${definition.reason}.`, "Nothing to sign.");
  const latest = await prisma.checklistSignoff.findFirst({ where: { itemId: item.key }, orderBy: { id: "desc" } });
  const existing: Signoff | null = latest ? { itemKey: latest.itemId, by: latest.signedBy, at: latest.createdAt, note: latest.note } : null;
  if (existing && !replace) {
    throw new MlopsError("ALREADY_SIGNED", `Item ${item.number} was signed by ${existing.by} at ${existing.at.toISOString()}.`, {
      exitCode: ExitCode.usage,
      hint: "Pass --replace to record a new sign-off (the earlier one is kept in the history).",
    });
  }
  await prisma.checklistSignoff.create({ data: { itemId: item.key, signedBy: by, note: note ?? null } });
  return { item, replaced: existing };
}
