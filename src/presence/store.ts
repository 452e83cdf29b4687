import { timestampMs } from "@bufbuild/protobuf/wkt";
import type { PresenceRecord } from "../gen/muster/presence/v1/record_pb.js";

export type { PresenceRecord };

/** Identifies one registration: ClearML keys workers by company, user and worker id. */
export interface WorkerKey {
  readonly company: string;
  readonly user: string;
  readonly worker: string;
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
  close(): Promise<void>;
}

/** The moment an entry stops being live, epoch milliseconds. */
export function deadlineMs(record: PresenceRecord): number {
  const worker = record.worker;
  if (worker?.lastActivityTime === undefined) return 0;
  return timestampMs(worker.lastActivityTime) + worker.registerTimeout * 1000;
}
