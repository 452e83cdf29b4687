// Entries that many stored records hold with the same value (a user, a company, a queue), one
// object per value: every worker of a company carries the same user and company entries, every
// worker serving a queue the same queue entry, instead of an object (and its property array) each,
// about 80 bytes per entry per worker. Stored records and everything in them are never changed in
// place, so sharing is safe.

/** Names are not bounded (tokens signed with a shared secret may name any user): past this many
 * the cache starts over; records already made keep their entries. */
const LIMIT = 10_000;

export class SharedEntries<T> {
  private readonly entries = new Map<string, T>();

  constructor(private readonly make: (key: string) => T) {}

  /** The entry for `key`, the same object for the same key. */
  entry(key: string): T {
    let entry = this.entries.get(key);
    if (entry === undefined) {
      if (this.entries.size >= LIMIT) this.entries.clear();
      entry = this.make(key);
      this.entries.set(key, entry);
    }
    return entry;
  }
}
