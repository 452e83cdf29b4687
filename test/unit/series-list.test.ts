// The memory stats store's key numbers and per-worker series lists.
import { describe, expect, it } from "vitest";
import { SeriesKeys } from "../../src/stats/memory/series-keys.js";
import { type ListedSeries, SeriesList } from "../../src/stats/memory/series-list.js";

const series = (key: number, name = `s${key}`) => ({ key, listIndex: -1, name });

describe("SeriesKeys", () => {
  it("numbers each metric and variant pair once, in the order first seen", () => {
    const keys = new SeriesKeys();
    expect(keys.numberOf("gpu_usage", "1")).toBe(0);
    expect(keys.numberOf("gpu_usage", "0")).toBe(1);
    expect(keys.numberOf("cpu_usage", "0")).toBe(2);
    expect(keys.numberOf("gpu_usage", "1")).toBe(0);
    expect([keys.metricOf(2), keys.variantOf(2), keys.variantOf(1)]).toEqual([
      "cpu_usage",
      "0",
      "0",
    ]);
    expect(keys.size).toBe(3);
    expect(() => keys.metricOf(3)).toThrow(RangeError);
  });
});

describe("SeriesList", () => {
  it("finds, adds and removes series by key", () => {
    const list = new SeriesList<ListedSeries & { name: string }>();
    const [a, b, c] = [series(4), series(9), series(2)];
    for (const s of [a, b, c]) list.add(s);
    expect(list.get(9)).toBe(b);
    expect(list.get(5)).toBeUndefined();
    expect(list.remove(a)).toBe(true);
    // The last series took the removed one's place, and is still found there.
    expect(list.values().map((s) => s.name)).toEqual(["s2", "s9"]);
    expect(list.get(2)).toBe(c);
    expect(list.remove(c)).toBe(true);
    expect(list.values()).toEqual([b]);
    expect(list.size).toBe(1);
  });

  it("removes nothing for a series it does not hold, even one of a held key or at a held place", () => {
    const list = new SeriesList<ListedSeries & { name: string }>();
    const held = series(1, "held");
    list.add(held);
    const other = new SeriesList<ListedSeries & { name: string }>();
    const elsewhere = series(1, "elsewhere");
    other.add(elsewhere);
    // Same key, and the same index (0) in its own list.
    expect(list.remove(elsewhere)).toBe(false);
    expect(list.remove(series(1))).toBe(false);
    expect(list.get(1)).toBe(held);
    expect(other.get(1)).toBe(elsewhere);
  });

  it("keeps finding every series past the length it scans, through additions and removals", () => {
    const list = new SeriesList<ListedSeries & { name: string }>();
    const all = Array.from({ length: 1000 }, (_, i) => series(i * 3));
    for (const s of all) list.add(s);
    for (const s of all.filter((_, i) => i % 2 === 0)) expect(list.remove(s)).toBe(true);
    expect(list.size).toBe(500);
    for (const [i, s] of all.entries()) expect(list.get(s.key)).toBe(i % 2 === 0 ? undefined : s);
    for (const [i, s] of list.values().entries()) expect(s.listIndex).toBe(i);
  });

  it("keeps its array's room when emptied, and takes new series into it", () => {
    const list = new SeriesList<ListedSeries & { name: string }>();
    const head = series(0);
    const first = [head, ...Array.from({ length: 29 }, (_, i) => series(i + 1))];
    for (const s of first) list.add(s);
    const room = list.capacity;
    for (const s of first) expect(list.remove(s)).toBe(true);
    expect([list.size, list.capacity, list.values()]).toEqual([0, room, []]);
    expect(list.get(0)).toBeUndefined();
    const next = Array.from({ length: 30 }, (_, i) => series(100 + i, `n${i}`));
    for (const s of next) list.add(s);
    expect(list.capacity).toBe(room);
    expect(list.values()).toEqual(next);
    expect(list.get(129)).toBe(next[29]);
    // A series of the first round, though its index is in range again, is not held.
    expect(list.remove(head)).toBe(false);
  });
});
