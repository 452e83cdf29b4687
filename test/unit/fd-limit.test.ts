import { describe, expect, it } from "vitest";
import { connectionCap, openFilesLimit } from "../../src/fd-limit.js";

describe("connection cap and the open files limit", () => {
  it("keeps the wanted cap when descriptors are plenty or unknown", () => {
    expect(connectionCap(10_000, 1_048_576)).toBe(10_000);
    expect(connectionCap(10_000, undefined)).toBe(10_000);
  });

  it("lowers the cap under a small descriptor limit, leaving room for the rest", () => {
    expect(connectionCap(10_000, 1024)).toBe(960);
  });

  it("reads this process's limit on Linux", () => {
    expect(openFilesLimit()).toBeGreaterThan(0);
  });
});
