/**
 * A first-in first-out queue of non-negative integers (series slots) in one Int32Array used as a
 * ring: taking from the front and adding at the back reuse its slots, so a queue whose length
 * stays put allocates nothing. (An array with a moving head, compacted by copying now and then,
 * made a copy of up to millions of slots every second or so at a full memory stats store, each
 * promoted to the old generation.) Integers rather than references: at the default bound the
 * queue holds 4,000,000 entries, which as references were 32 MB of pointers inside the V8 heap for
 * every full collection to trace; as an Int32Array they are 16 MB outside it, traced by nothing.
 * It doubles when full and halves when three quarters empty, so its room follows its length
 * without copying back and forth at one length.
 */
const MIN_CAPACITY = 16;

export class Int32RingQueue {
  private slots = new Int32Array(MIN_CAPACITY);
  private head = 0;
  private count = 0;

  get length(): number {
    return this.count;
  }

  push(item: number): void {
    if (this.count === this.slots.length) this.resize(this.slots.length * 2);
    this.slots[(this.head + this.count) & (this.slots.length - 1)] = item;
    this.count++;
  }

  /** The front item, or undefined when empty. */
  peek(): number | undefined {
    return this.count === 0 ? undefined : this.slots[this.head];
  }

  /** Removes and returns the front item, or undefined when empty. */
  shift(): number | undefined {
    if (this.count === 0) return undefined;
    const item = this.slots[this.head];
    this.head = (this.head + 1) & (this.slots.length - 1);
    this.count--;
    if (this.slots.length > MIN_CAPACITY && this.count * 4 <= this.slots.length) {
      this.resize(this.slots.length / 2);
    }
    return item;
  }

  /** Slots held; lets tests check that room follows length. */
  get capacity(): number {
    return this.slots.length;
  }

  /** Capacity stays a power of two, so a slot's index wraps with a mask. */
  private resize(capacity: number): void {
    const old = this.slots;
    const slots = new Int32Array(capacity);
    const mask = old.length - 1;
    for (let i = 0; i < this.count; i++) slots[i] = old[(this.head + i) & mask] as number;
    this.slots = slots;
    this.head = 0;
  }
}
