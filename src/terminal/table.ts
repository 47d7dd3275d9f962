import Table from "cli-table3";

type CliTable = InstanceType<typeof Table>;

/**
 * The one table style of the human output: cli-table3's box borders, with its default colours
 * turned off (they would print escape codes off a TTY and under NO_COLOR).
 */
export function newTable(head: string[]): CliTable {
  return new Table({ head, style: { head: [], border: [] } });
}

const NO_BORDERS = {
  top: "",
  "top-mid": "",
  "top-left": "",
  "top-right": "",
  bottom: "",
  "bottom-mid": "",
  "bottom-left": "",
  "bottom-right": "",
  left: "",
  "left-mid": "",
  mid: "",
  "mid-mid": "",
  right: "",
  "right-mid": "",
  middle: "",
};

/** No borders and two spaces between columns, for a table that must fit a narrow terminal (`mlops runs`). */
export function newCompactTable(head: string[]): CliTable {
  return new Table({ head, chars: NO_BORDERS, style: { head: [], border: [], "padding-left": 0, "padding-right": 2 } });
}
