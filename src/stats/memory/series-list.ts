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
 */
export class SeriesList<S extends ListedSeries> {
  private readonly items: S[] = [];
  private byKey: Map<number, S> | undefined;

  get size(): number {
    return this.items.length;
  }

  get(key: number): S | undefined {
    if (this.byKey !== undefined) return this.byKey.get(key);
    for (const series of this.items) if (series.key === key) return series;
    return undefined;
  }

  /** Adds a series whose key the list does not hold yet. */
  add(series: S): void {
    series.listIndex = this.items.length;
    this.items.push(series);
    if (this.byKey !== undefined) this.byKey.set(series.key, series);
    else if (this.items.length > SCAN_LIMIT) {
      this.byKey = new Map(this.items.map((item) => [item.key, item]));
    }
  }

  /** Removes `series` if this list holds it (not merely another of its key); true when it did. */
  remove(series: S): boolean {
    const index = series.listIndex;
    if (this.items[index] !== series) return false;
    const last = this.items.pop() as S;
    if (last !== series) {
      this.items[index] = last;
      last.listIndex = index;
    }
    this.byKey?.delete(series.key);
    return true;
  }

  /** The series, in no particular order. */
  values(): readonly S[] {
    return this.items;
  }
}
