import { describe, expect, it } from "vitest";
import { DeadlineHeap } from "../../src/presence/memory/deadline-heap.js";

describe("DeadlineHeap", () => {
  it("pops expired ids earliest first, one node per id however often it moves", () => {
    const heap = new DeadlineHeap();
    for (let i = 0; i < 100; i++) heap.set(`w${i}`, 1000 + ((i * 37) % 100));
    for (let round = 0; round < 50; round++) heap.set("w7", 5000 + round);
    expect(heap.size).toBe(100);
    const expired = heap.popExpired(1049);
    expect(expired).toHaveLength(50);
    expect(expired).not.toContain("w7");
    const deadlines = expired.map((id) => 1000 + ((Number(id.slice(1)) * 37) % 100));
    expect(deadlines).toEqual([...deadlines].sort((a, b) => a - b));
    expect(heap.popExpired(5048)).toHaveLength(49);
    expect(heap.popExpired(5049)).toEqual(["w7"]);
    expect(heap.size).toBe(0);
  });

  it("forgets deleted ids and keeps the order of the rest", () => {
    const heap = new DeadlineHeap();
    const deadlines = [50, 10, 40, 20, 30, 60, 5];
    for (const [i, d] of deadlines.entries()) heap.set(`w${i}`, d);
    heap.delete("w1");
    heap.delete("w6");
    heap.delete("absent");
    heap.set("w0", 1);
    expect(heap.popExpired(100)).toEqual(["w0", "w3", "w4", "w2", "w5"]);
  });
});
