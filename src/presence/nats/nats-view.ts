import {
  deadlineMs,
  type LeftReason,
  type PresenceEvent,
  type PresenceRecord,
} from "../../core/presence-store.js";

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
   * Returns what watchers should be told, if anything: a record replacing one whose deadline had
   * passed by `nowMs` is a worker joining again, not an update.
   */
  apply(
    key: string,
    revision: number,
    record: PresenceRecord | undefined,
    reason: LeftReason,
    fromWatch: boolean,
    nowMs: number,
  ): PresenceEvent | undefined {
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
    const wasLive = previous?.record !== undefined && deadlineMs(previous.record) > nowMs;
    return { kind: wasLive ? "updated" : "joined", record };
  }

  /** Records of every company whose deadline is after `nowMs`. */
  liveCount(nowMs: number): number {
    let live = 0;
    for (const slot of this.slots.values()) {
      if (slot.record !== undefined && deadlineMs(slot.record) > nowMs) live++;
    }
    return live;
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

  /** How many records of the company have a deadline after `nowMs`, without building a list. */
  count(companyToken: string, nowMs: number): number {
    let live = 0;
    for (const key of this.byCompany.get(companyToken) ?? []) {
      const record = this.slots.get(key)?.record;
      if (record !== undefined && deadlineMs(record) > nowMs) live++;
    }
    return live;
  }

  /**
   * What watchers of this view must be told for it to become `next` (after a resync, when the
   * watch that would have reported the changes in between was down).
   */
  changesTo(next: PresenceView, nowMs: number): Array<[string, PresenceEvent]> {
    const changes: Array<[string, PresenceEvent]> = [];
    for (const [key, slot] of next.slots) {
      if (slot.record === undefined) continue;
      const before = this.slots.get(key);
      if (before?.revision === slot.revision) continue;
      const wasLive = before?.record !== undefined && deadlineMs(before.record) > nowMs;
      changes.push([key, { kind: wasLive ? "updated" : "joined", record: slot.record }]);
    }
    for (const [key, slot] of this.slots) {
      if (slot.record === undefined || next.slots.get(key)?.record !== undefined) continue;
      // The marker that said why is gone with the outage: a passed deadline means it expired.
      const reason = deadlineMs(slot.record) <= nowMs ? "expired" : "unregistered";
      changes.push([key, { kind: "left", record: slot.record, reason }]);
    }
    return changes;
  }

  /** Keys held, live or tombstoned; the store's `size` reads it so tests can see expiry free them. */
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

/** The company token of an encoded key: its first part. */
export function companyOf(key: string): string {
  const dot = key.indexOf(".");
  return dot < 0 ? key : key.slice(0, dot);
}
