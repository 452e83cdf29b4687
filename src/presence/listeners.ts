import type { PresenceEvent } from "../core/presence-store.js";

type Listener = (event: PresenceEvent) => void;

/** Watch listeners by company, for the stores to tell of changes. */
export class Listeners {
  private readonly byCompany = new Map<string, Set<Listener>>();
  private count = 0;

  /** Adds the listener; the returned function removes it (calling it twice is harmless). */
  add(company: string, listener: Listener): () => void {
    let set = this.byCompany.get(company);
    if (set === undefined) {
      set = new Set();
      this.byCompany.set(company, set);
    }
    const wrapped: Listener = (event) => listener(event);
    set.add(wrapped);
    this.count++;
    return () => {
      if (!set.delete(wrapped)) return;
      this.count--;
      if (set.size === 0 && this.byCompany.get(company) === set) this.byCompany.delete(company);
    };
  }

  emit(company: string, event: PresenceEvent): void {
    const set = this.byCompany.get(company);
    if (set === undefined) return;
    for (const listener of set) {
      try {
        listener(event);
      } catch {
        // A watcher's failure is its own: it must never fail the write that caused the event.
      }
    }
  }

  get size(): number {
    return this.count;
  }
}
