/**
 * Series by slot number, so the eviction queue can hold numbers (ring-queue.ts) instead of
 * references. A slot stays with its series while the series is kept, emptied series kept for reuse
 * included; a series let go gives its slot back for the next new one. The table keeps the length
 * of the most series ever held at once (16 bytes a slot with the free list, at most maxSeries plus
 * the 4,096 kept for reuse).
 */
export class SeriesSlots<T> {
  private readonly items: (T | undefined)[] = [];
  private readonly free: number[] = [];

  /** A slot for `item`, its own until released. */
  take(item: T): number {
    const slot = this.free.pop() ?? this.items.length;
    this.items[slot] = item;
    return slot;
  }

  get(slot: number): T | undefined {
    return this.items[slot];
  }

  release(slot: number): void {
    if (this.items[slot] === undefined) return;
    this.items[slot] = undefined;
    this.free.push(slot);
  }

  /** Slots taken and not released. */
  get size(): number {
    return this.items.length - this.free.length;
  }
}
