/** The key of a worker's activity series, which no metric and variant have. */
export const ACTIVITY_KEY = -1;

/**
 * Samples of one series in time order, with at most one value per timestamp (a second write at the
 * same time replaces the first). Oldest samples are dropped from the front by moving `start`.
 *
 * Memory: one array of doubles, time and value interleaved ([t0, v0, t1, v1, …]), so a series is
 * this object and one backing store; it starts exactly as big as its first sample (V8 gives an
 * empty array 17 slots on its first push). The series knows its owner and key so the store can
 * free it, and its worker, once its last sample goes.
 */
export class Series<Owner> {
  private data: number[];
  /** Index (into `data`, always even) of the oldest kept sample's time. */
  private start = 0;
  /** The store's number for this series, which its eviction queue holds (series-slots.ts). */
  slot = -1;
  /** Its place in its worker's series list (series-list.ts). */
  listIndex = -1;

  constructor(
    public owner: Owner,
    /** The metric and variant's number (series-keys.ts); ACTIVITY_KEY for a worker's activity. */
    public key: number,
    time: number,
    value: number,
  ) {
    this.data = [time, value];
  }

  /**
   * Lets go of what an emptied series still names (its owner above all, and with it the owner's
   * other data), while it waits to be reused. Its array (a few doubles at most) stays for reuse().
   */
  release(): void {
    if (this.length > 0) throw new Error("only an empty series can be released");
    // Nothing reads a released series' owner: reuse() sets it before the series is used again.
    this.owner = undefined as Owner;
  }

  /**
   * This emptied series, made over as `new Series(owner, key, time, value)` would make it, keeping
   * its array (cut to the one sample).
   */
  reuse(owner: Owner, key: number, time: number, value: number) {
    if (this.length > 0) throw new Error("only an empty series can be reused");
    this.owner = owner;
    this.key = key;
    this.listIndex = -1;
    this.start = 0;
    if (this.data.length < 2) {
      this.data = [time, value];
    } else {
      this.data.length = 2;
      this.data[0] = time;
      this.data[1] = value;
    }
    return this;
  }

  get length(): number {
    return (this.data.length - this.start) >> 1;
  }

  /** Adds or replaces the value at `time`; true when a sample was added. */
  put(time: number, value: number): boolean {
    const data = this.data;
    const last = data[data.length - 2];
    if (last === undefined || this.length === 0 || time > last) {
      data.push(time, value);
      return true;
    }
    const index = this.lowerBound(time);
    if (data[index] === time) {
      data[index + 1] = value;
      return false;
    }
    data.splice(index, 0, time, value);
    return true;
  }

  oldestTime(): number | undefined {
    return this.length === 0 ? undefined : this.data[this.start];
  }

  dropOldest(): void {
    if (this.length === 0) return;
    this.start += 2;
    // Compact once the dropped prefix outweighs what is kept: memory follows the kept samples,
    // and each sample is copied O(1) times on average.
    if (this.start >= 16 && this.start * 2 > this.data.length) {
      this.data = this.data.slice(this.start);
      this.start = 0;
    }
  }

  /** Calls `visit` for each sample with fromMs <= time <= toMs, in time order. */
  forEachInRange(fromMs: number, toMs: number, visit: (time: number, value: number) => void): void {
    const data = this.data;
    for (let i = this.lowerBound(fromMs); i < data.length; i += 2) {
      const time = data[i] as number;
      if (time > toMs) break;
      visit(time, data[i + 1] as number);
    }
  }

  /** The first time index at or after `start` whose time is >= `time`. */
  private lowerBound(time: number): number {
    let lo = this.start >> 1;
    let hi = this.data.length >> 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((this.data[mid * 2] as number) < time) lo = mid + 1;
      else hi = mid;
    }
    return lo * 2;
  }
}
