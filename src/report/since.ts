import { usageError } from "../errors.js";

const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;

/** "90m", "24h", "7d", "2w": how far back the time-based sections look. */
export function parseSince(text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([mhdw])\s*$/i.exec(text);
  const amount = match ? Number(match[1]) : NaN;
  if (!match || !(amount > 0)) {
    throw usageError("BAD_SINCE", `--since "${text}" is not a duration.`, "Give a number and a unit: 90m, 24h, 7d or 2w.");
  }
  return amount * UNIT_MS[match[2]!.toLowerCase() as keyof typeof UNIT_MS];
}
