import { tupleBounds } from "./prediction-log-tuples.js";

/** SQLSTATEs of data PostgreSQL will never take: classes 22 and 23, and 08P01 for unreadable binary fields. */
const REFUSED_DATA = /^(22|23)...$|^08P01$/;

/** Whether PostgreSQL refused the data itself (it would refuse it again), rather than failing to answer. */
export function refusedData(error: unknown): boolean {
  return REFUSED_DATA.test(String((error as { code?: unknown } | null)?.code ?? ""));
}

export interface BisectResult {
  written: number;
  /** Each tuple PostgreSQL refused on its own. */
  rejected: Buffer[];
  /** The reason given for the first of them. */
  reason?: string;
}

/** A bisection cut short by an error other than refused data: what was written, and what was not. */
export class BisectInterrupted extends Error {
  constructor(
    override readonly cause: unknown,
    readonly done: BisectResult,
    /** Tuples neither written nor rejected, in their order. */
    readonly remaining: Buffer,
    readonly remainingRows: number,
  ) {
    super((cause as Error)?.message ?? String(cause));
  }
}

/**
 * Writes binary COPY tuples that PostgreSQL refused as one batch, halving every refused range
 * until each refused tuple is alone: one bad row costs about 2·log2(n) COPYs and never holds
 * back the rows around it. Only for the rare refused batch; a COPY is atomic, so a refused
 * range wrote nothing and can be split and retried.
 */
export async function copyBisecting(tuples: Buffer, copy: (part: Buffer) => Promise<void>): Promise<BisectResult> {
  const bounds = tupleBounds(tuples);
  const result: BisectResult = { written: 0, rejected: [] };
  // Ranges of tuple indices still to write, the next one last.
  const stack: Array<[number, number]> = [[0, bounds.length - 1]];
  while (stack.length > 0) {
    const [lo, hi] = stack.pop()!;
    if (hi <= lo) continue;
    const part = tuples.subarray(bounds[lo], bounds[hi]);
    try {
      await copy(part);
      result.written += hi - lo;
    } catch (error) {
      if (!refusedData(error)) {
        const left = [[lo, hi] as [number, number], ...stack.reverse()];
        const remaining = Buffer.concat(left.map(([a, b]) => tuples.subarray(bounds[a], bounds[b])));
        throw new BisectInterrupted(
          error,
          result,
          remaining,
          left.reduce((n, [a, b]) => n + b - a, 0),
        );
      }
      if (hi - lo === 1) {
        result.rejected.push(Buffer.from(part));
        result.reason ??= (error as Error).message;
      } else {
        const mid = (lo + hi) >> 1;
        stack.push([mid, hi], [lo, mid]);
      }
    }
  }
  return result;
}
