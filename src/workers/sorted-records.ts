// One company's live registrations kept in get_all's order (worker id, then user) as they change,
// so get_all walks them instead of sorting 100,000 records per call. A list of chunks keeps
// inserts and removals cheap at any size: each touches one chunk of at most 2 × CHUNK entries.
import { timestampMs } from "@bufbuild/protobuf/wkt";
import { deadlineMs, type PresenceRecord } from "../core/presence-store.js";

/** Where get_all resumes: the last (worker id, user id) a page ended on. */
export interface SortKey {
  readonly id: string;
  readonly user: string;
}

const CHUNK = 512;

/**
 * A record with what get_all's walk reads of every entry worked out once, when it arrives. All
 * entries share one shape; the records (protobuf messages with optional fields) come in many, and
 * reading them for 100,000 workers per call cost several times the rest of the walk.
 */
export class ViewEntry implements SortKey {
  readonly id: string;
  readonly user: string;
  /** When the entry stops being live, epoch milliseconds. */
  readonly deadlineMs: number;
  /** The worker's last report or registration, epoch milliseconds (0 when unknown). */
  readonly lastActivityMs: number;
  /** When the worker's task started, epoch milliseconds; undefined when it runs none. */
  readonly taskStartedMs: number | undefined;
  /** The worker's protobuf encoding, made on first use (get-all-wire.ts). */
  wire: Uint8Array | undefined = undefined;

  constructor(readonly record: PresenceRecord) {
    const worker = record.worker;
    this.id = worker?.id ?? "";
    this.user = worker?.user?.id ?? "";
    this.deadlineMs = deadlineMs(record);
    this.lastActivityMs =
      worker?.lastActivityTime === undefined ? 0 : timestampMs(worker.lastActivityTime);
    this.taskStartedMs =
      worker?.task === undefined || record.taskStartedAt === undefined
        ? undefined
        : timestampMs(record.taskStartedAt);
  }
}

function keyOf(record: PresenceRecord): SortKey {
  return { id: record.worker?.id ?? "", user: record.worker?.user?.id ?? "" };
}

/** Code-unit order of worker id, then user id: the order get_all has always answered in. */
export function compareKeys(a: SortKey, b: SortKey): number {
  if (a.id !== b.id) return a.id < b.id ? -1 : 1;
  return a.user < b.user ? -1 : a.user > b.user ? 1 : 0;
}

export class SortedRecords {
  private chunks: ViewEntry[][] = [];
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** Adds the record, or replaces the one with its key. */
  upsert(record: PresenceRecord): void {
    const entry = new ViewEntry(record);
    const c = this.chunkFor(entry);
    const chunk = this.chunks[c];
    if (chunk === undefined) {
      this.chunks.push([entry]);
      this.count++;
      return;
    }
    const i = lowerBound(chunk, entry);
    const at = chunk[i];
    if (at !== undefined && compareKeys(at, entry) === 0) {
      chunk[i] = entry;
      return;
    }
    chunk.splice(i, 0, entry);
    this.count++;
    if (chunk.length > 2 * CHUNK) this.chunks.splice(c + 1, 0, chunk.splice(CHUNK));
  }

  /** Removes the record with this record's key, if held. */
  remove(record: PresenceRecord): void {
    const key = keyOf(record);
    const c = this.chunkFor(key);
    const chunk = this.chunks[c];
    if (chunk === undefined) return;
    const i = lowerBound(chunk, key);
    const at = chunk[i];
    if (at === undefined || compareKeys(at, key) !== 0) return;
    chunk.splice(i, 1);
    this.count--;
    if (chunk.length === 0) this.chunks.splice(c, 1);
  }

  /**
   * Every entry in order, starting after `after` (all of them without it), as runs of neighbours
   * (`entries` from index `start` on), so a walk over 100,000 of them takes a generator step per
   * run rather than per entry. The runs are the view's own arrays: read them before the view
   * changes again.
   */
  *runsFrom(
    after: SortKey | undefined,
  ): Generator<{ readonly entries: readonly ViewEntry[]; readonly start: number }> {
    let c = 0;
    let start = 0;
    if (after !== undefined) {
      c = this.chunkFor(after);
      const chunk = this.chunks[c];
      if (chunk === undefined) return;
      start = lowerBound(chunk, after);
      const at = chunk[start];
      if (at !== undefined && compareKeys(at, after) === 0) start++;
    }
    for (; c < this.chunks.length; c++, start = 0) {
      const chunk = this.chunks[c];
      if (chunk !== undefined) yield { entries: chunk, start };
    }
  }

  /** The first chunk whose last key is ≥ key; the last chunk when every key is smaller. */
  private chunkFor(key: SortKey): number {
    let lo = 0;
    let hi = this.chunks.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const chunk = this.chunks[mid] ?? [];
      const last = chunk[chunk.length - 1];
      if (last !== undefined && compareKeys(last, key) < 0) lo = mid + 1;
      else hi = mid;
    }
    return Math.max(0, lo);
  }
}

/** The first index in the chunk whose key is ≥ key. */
function lowerBound(chunk: readonly ViewEntry[], key: SortKey): number {
  let lo = 0;
  let hi = chunk.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const at = chunk[mid];
    if (at !== undefined && compareKeys(at, key) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
