/**
 * Samples of one series in time order, with at most one value per timestamp (a second write at the
 * same time replaces the first). Oldest samples are dropped from the front by moving `start`.
 */
export class Series {
  private times: number[] = [];
  private values: number[] = [];
  private start = 0;

  get length(): number {
    return this.times.length - this.start;
  }

  /** Adds or replaces the value at `time`; true when a sample was added. */
  put(time: number, value: number): boolean {
    const times = this.times;
    const last = times[times.length - 1];
    if (last === undefined || time > last) {
      times.push(time);
      this.values.push(value);
      return true;
    }
    const index = this.lowerBound(time);
    if (times[index] === time) {
      this.values[index] = value;
      return false;
    }
    times.splice(index, 0, time);
    this.values.splice(index, 0, value);
    return true;
  }

  oldestTime(): number | undefined {
    return this.times[this.start];
  }

  dropOldest(): void {
    if (this.length === 0) return;
    this.start++;
    // Compact once the dropped prefix dominates, so memory follows what is kept.
    if (this.start > 1024 && this.start * 2 > this.times.length) {
      this.times = this.times.slice(this.start);
      this.values = this.values.slice(this.start);
      this.start = 0;
    }
  }

  /** Calls `visit` for each sample with fromMs <= time <= toMs, in time order. */
  forEachInRange(fromMs: number, toMs: number, visit: (time: number, value: number) => void): void {
    const times = this.times;
    for (let i = this.lowerBound(fromMs); i < times.length; i++) {
      const time = times[i] as number;
      if (time > toMs) break;
      visit(time, this.values[i] as number);
    }
  }

  /** The first index at or after `start` whose time is >= `time`. */
  private lowerBound(time: number): number {
    let lo = this.start;
    let hi = this.times.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((this.times[mid] as number) < time) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
