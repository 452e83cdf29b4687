/** What the heap orders: the item keeps its own deadline and its place in the heap. */
export interface HeapItem {
  deadline: number;
  /** Index in the heap's array; NOT_IN_HEAP while the item is not in it. */
  heapIndex: number;
}

export const NOT_IN_HEAP = -1;

/**
 * A min-heap of items by deadline. Items carry their own index, so moving or deleting one needs no
 * lookup, and the heap holds nothing per item but one array slot: at 100,000 workers a map from id
 * to heap node cost a node and a map entry each.
 */
export class DeadlineHeap<T extends HeapItem> {
  private readonly items: T[] = [];

  /** Items held; lets tests check that moved deadlines never add any. */
  get size(): number {
    return this.items.length;
  }

  /** Sets the item's deadline, adding the item when it is not in the heap. */
  set(item: T, deadline: number): void {
    item.deadline = deadline;
    if (!this.holds(item)) {
      item.heapIndex = this.items.length;
      this.items.push(item);
      this.siftUp(item.heapIndex);
      return;
    }
    this.siftUp(item.heapIndex);
    this.siftDown(item.heapIndex);
  }

  /** Takes the item out; an item not in the heap is left as it is. */
  delete(item: T): void {
    if (!this.holds(item)) return;
    const index = item.heapIndex;
    item.heapIndex = NOT_IN_HEAP;
    const last = this.items.pop() as T;
    if (last === item) return;
    this.place(last, index);
    this.siftUp(index);
    this.siftDown(last.heapIndex);
  }

  /** Removes and returns the items whose deadline is at or before `now`, earliest first. */
  popExpired(now: number): T[] {
    const expired: T[] = [];
    for (let top = this.items[0]; top !== undefined && top.deadline <= now; top = this.items[0]) {
      expired.push(top);
      this.delete(top);
    }
    return expired;
  }

  private holds(item: T): boolean {
    return item.heapIndex !== NOT_IN_HEAP && this.items[item.heapIndex] === item;
  }

  private siftUp(index: number): void {
    const item = this.items[index] as T;
    let i = index;
    while (i > 0) {
      const parent = this.items[(i - 1) >> 1] as T;
      if (parent.deadline <= item.deadline) break;
      this.place(parent, i);
      i = (i - 1) >> 1;
    }
    this.place(item, i);
  }

  private siftDown(index: number): void {
    const item = this.items[index] as T;
    const count = this.items.length;
    let i = index;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= count) break;
      const right = left + 1;
      let child = this.items[left] as T;
      if (right < count && (this.items[right] as T).deadline < child.deadline) {
        child = this.items[right] as T;
      }
      if (child.deadline >= item.deadline) break;
      const childIndex = child.heapIndex;
      this.place(child, i);
      i = childIndex;
    }
    this.place(item, i);
  }

  private place(item: T, index: number): void {
    item.heapIndex = index;
    this.items[index] = item;
  }
}
