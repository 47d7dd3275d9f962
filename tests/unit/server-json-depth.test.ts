import { describe, expect, it } from "vitest";
import { nestedDeeperThan } from "../../src/server/json-depth.js";

const nest = (depth: number, inner = "1") => "[".repeat(depth) + inner + "]".repeat(depth);

describe("nestedDeeperThan", () => {
  it("counts arrays and objects alike, up to the limit and past it", () => {
    expect(nestedDeeperThan(nest(64), 64)).toBe(false);
    expect(nestedDeeperThan(nest(65), 64)).toBe(true);
    expect(nestedDeeperThan(`{"a":${nest(63)}}`, 64)).toBe(false);
    expect(nestedDeeperThan(`{"a":{"b":${nest(63)}}}`, 64)).toBe(true);
    expect(nestedDeeperThan(nest(400_000), 64)).toBe(true);
  });

  it("does not count brackets inside strings, escaped quotes included", () => {
    expect(nestedDeeperThan(`{"a":"${"[".repeat(100)}"}`, 64)).toBe(false);
    expect(nestedDeeperThan(`{"a":"\\"${"{".repeat(100)}\\\\"}`, 64)).toBe(false);
    expect(nestedDeeperThan(`{"a":"x\\\\",${"[".repeat(70)}`, 64)).toBe(true);
  });

  it("counts depth, not brackets: many siblings are fine", () => {
    expect(nestedDeeperThan(`[${Array.from({ length: 1000 }, () => "[1]").join(",")}]`, 64)).toBe(false);
  });
});
