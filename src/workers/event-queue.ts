import { Code } from "@connectrpc/connect";
import { ApiError, Subcode } from "../core/errors.js";

/**
 * Buffers events pushed by a store for one streaming call and hands them out as an async
 * iterable. Iteration ends as soon as `signal` aborts (the client went away), even while waiting
 * for the next event; a client too slow to keep up gets an error instead of unbounded memory.
 */
export class EventQueue<T> implements AsyncIterable<T> {
  private items: T[] = [];
  private wake: (() => void) | undefined;
  private overflowed = false;

  constructor(
    private readonly limit: number,
    private readonly signal: AbortSignal,
  ) {
    signal.addEventListener("abort", () => this.wake?.(), { once: true });
  }

  push(item: T): void {
    if (this.overflowed || this.signal.aborted) return;
    if (this.items.length >= this.limit) {
      this.overflowed = true;
      this.items = [];
    } else {
      this.items.push(item);
    }
    this.wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    for (;;) {
      if (this.signal.aborted) return;
      if (this.overflowed) {
        throw new ApiError(
          Code.ResourceExhausted,
          Subcode.none,
          `more than ${this.limit} events waited for this client; watch again`,
        );
      }
      const batch = this.items;
      if (batch.length > 0) {
        this.items = [];
        for (const item of batch) {
          if (this.signal.aborted) return;
          yield item;
        }
        continue;
      }
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
      this.wake = undefined;
    }
  }
}
