import { describe, expect, it } from "vitest";
import {
  DeadlineHeap,
  type HeapItem,
  NOT_IN_HEAP,
} from "../../src/presence/memory/deadline-heap.js";

interface Item extends HeapItem {
  readonly id: string;
}

const item = (id: string): Item => ({ id, deadline: 0, heapIndex: NOT_IN_HEAP });
const ids = (items: readonly Item[]) => items.map((i) => i.id);

describe("DeadlineHeap", () => {
  it("pops expired items earliest first, one slot per item however often it moves", () => {
    const heap = new DeadlineHeap<Item>();
    const items = Array.from({ length: 100 }, (_, i) => item(`w${i}`));
    for (const [i, it] of items.entries()) heap.set(it, 1000 + ((i * 37) % 100));
    const w7 = items[7] as Item;
    for (let round = 0; round < 50; round++) heap.set(w7, 5000 + round);
    expect(heap.size).toBe(100);
    const expired = heap.popExpired(1049);
    expect(expired).toHaveLength(50);
    expect(expired).not.toContain(w7);
    const deadlines = expired.map((it) => 1000 + ((Number(it.id.slice(1)) * 37) % 100));
    expect(deadlines).toEqual([...deadlines].sort((a, b) => a - b));
    expect(expired.every((it) => it.heapIndex === NOT_IN_HEAP)).toBe(true);
    expect(heap.popExpired(5048)).toHaveLength(49);
    expect(ids(heap.popExpired(5049))).toEqual(["w7"]);
    expect(heap.size).toBe(0);
  });

  it("forgets deleted items and keeps the order of the rest", () => {
    const heap = new DeadlineHeap<Item>();
    const deadlines = [50, 10, 40, 20, 30, 60, 5];
    const items = deadlines.map((_, i) => item(`w${i}`));
    for (const [i, d] of deadlines.entries()) heap.set(items[i] as Item, d);
    heap.delete(items[1] as Item);
    heap.delete(items[6] as Item);
    heap.delete(items[6] as Item);
    heap.delete(item("absent"));
    heap.set(items[0] as Item, 1);
    expect(ids(heap.popExpired(100))).toEqual(["w0", "w3", "w4", "w2", "w5"]);
  });

  it("leaves alone an item that another heap holds at the same index", () => {
    const one = new DeadlineHeap<Item>();
    const other = new DeadlineHeap<Item>();
    const a = item("a");
    const b = item("b");
    one.set(a, 10);
    other.set(b, 20);
    // b's index is 0, as a's is in `one`: deleting it there must not take a out.
    one.delete(b);
    expect(ids(one.popExpired(100))).toEqual(["a"]);
    expect(ids(other.popExpired(100))).toEqual(["b"]);
  });

  it("stays ordered through random moves and deletions", () => {
    const heap = new DeadlineHeap<Item>();
    const items = Array.from({ length: 300 }, (_, i) => item(`w${i}`));
    let seed = 7;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed / 2147483648;
    };
    const live = new Set<Item>();
    for (let step = 0; step < 5000; step++) {
      const it = items[Math.floor(random() * items.length)] as Item;
      if (random() < 0.2) {
        heap.delete(it);
        live.delete(it);
      } else {
        heap.set(it, Math.floor(random() * 10_000));
        live.add(it);
      }
    }
    expect(heap.size).toBe(live.size);
    const popped = heap.popExpired(Number.POSITIVE_INFINITY);
    expect(new Set(popped)).toEqual(live);
    const order = popped.map((it) => it.deadline);
    expect(order).toEqual([...order].sort((x, y) => x - y));
  });
});
