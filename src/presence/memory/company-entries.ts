/** What CompanyEntries files: an entry names its user and worker id. */
export interface Keyed {
  readonly user: string;
  readonly worker: string;
}

/**
 * One company's entries by user, then worker id. Two map levels instead of one map keyed by a
 * string made from both: the strings are the ones the entry already holds, so keeping a worker
 * makes no key of its own (a user has many workers, so the per-user maps are few).
 */
export class CompanyEntries<T extends Keyed> {
  private readonly byUser = new Map<string, Map<string, T>>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  get(user: string, worker: string): T | undefined {
    return this.byUser.get(user)?.get(worker);
  }

  /** Files the entry; the caller checked that its user and worker id are not filed yet. */
  add(entry: T): void {
    let workers = this.byUser.get(entry.user);
    if (workers === undefined) {
      workers = new Map();
      this.byUser.set(entry.user, workers);
    }
    workers.set(entry.worker, entry);
    this.count++;
  }

  /** Removes this very entry; false when it is not the one filed under its key. */
  delete(entry: T): boolean {
    const workers = this.byUser.get(entry.user);
    if (workers === undefined || workers.get(entry.worker) !== entry) return false;
    workers.delete(entry.worker);
    if (workers.size === 0) this.byUser.delete(entry.user);
    this.count--;
    return true;
  }

  forEach(visit: (entry: T) => void): void {
    for (const workers of this.byUser.values()) for (const entry of workers.values()) visit(entry);
  }
}
