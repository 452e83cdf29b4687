// The memo of hourly rollups InfluxDB already holds: which reports must carry the rollup point.
import { describe, expect, it } from "vitest";
import { RollupMemo } from "../../src/stats/influx/rollup-memo.js";

const HOUR = 3_600_000;
const T0 = 1_700_000_000_000 - (1_700_000_000_000 % HOUR);

describe("RollupMemo", () => {
  it("asks for the rollup until a write of it is recorded, per company and worker", () => {
    const memo = new RollupMemo();
    expect(memo.needs("c", "w", T0 + 5, false)).toBe(true);
    memo.wrote("c", "w", T0 + 5, false);
    expect(memo.needs("c", "w", T0 + HOUR - 1, false)).toBe(false);
    expect(memo.needs("c", "other", T0 + 5, false)).toBe(true);
    expect(memo.needs("other", "w", T0 + 5, false)).toBe(true);
    expect(memo.needs("c", "w", T0 + HOUR, false)).toBe(true); // the next hour
    expect(memo.needs("c", "w", T0 - 1, false)).toBe(true); // the hour before
  });

  it("asks once more for the first report running a task, then not for the rest of the hour", () => {
    const memo = new RollupMemo();
    memo.wrote("c", "w", T0, false);
    expect(memo.needs("c", "w", T0 + 1, true)).toBe(true);
    memo.wrote("c", "w", T0 + 1, true);
    expect(memo.needs("c", "w", T0 + 2, true)).toBe(false);
    expect(memo.needs("c", "w", T0 + 3, false)).toBe(false);
    // A late acknowledgement of an idle report of the same hour keeps `active`.
    memo.wrote("c", "w", T0 + 4, false);
    expect(memo.needs("c", "w", T0 + 5, true)).toBe(false);
  });

  it("keeps a later hour when an earlier hour's write is acknowledged after it", () => {
    const memo = new RollupMemo();
    memo.wrote("c", "w", T0 + HOUR, false);
    memo.wrote("c", "w", T0, true);
    expect(memo.needs("c", "w", T0 + HOUR + 1, false)).toBe(false);
    expect(memo.needs("c", "w", T0 + 1, false)).toBe(true);
  });

  it("starts over past its limit, which only costs rewrites", () => {
    const memo = new RollupMemo(3);
    for (const worker of ["a", "b", "c"]) memo.wrote("co", worker, T0, false);
    expect(memo.count).toBe(3);
    memo.wrote("co", "a", T0, true); // known: no growth
    expect(memo.count).toBe(3);
    memo.wrote("co", "d", T0, false);
    expect(memo.count).toBe(1);
    expect(memo.needs("co", "a", T0, false)).toBe(true);
    expect(memo.needs("co", "d", T0, false)).toBe(false);
  });
});
