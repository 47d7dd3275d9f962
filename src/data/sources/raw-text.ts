/**
 * What quarantine keeps of a record it could not parse: the first RAW_TEXT_LIMIT characters
 * (bytes for a broken CSV quote, which is cut before decoding), so one runaway record cannot fill
 * the table. A cut text ends with a marker saying how long the whole was, so nobody reading
 * `mlops data quarantine` takes it for the row.
 */
const RAW_TEXT_LIMIT = 1000;

export function cutRawText(text: string): string {
  return text.length <= RAW_TEXT_LIMIT ? text : `${text.slice(0, RAW_TEXT_LIMIT)}… [cut: ${text.length} characters in all]`;
}

/** The same for bytes start..end of a buffer (a UTF-8 character split at the cut shows as U+FFFD). */
export function cutRawBytes(buffer: Buffer, start: number, end: number): string {
  const text = buffer.toString("utf8", start, Math.min(end, start + RAW_TEXT_LIMIT));
  return end - start <= RAW_TEXT_LIMIT ? text : `${text}… [cut: ${end - start} bytes in all]`;
}
