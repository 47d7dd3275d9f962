import { describe, expect, it } from "vitest";
import { initdbReason } from "../../src/db/embedded.js";

describe("initdbReason", () => {
  it("keeps initdb's error lines and drops its chatter", () => {
    const output = [
      'The files belonging to this database system will be owned by user "postgres".',
      "This user must also own the server process.",
      "",
      'The database cluster will be initialized with locale "C".',
      "Data page checksums are enabled.",
      "",
      'initdb: error: could not access directory "/root/x/.mlops/pgdata": Permission denied',
    ].join("\n");
    expect(initdbReason(output)).toBe('could not access directory "/root/x/.mlops/pgdata": Permission denied');
  });

  it("falls back to the last line when nothing is marked as an error", () => {
    expect(initdbReason("Data page checksums are enabled.\nsomething odd happened\n")).toBe("something odd happened");
    expect(initdbReason("")).toBe("initdb failed without saying why");
  });
});
