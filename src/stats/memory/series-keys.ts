/**
 * Numbers each (metric, variant) pair the first time it is seen, so that a worker's series can be
 * found by a small integer (series-list.ts). Numbers are never reused: metrics are MachineStats
 * fields and variants are "total" or a list index below the list limit, so the table stays at a
 * few thousand pairs however hostile the reports. Numbers follow first sight, which is the order
 * queries list a metric's variants in.
 */
export class SeriesKeys {
  private readonly numbers = new Map<string, Map<string, number>>();
  private readonly metrics: string[] = [];
  private readonly variants: string[] = [];

  /** The pair's number, given one now if it has none. */
  numberOf(metric: string, variant: string): number {
    let byVariant = this.numbers.get(metric);
    if (byVariant === undefined) {
      byVariant = new Map();
      this.numbers.set(metric, byVariant);
    }
    let key = byVariant.get(variant);
    if (key === undefined) {
      key = this.metrics.length;
      byVariant.set(variant, key);
      this.metrics.push(metric);
      this.variants.push(variant);
    }
    return key;
  }

  metricOf(key: number): string {
    const metric = this.metrics[key];
    if (metric === undefined) throw new RangeError(`no series key ${key}`);
    return metric;
  }

  variantOf(key: number): string {
    const variant = this.variants[key];
    if (variant === undefined) throw new RangeError(`no series key ${key}`);
    return variant;
  }

  /** Pairs numbered so far. */
  get size(): number {
    return this.metrics.length;
  }
}
