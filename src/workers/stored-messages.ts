// The small messages of a stored record, written as object literals. protobuf-es's create() adds
// a message's fields to it one by one, which in V8 puts them in a property array of their own: 40
// bytes more for each timestamp and entry, three to five of them in every stored worker
// (bench/fleet-heap.ts). The literals list exactly the fields create() sets.
import type { Timestamp } from "@bufbuild/protobuf/wkt";
import type {
  CurrentTaskEntry,
  IdNameEntry,
  QueueEntry,
} from "../gen/muster/workers/v1/types_pb.js";

/**
 * The last instant made, and its seconds as a bigint. Reports arrive a few to the millisecond and
 * thousands to the second at fleet scale: records stored in the same millisecond share one
 * timestamp, and those of the same second one bigint, rather than each keeping its own (72 bytes
 * a timestamp with its bigint, promoted with the record it is stored in). Sharing is safe because
 * stored records and everything in them are never changed in place.
 */
let lastMs = Number.NaN;
let lastTimestamp: Timestamp | undefined;
let lastSeconds = Number.NaN;
let lastSecondsBig = 0n;

/** The instant `ms` (epoch milliseconds), as timestampFromMs makes it. */
export function timestampAt(ms: number): Timestamp {
  if (ms === lastMs && lastTimestamp !== undefined) return lastTimestamp;
  const seconds = Math.floor(ms / 1000);
  if (seconds !== lastSeconds) {
    lastSeconds = seconds;
    lastSecondsBig = BigInt(seconds);
  }
  lastMs = ms;
  lastTimestamp = {
    $typeName: "google.protobuf.Timestamp",
    seconds: lastSecondsBig,
    nanos: (ms - seconds * 1000) * 1_000_000,
  };
  return lastTimestamp;
}

/** A worker's task as a status report names it. */
export function taskEntry(id: string): CurrentTaskEntry {
  return { $typeName: "muster.workers.v1.CurrentTaskEntry", id };
}

/** A queue as a worker's registration or report names it. */
export function queueEntry(id: string): QueueEntry {
  return { $typeName: "muster.workers.v1.QueueEntry", id };
}

/** A user or company entry: ClearML names both by their id. */
export function idNameEntry(name: string): IdNameEntry {
  return { $typeName: "muster.workers.v1.IdNameEntry", id: name, name };
}
