/**
 * Every worker's series by metric, then variant, then worker. A map per worker (metric and
 * variant to series) grew and shrank with each worker: at more series than the store's bound,
 * where each report replaces the oldest workers' series with its own, those maps' tables were
 * half of what every report left for the old generation to collect (bench/simulate.ts at 50,000
 * embedded agents, the inspector's sampling heap profiler). These maps are few, each about the
 * size of the fleet, and keep their size while workers come and go. Metrics and variants (list
 * indexes and "total") come from the schema and bounded lists, so their maps are kept once made.
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
    const byWorker = this.byMetric.get(metric)?.get(variant);
    if (byWorker?.get(worker) !== series) return false;
    byWorker.delete(worker);
    return true;
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
