import { deadlineMs, type PresenceRecord } from "./store.js";

/** Why an entry went away: removed by a client, or its TTL ran out. */
export type LeftReason = "unregistered" | "expired";

/** What one applied entry changed in the view; a no-op (stale or repeated entry) changes nothing. */
export type ViewChange =
  | { readonly kind: "joined" | "updated"; readonly record: PresenceRecord }
  | { readonly kind: "left"; readonly record: PresenceRecord; readonly reason: LeftReason };

/** The current state of one key as the view knows it: a record, or a tombstone after a removal. */
export interface Slot {
  /** The stream sequence of the message this slot reflects. */
  readonly revision: number;
  readonly record: PresenceRecord | undefined;
}

/**
 * An in-memory copy of the bucket, keyed by encoded KV key and grouped by company token (the key's
 * first part) so a company's workers are listed without scanning the others. Entries come from the
 * watch and from this instance's own acknowledged writes, in any order: a revision check keeps
 * whichever is newer, so a late watch message never undoes a newer local write.
 */
export class PresenceView {
  private readonly slots = new Map<string, Slot>();
  private readonly byCompany = new Map<string, Set<string>>();

  slot(key: string): Slot | undefined {
    return this.slots.get(key);
  }

  /**
   * Applies the entry at `revision`: a record, or undefined for a removal. `fromWatch` removals
   * drop the key; a local removal leaves a tombstone until the watch delivers the same revision.
   */
  apply(
    key: string,
    revision: number,
    record: PresenceRecord | undefined,
    reason: LeftReason,
    fromWatch: boolean,
  ): ViewChange | undefined {
    const previous = this.slots.get(key);
    if (previous !== undefined && previous.revision >= revision) {
      // The watch echoing a local removal: the tombstone has done its job.
      if (fromWatch && previous.revision === revision && previous.record === undefined) {
        this.drop(key);
      }
      return undefined;
    }
    if (record === undefined) {
      if (fromWatch) this.drop(key);
      else this.set(key, { revision, record: undefined });
      return previous?.record === undefined
        ? undefined
        : { kind: "left", record: previous.record, reason };
    }
    this.set(key, { revision, record });
    return { kind: previous?.record === undefined ? "joined" : "updated", record };
  }

  /** Records of the company whose deadline is after `nowMs`. */
  list(companyToken: string, nowMs: number): PresenceRecord[] {
    const live: PresenceRecord[] = [];
    for (const key of this.byCompany.get(companyToken) ?? []) {
      const record = this.slots.get(key)?.record;
      if (record !== undefined && deadlineMs(record) > nowMs) live.push(record);
    }
    return live;
  }

  /** Every key and slot, for comparing one view with another after a resync. */
  entries(): IterableIterator<[string, Slot]> {
    return this.slots.entries();
  }

  get size(): number {
    return this.slots.size;
  }

  private set(key: string, slot: Slot): void {
    if (!this.slots.has(key)) {
      const company = companyOf(key);
      let keys = this.byCompany.get(company);
      if (keys === undefined) {
        keys = new Set();
        this.byCompany.set(company, keys);
      }
      keys.add(key);
    }
    this.slots.set(key, slot);
  }

  private drop(key: string): void {
    if (!this.slots.delete(key)) return;
    const company = companyOf(key);
    const keys = this.byCompany.get(company);
    keys?.delete(key);
    if (keys?.size === 0) this.byCompany.delete(company);
  }
}

function companyOf(key: string): string {
  const dot = key.indexOf(".");
  return dot < 0 ? key : key.slice(0, dot);
}
