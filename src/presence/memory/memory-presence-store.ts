import type { Clock } from "../../core/clock.js";
import {
  deadlineMs,
  type LeftReason,
  type PresenceEvent,
  type PresenceRecord,
  type PresenceStore,
  type PresenceWatch,
  type WorkerKey,
} from "../../core/presence-store.js";
import { READY, type Readiness } from "../../core/store-health.js";
import { Listeners } from "../listeners.js";
import { DeadlineHeap } from "./deadline-heap.js";

interface Entry {
  readonly key: WorkerKey;
  /** Replaced by each update; the entry itself stays, one object less per report to collect. */
  record: PresenceRecord;
}

/**
 * Presence in process memory. Each entry expires at its own deadline: before any read or write the
 * store pops the deadlines that have passed from a heap, so expiry never scans the live workers.
 */
export class MemoryPresenceStore implements PresenceStore {
  readonly backend = "memory";
  private readonly entries = new Map<string, Entry>();
  private readonly byCompany = new Map<string, Set<string>>();
  private readonly deadlines = new DeadlineHeap();
  private readonly listeners = new Listeners();
  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly clock: Clock) {
    // Reads are exact without it; the timer frees the memory of workers nobody asks about and
    // tells watchers of expiry soon after the deadline (popping nothing costs next to nothing).
    this.sweeper = setInterval(() => this.dropExpired(), 250);
    this.sweeper.unref();
  }

  async update(
    key: WorkerKey,
    change: (current: PresenceRecord | undefined) => PresenceRecord,
  ): Promise<PresenceRecord> {
    this.dropExpired();
    const id = idOf(key);
    const entry = this.entries.get(id);
    const current = entry?.record;
    const record = change(current);
    if (entry !== undefined) {
      entry.record = record;
    } else {
      this.entries.set(id, { key, record });
      let ids = this.byCompany.get(key.company);
      if (ids === undefined) {
        ids = new Set();
        this.byCompany.set(key.company, ids);
      }
      ids.add(id);
    }
    this.deadlines.set(id, deadlineMs(record));
    this.listeners.emit(key.company, {
      kind: current === undefined ? "joined" : "updated",
      record,
    });
    return record;
  }

  async remove(key: WorkerKey): Promise<void> {
    this.dropExpired();
    this.delete(idOf(key), "unregistered");
  }

  async list(company: string): Promise<PresenceRecord[]> {
    return this.live(company);
  }

  async count(company: string): Promise<number> {
    this.dropExpired();
    // Expired entries were just dropped, so every id left is live: O(1).
    return this.byCompany.get(company)?.size ?? 0;
  }

  async watch(company: string, listener: (event: PresenceEvent) => void): Promise<PresenceWatch> {
    // Synchronous from snapshot to listener: no change can fall in between.
    const snapshot = this.live(company);
    return { snapshot, stop: this.listeners.add(company, listener) };
  }

  private live(company: string): PresenceRecord[] {
    this.dropExpired();
    const live: PresenceRecord[] = [];
    for (const id of this.byCompany.get(company) ?? []) {
      const entry = this.entries.get(id);
      if (entry !== undefined) live.push(entry.record);
    }
    return live;
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
  }

  /** Process memory is always there. */
  async ready(): Promise<Readiness> {
    return READY;
  }

  liveCount(): number {
    this.dropExpired();
    return this.entries.size;
  }

  /** Watches not yet stopped; lets tests check that a client going away ends its watch. */
  get watchers(): number {
    return this.listeners.size;
  }

  /** Entries held, live or not yet swept; lets tests check that expiry frees memory. */
  get size(): number {
    return this.entries.size;
  }

  private delete(id: string, reason: LeftReason): void {
    const entry = this.entries.get(id);
    if (entry === undefined) return;
    this.entries.delete(id);
    this.deadlines.delete(id);
    const ids = this.byCompany.get(entry.key.company);
    ids?.delete(id);
    if (ids?.size === 0) this.byCompany.delete(entry.key.company);
    this.listeners.emit(entry.key.company, { kind: "left", record: entry.record, reason });
  }

  private dropExpired(): void {
    for (const id of this.deadlines.popExpired(this.clock.now())) this.delete(id, "expired");
  }
}

/** One string per key; JSON keeps the parts apart whatever characters they hold. */
function idOf(key: WorkerKey): string {
  return JSON.stringify([key.company, key.user, key.worker]);
}
