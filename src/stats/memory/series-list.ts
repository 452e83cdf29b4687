/** What a series list holds: its key number (series-keys.ts) and its place in the list. */
export interface ListedSeries {
  readonly key: number;
  /** Index in the list holding it; only that list writes it. */
  listIndex: number;
}

/**
 * Past this many series a list keeps a map by key as well: a worker that reports long lists (up
 * to 1,024 items a field) would otherwise make each sample's lookup a long scan.
 */
const SCAN_LIMIT = 64;

/**
 * One worker's series, found by key number. A worker reporting 4 GPUs has about 30: a short array
 * scanned in order finds them faster than a map, and is made in one or two allocations. Before
 * this, series were filed in fleet-sized maps by metric, variant and worker; at the store's series
 * bound every report deletes a worker's series from them and adds another's, and those maps'
 * lookups and deletions alone were 7.7 % of the CPU samples, and their rehashes the largest share
 * of what survived the young generation (bench/simulate.ts at 50,000 embedded agents).
 *
 * The array keeps its room as series leave (the list counts its own length): an emptied list that
 * the store hands to another worker (memory-stats-store.ts) takes that worker's series without
 * allocating.
 */
export class SeriesList<S extends ListedSeries> {
  private readonly items: (S | undefined)[] = [];
  private count = 0;
  private byKey: Map<number, S> | undefined;

  get size(): number {
    return this.count;
  }

  /** Slots the array holds, used or not; lets the store choose which emptied lists to keep. */
  get capacity(): number {
    return this.items.length;
  }

  get(key: number): S | undefined {
    if (this.byKey !== undefined) return this.byKey.get(key);
    for (let i = 0; i < this.count; i++) {
      const series = this.items[i] as S;
      if (series.key === key) return series;
    }
    return undefined;
  }

  /** Adds a series whose key the list does not hold yet. */
  add(series: S): void {
    series.listIndex = this.count;
    this.items[this.count++] = series;
    if (this.byKey !== undefined) this.byKey.set(series.key, series);
    else if (this.count > SCAN_LIMIT) {
      this.byKey = new Map(this.values().map((item) => [item.key, item]));
    }
  }

  /** Removes `series` if this list holds it (not merely another of its key); true when it did. */
  remove(series: S): boolean {
    const index = series.listIndex;
    if (index >= this.count || this.items[index] !== series) return false;
    const lastIndex = --this.count;
    const last = this.items[lastIndex] as S;
    // Cleared, not popped: the slot is kept for the next series, and names nothing meanwhile.
    this.items[lastIndex] = undefined;
    if (last !== series) {
      this.items[index] = last;
      last.listIndex = index;
    }
    this.byKey?.delete(series.key);
    if (this.count === 0) this.byKey = undefined;
    return true;
  }

  /** The series, in no particular order (a copy: queries read it, reports do not). */
  values(): S[] {
    return this.items.slice(0, this.count) as S[];
  }
}
