/** Sizes as people read them: 7.5 MB. */
export function formatBytes(bytes: number): string {
  const units = ["B", "kB", "MB", "GB", "TB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
}

/** Counts as people read them: 12,345 (the same grouping on every machine, whatever its locale). */
export function formatNumber(value: number): string {
  return value.toLocaleString("en-US");
}

/** A count with its noun, singular for one: "1 version", "2,000 batches". */
export function formatCount(value: number, singular: string, plural = `${singular}s`): string {
  return `${formatNumber(value)} ${value === 1 ? singular : plural}`;
}

/** Seconds with one decimal: 12.3 s. */
export function formatSeconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

/** A UTC timestamp to the minute: 2026-11-30 19:20. */
export function formatMinute(iso: string): string {
  return iso.slice(0, 16).replace("T", " ");
}

/** Cuts text to `width` characters, marking the cut with an ellipsis. */
export function truncate(text: string, width: number): string {
  if (width <= 0) return "";
  return text.length <= width ? text : `${text.slice(0, Math.max(0, width - 1))}…`;
}
