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
import { CompanyEntries } from "./company-entries.js";
import { DeadlineHeap, type HeapItem, NOT_IN_HEAP } from "./deadline-heap.js";

/**
 * One registration. It holds its key's parts, not a key string made from them, and its own place
 * in the deadline heap: a worker costs this object, an entry in its user's map and a heap slot
 * (a key string, a heap node, and entries in three maps and a set before: 180 bytes more).
 */
interface Entry extends HeapItem {
  readonly company: string;
  readonly user: string;
  readonly worker: string;
  /** Replaced by each update; the entry itself stays, one object less per report to collect. */
  record: PresenceRecord;
}

/**
 * Presence in process memory. Each entry expires at its own deadline: before any read or write the
 * store pops the deadlines that have passed from a heap, so expiry never scans the live workers.
 */
export class MemoryPresenceStore implements PresenceStore {
  readonly backend = "memory";
  private readonly companies = new Map<string, CompanyEntries<Entry>>();
  private readonly deadlines = new DeadlineHeap<Entry>();
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
    let company = this.companies.get(key.company);
    const entry = company?.get(key.user, key.worker);
    const current = entry?.record;
    const record = change(current);
    if (entry !== undefined) {
      entry.record = record;
      this.deadlines.set(entry, deadlineMs(record));
    } else {
      if (company === undefined) {
        company = new CompanyEntries();
        this.companies.set(key.company, company);
      }
      const added: Entry = {
        company: key.company,
        user: key.user,
        worker: key.worker,
        record,
        deadline: 0,
        heapIndex: NOT_IN_HEAP,
      };
      company.add(added);
      this.deadlines.set(added, deadlineMs(record));
    }
    this.listeners.emit(key.company, {
      kind: current === undefined ? "joined" : "updated",
      record,
    });
    return record;
  }

  async remove(key: WorkerKey): Promise<void> {
    this.dropExpired();
    const entry = this.companies.get(key.company)?.get(key.user, key.worker);
    if (entry !== undefined) this.delete(entry, "unregistered");
  }

  async list(company: string): Promise<PresenceRecord[]> {
    return this.live(company);
  }

  async count(company: string): Promise<number> {
    this.dropExpired();
    // Expired entries were just dropped, so every id left is live: O(1).
    return this.companies.get(company)?.size ?? 0;
  }

  async watch(company: string, listener: (event: PresenceEvent) => void): Promise<PresenceWatch> {
    // Synchronous from snapshot to listener: no change can fall in between.
    const snapshot = this.live(company);
    return { snapshot, stop: this.listeners.add(company, listener) };
  }

  private live(company: string): PresenceRecord[] {
    this.dropExpired();
    const live: PresenceRecord[] = [];
    this.companies.get(company)?.forEach((entry) => {
      live.push(entry.record);
    });
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
    return this.size;
  }

  /** Watches not yet stopped; lets tests check that a client going away ends its watch. */
  get watchers(): number {
    return this.listeners.size;
  }

  /** Entries held, live or not yet swept; lets tests check that expiry frees memory. */
  get size(): number {
    let count = 0;
    for (const company of this.companies.values()) count += company.size;
    return count;
  }

  private delete(entry: Entry, reason: LeftReason): void {
    const company = this.companies.get(entry.company);
    if (company === undefined || !company.delete(entry)) return;
    if (company.size === 0) this.companies.delete(entry.company);
    this.deadlines.delete(entry);
    this.listeners.emit(entry.company, { kind: "left", record: entry.record, reason });
  }

  private dropExpired(): void {
    for (const entry of this.deadlines.popExpired(this.clock.now())) this.delete(entry, "expired");
  }
}
