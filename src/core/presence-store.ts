import { timestampMs } from "@bufbuild/protobuf/wkt";
import type { PresenceRecord } from "../gen/muster/presence/v1/record_pb.js";
import type { Readiness, StoreMetrics } from "./store-health.js";

export type { PresenceRecord };

/** Identifies one registration: ClearML keys workers by company, user and worker id. */
export interface WorkerKey {
  readonly company: string;
  readonly user: string;
  readonly worker: string;
}

/** Why an entry stopped being live: removed by a client, or its deadline passed. */
export type LeftReason = "unregistered" | "expired";

/** A change to one company's live entries, as watchers are told of it. */
export type PresenceEvent =
  | { readonly kind: "joined" | "updated"; readonly record: PresenceRecord }
  | { readonly kind: "left"; readonly record: PresenceRecord; readonly reason: LeftReason };

export interface PresenceWatch {
  /** The company's live entries when the watch began; the events continue from exactly here. */
  readonly snapshot: PresenceRecord[];
  /** Stops the events. */
  stop(): void;
}

/**
 * Where live worker registrations are kept. An entry is live until its deadline
 * (last_activity_time + register_timeout); after it, no method returns it.
 */
export interface PresenceStore {
  /**
   * Replaces the entry with `change(current)`, where current is the live entry or undefined,
   * atomically with respect to other updates of the same key. Returns what was stored.
   */
  update(
    key: WorkerKey,
    change: (current: PresenceRecord | undefined) => PresenceRecord,
  ): Promise<PresenceRecord>;
  /** Removes the entry; removing an absent one is not an error. */
  remove(key: WorkerKey): Promise<void>;
  /** Every live entry of the company, in no particular order. */
  list(company: string): Promise<PresenceRecord[]>;
  /** How many live entries the company has; cheaper than list(): it builds nothing. */
  count(company: string): Promise<number>;
  /**
   * The company's live entries now, and from then on every change to them, passed to `listener`
   * in order (expiry is reported within about a second of the deadline).
   */
  watch(company: string, listener: (event: PresenceEvent) => void): Promise<PresenceWatch>;
  close(): Promise<void>;
  /** The backend's name in metrics and readiness answers: "memory", "nats". */
  readonly backend: string;
  /** Whether calls can be served now (health checks); cheap, called every second or so. */
  ready(): Promise<Readiness>;
  /** Live entries of every company (the registered-workers gauge). */
  liveCount(): number;
  /** Where to report backend events; backends without any may leave it out. */
  useMetrics?(metrics: StoreMetrics): void;
}

/** The moment an entry stops being live, epoch milliseconds. */
export function deadlineMs(record: PresenceRecord): number {
  const worker = record.worker;
  if (worker?.lastActivityTime === undefined) return 0;
  return timestampMs(worker.lastActivityTime) + worker.registerTimeout * 1000;
}
