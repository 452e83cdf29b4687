// One company's live registrations kept in get_all's order (worker id, then user) as they change,
// so get_all walks them instead of sorting 100,000 records per call. A list of chunks keeps
// inserts and removals cheap at any size: each touches one chunk of at most 2 × CHUNK entries.
import type { PresenceRecord } from "../core/presence-store.js";

/** Where get_all resumes: the last (worker id, user id) a page ended on. */
export interface SortKey {
  readonly id: string;
  readonly user: string;
}

const CHUNK = 512;

function keyOf(record: PresenceRecord): SortKey {
  return { id: record.worker?.id ?? "", user: record.worker?.user?.id ?? "" };
}

/** Code-unit order of worker id, then user id: the order get_all has always answered in. */
export function compareKeys(a: SortKey, b: SortKey): number {
  if (a.id !== b.id) return a.id < b.id ? -1 : 1;
  return a.user < b.user ? -1 : a.user > b.user ? 1 : 0;
}

export class SortedRecords {
  private chunks: PresenceRecord[][] = [];
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** Adds the record, or replaces the one with its key. */
  upsert(record: PresenceRecord): void {
    const key = keyOf(record);
    const c = this.chunkFor(key);
    const chunk = this.chunks[c];
    if (chunk === undefined) {
      this.chunks.push([record]);
      this.count++;
      return;
    }
    const i = lowerBound(chunk, key);
    const at = chunk[i];
    if (at !== undefined && compareKeys(keyOf(at), key) === 0) {
      chunk[i] = record;
      return;
    }
    chunk.splice(i, 0, record);
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
    if (at === undefined || compareKeys(keyOf(at), key) !== 0) return;
    chunk.splice(i, 1);
    this.count--;
    if (chunk.length === 0) this.chunks.splice(c, 1);
  }

  /** Every record in order, starting after `after` (all of them without it). */
  *from(after: SortKey | undefined): Generator<PresenceRecord> {
    let c = 0;
    let i = 0;
    if (after !== undefined) {
      c = this.chunkFor(after);
      const chunk = this.chunks[c];
      if (chunk === undefined) return;
      i = lowerBound(chunk, after);
      const at = chunk[i];
      if (at !== undefined && compareKeys(keyOf(at), after) === 0) i++;
    }
    for (; c < this.chunks.length; c++, i = 0) {
      const chunk = this.chunks[c] ?? [];
      for (; i < chunk.length; i++) {
        const record = chunk[i];
        if (record !== undefined) yield record;
      }
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
      if (last !== undefined && compareKeys(keyOf(last), key) < 0) lo = mid + 1;
      else hi = mid;
    }
    return Math.max(0, lo);
  }
}

/** The first index in the chunk whose key is ≥ key. */
function lowerBound(chunk: readonly PresenceRecord[], key: SortKey): number {
  let lo = 0;
  let hi = chunk.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const at = chunk[mid];
    if (at !== undefined && compareKeys(keyOf(at), key) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
