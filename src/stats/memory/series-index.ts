/**
 * Every worker's series by metric, then variant, then worker. A map per worker (metric and
 * variant to series) grew and shrank with each worker: at more series than the store's bound,
 * where each report replaces the oldest workers' series with its own, those maps' tables were
 * half of what every report left for the old generation to collect (bench/simulate.ts at 50,000
 * embedded agents, the inspector's sampling heap profiler). These maps are few, each about the
 * size of the fleet, and keep their size while workers come and go. A variant's map goes when its
 * last worker does, so that one worker that reported a long list (up to 1,024 items) does not
 * leave every query walking a thousand empty maps for each worker it reads.
 */
export class SeriesIndex<Worker extends object, S> {
  private readonly byMetric = new Map<string, Map<string, Map<Worker, S>>>();

  get(metric: string, variant: string, worker: Worker): S | undefined {
    return this.byMetric.get(metric)?.get(variant)?.get(worker);
  }

  set(metric: string, variant: string, worker: Worker, series: S): void {
    let byVariant = this.byMetric.get(metric);
    if (byVariant === undefined) {
      byVariant = new Map();
      this.byMetric.set(metric, byVariant);
    }
    let byWorker = byVariant.get(variant);
    if (byWorker === undefined) {
      byWorker = new Map();
      byVariant.set(variant, byWorker);
    }
    byWorker.set(worker, series);
  }

  /** Removes the worker's series of this metric and variant if it is `series`; true when it was. */
  delete(metric: string, variant: string, worker: Worker, series: S): boolean {
    const byVariant = this.byMetric.get(metric);
    const byWorker = byVariant?.get(variant);
    if (byWorker?.get(worker) !== series) return false;
    byWorker.delete(worker);
    if (byWorker.size === 0) byVariant?.delete(variant);
    return true;
  }

  /** Variants with a series held, over all metrics; lets tests check that none is left behind. */
  get variantCount(): number {
    let count = 0;
    for (const byVariant of this.byMetric.values()) count += byVariant.size;
    return count;
  }

  /** The worker's series of `metric`, in the order their variants were first seen. */
  ofWorker(metric: string, worker: Worker): S[] {
    const found: S[] = [];
    for (const byWorker of this.byMetric.get(metric)?.values() ?? []) {
      const series = byWorker.get(worker);
      if (series !== undefined) found.push(series);
    }
    return found;
  }

  /** The metrics of which the worker has a series that `keep` accepts. */
  metricsOf(worker: Worker, keep: (series: S) => boolean): string[] {
    const metrics: string[] = [];
    for (const [metric, byVariant] of this.byMetric) {
      for (const byWorker of byVariant.values()) {
        const series = byWorker.get(worker);
        if (series !== undefined && keep(series)) {
          metrics.push(metric);
          break;
        }
      }
    }
    return metrics;
  }
}
