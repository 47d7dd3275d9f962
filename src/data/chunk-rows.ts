import type { Split } from "../generated/prisma/enums.js";
import type { LabelValue } from "./types.js";

/** Where each row of a chunk starts in the COPY buffer, with what counting needs. */
export class ChunkRows {
  size = 0;
  readonly starts: number[] = [];
  readonly labels: LabelValue[] = [];
  readonly splits: Split[] = [];

  add(start: number, label: LabelValue, split: Split): void {
    const i = this.size++;
    this.starts[i] = start;
    this.labels[i] = label;
    this.splits[i] = split;
  }

  /** Moves row `from` to `to` (to <= from), once its bytes have moved. */
  move(from: number, to: number): void {
    this.labels[to] = this.labels[from]!;
    this.splits[to] = this.splits[from]!;
  }
}
