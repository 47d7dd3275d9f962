import { describe, expect, it } from "vitest";
import { uuidv7 } from "../../src/server/uuid7.js";

describe("uuidv7", () => {
  it("is a version-7, variant-1 UUID carrying the time, and ids sort by time", () => {
    const id = uuidv7(Date.UTC(2026, 10, 29, 12, 0, 0));
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(parseInt(id.replace(/-/g, "").slice(0, 12), 16)).toBe(Date.UTC(2026, 10, 29, 12, 0, 0));
    const earlier = uuidv7(1_000);
    const later = uuidv7(2_000);
    expect(earlier < later).toBe(true);
  });

  it("does not repeat", () => {
    const ids = new Set(Array.from({ length: 20_000 }, () => uuidv7()));
    expect(ids.size).toBe(20_000);
  });
});
