// The eviction queue of the memory stats store: first in, first out across wraps and growth.
import { describe, expect, it } from "vitest";
import { Int32RingQueue } from "../../src/stats/memory/ring-queue.js";

describe("Int32RingQueue", () => {
  it("gives items back in the order they came, across wrap-arounds and growth", () => {
    const queue = new Int32RingQueue();
    const model: number[] = [];
    let next = 0;
    // Lengths that rise past several capacities and fall again, so the head wraps at each size.
    for (const target of [5, 3, 40, 10, 17, 0, 100, 2, 300, 0]) {
      while (model.length < target) {
        queue.push(next);
        model.push(next++);
      }
      while (model.length > target) expect(queue.shift()).toBe(model.shift());
      expect(queue.length).toBe(model.length);
      expect(queue.peek()).toBe(model[0]);
      // Interleaved: one in, one out, many times, at this length.
      for (let i = 0; i < 50 && model.length > 0; i++) {
        queue.push(next);
        model.push(next++);
        expect(queue.shift()).toBe(model.shift());
      }
    }
    expect(queue.shift()).toBeUndefined();
    expect(queue.peek()).toBeUndefined();
    expect(queue.length).toBe(0);
  });

  it("gives its room back as it empties", () => {
    const queue = new Int32RingQueue();
    for (let i = 0; i < 100_000; i++) queue.push(i);
    expect(queue.capacity).toBe(131_072);
    let outOfOrder = 0;
    for (let i = 0; i < 99_990; i++) if (queue.shift() !== i) outOfOrder++;
    expect(outOfOrder).toBe(0);
    // Ten left: a quarter of 32 is less, so 32 slots stay until at most eight are left.
    expect(queue.capacity).toBe(32);
    expect([queue.shift(), queue.shift(), queue.length, queue.capacity]).toEqual([
      99_990, 99_991, 8, 16,
    ]);
  });
});
