import { describe, expect, it } from "vitest";
import { globMatcher } from "../../src/workers/glob.js";

describe("worker_pattern glob", () => {
  it.each([
    ["*", "", true],
    ["*", "anything", true],
    ["", "", true],
    ["", "a", false],
    ["gpu-?", "gpu-1", true],
    ["gpu-?", "gpu-12", false],
    ["gpu-*", "gpu-12", true],
    ["*-12", "gpu-12", true],
    ["g*u*2", "gpu-12", true],
    ["g*u*3", "gpu-12", false],
    ["a*b*c", "aXbYbZc", true],
    ["a*b*c", "aXbYbZ", false],
    ["*a*a*b", "aaaa", false],
    ["?", "😀", true],
    ["x.y", "xzy", false],
    ["[a]", "[a]", true],
    ["a\nb", "a\nb", true],
    ["*\n*", "a\nb", true],
  ])("%j matches %j: %s", (glob, text, expected) => {
    expect(globMatcher(glob)(text)).toBe(expected);
  });

  it("matches the worst pattern at the maximum length against a long id", () => {
    const pattern = `${"*".repeat(1007)}${"a*".repeat(8)}b`;
    expect(pattern).toHaveLength(1024);
    expect(globMatcher(pattern)("a".repeat(256))).toBe(false);
    expect(globMatcher(pattern)(`${"a".repeat(255)}b`)).toBe(true);
    const dense = `${"*a".repeat(511)}*b`;
    expect(globMatcher(dense)("a".repeat(256))).toBe(false);
    expect(globMatcher(dense)(`${"a".repeat(600)}b`)).toBe(true);
  });
});
