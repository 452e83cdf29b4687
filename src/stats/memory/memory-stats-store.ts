import { bucketStart } from "../../core/buckets.js";
import type { Clock } from "../../core/clock.js";
import { DEFAULT_STATS_MAX_SAMPLES, DEFAULT_STATS_RETENTION_MS } from "../../core/defaults.js";
import {
  type ActivityQuery,
  type ActivityRow,
  byCategory,
  type MetricCategory,
  type Report,
  type StatsQuery,
  type StatsRow,
  type StatsStore,
} from "../../core/stats-store.js";
import { BucketAccumulator } from "./aggregate.js";
import { Series } from "./series.js";

export interface MemoryStatsLimits {
  /** Samples older than this (by report time) are dropped, milliseconds. */
  readonly retentionMs: number;
  /** At most this many samples (activity points included) are kept; the oldest go first. */
  readonly maxSamples: number;
}

/** Keeps the process under 256 MB: about 40 bytes a sample held, with room for everything else. */
export const DEFAULT_MEMORY_STATS_LIMITS: MemoryStatsLimits = {
  retentionMs: DEFAULT_STATS_RETENTION_MS,
  maxSamples: DEFAULT_STATS_MAX_SAMPLES,
};

/** A sample costs two doubles in its series and one reference in the eviction queue. */
export const BYTES_PER_SAMPLE = 40;

interface WorkerData {
  /** metric key → variant → samples */
  readonly metrics: Map<string, Map<string, Series>>;
  /** One point per report: 1 when it ran a task, 0 when not. */
  readonly activity: Series;
}

/**
 * Statistics in process memory, bounded by a retention window and a sample count. Every added
 * sample is queued by arrival; once over a bound, the oldest sample of the series at the head of
 * the queue is dropped, so memory stays flat whatever the load.
 */
export class MemoryStatsStore implements StatsStore {
  private readonly companies = new Map<string, Map<string, WorkerData>>();
  private evictionQueue: Series[] = [];
  private queueHead = 0;

  constructor(
    private readonly clock: Clock,
    readonly limits: MemoryStatsLimits = DEFAULT_MEMORY_STATS_LIMITS,
  ) {}

  /** Samples held, activity points included. */
  get sampleCount(): number {
    return this.evictionQueue.length - this.queueHead;
  }

  async record(report: Report): Promise<void> {
    const data = this.workerData(report.company, report.worker);
    this.put(data.activity, report.timeMs, report.task === undefined ? 0 : 1);
    for (const sample of report.samples) {
      let variants = data.metrics.get(sample.metric);
      if (variants === undefined) {
        variants = new Map();
        data.metrics.set(sample.metric, variants);
      }
      let series = variants.get(sample.variant);
      if (series === undefined) {
        series = new Series();
        variants.set(sample.variant, series);
      }
      this.put(series, report.timeMs, sample.value);
    }
    this.enforceLimits();
  }

  async *stats(query: StatsQuery): AsyncIterable<StatsRow> {
    const { fromMs, toMs, intervalMs } = query.range;
    // Collected before the first row is handed out: the answer is one moment's snapshot.
    const rows: StatsRow[] = [];
    for (const [worker, data] of this.selectWorkers(query.company, query.workers)) {
      for (const { metric, aggregations } of query.metrics) {
        const variants = data.metrics.get(metric);
        if (variants === undefined) continue;
        if (query.splitByVariant) {
          for (const [variant, series] of variants) {
            const buckets = new BucketAccumulator(intervalMs);
            series.forEachInRange(fromMs, toMs, (t, v) => buckets.add(t, v));
            rows.push(...buckets.rows(worker, metric, variant, aggregations));
          }
        } else {
          const buckets = new BucketAccumulator(intervalMs);
          for (const series of variants.values()) {
            series.forEachInRange(fromMs, toMs, (t, v) => buckets.add(t, v));
          }
          rows.push(...buckets.rows(worker, metric, undefined, aggregations));
        }
      }
    }
    yield* rows;
  }

  async *activity(query: ActivityQuery): AsyncIterable<ActivityRow> {
    const { fromMs, toMs, intervalMs } = query.range;
    const counts = new Map<number, { total: number; active: number }>();
    for (const data of this.companies.get(query.company)?.values() ?? []) {
      // Points come in time order, so a worker's buckets do too: count each bucket once.
      let lastTotal = -1;
      let lastActive = -1;
      data.activity.forEachInRange(fromMs, toMs, (time, running) => {
        const bucketMs = bucketStart(time, intervalMs);
        let bucket = counts.get(bucketMs);
        if (bucket === undefined) {
          bucket = { total: 0, active: 0 };
          counts.set(bucketMs, bucket);
        }
        if (bucketMs !== lastTotal) {
          bucket.total++;
          lastTotal = bucketMs;
        }
        if (running === 1 && bucketMs !== lastActive) {
          bucket.active++;
          lastActive = bucketMs;
        }
      });
    }
    yield* [...counts].map(([bucketMs, { total, active }]) => ({ bucketMs, total, active }));
  }

  async metricKeys(company: string, workers: readonly string[]): Promise<MetricCategory[]> {
    const recorded: string[] = [];
    for (const [, data] of this.selectWorkers(company, workers)) {
      for (const [metric, variants] of data.metrics) {
        if ([...variants.values()].some((s) => s.length > 0)) recorded.push(metric);
      }
    }
    return byCategory(recorded);
  }

  async close(): Promise<void> {}

  /** The requested workers that have data (all of the company's when none named), by id. */
  private selectWorkers(company: string, workers: readonly string[]): [string, WorkerData][] {
    const known = this.companies.get(company);
    if (known === undefined) return [];
    const ids = workers.length === 0 ? [...known.keys()] : [...new Set(workers)];
    const selected: [string, WorkerData][] = [];
    for (const id of ids.sort()) {
      const data = known.get(id);
      if (data !== undefined) selected.push([id, data]);
    }
    return selected;
  }

  private workerData(company: string, worker: string): WorkerData {
    let workers = this.companies.get(company);
    if (workers === undefined) {
      workers = new Map();
      this.companies.set(company, workers);
    }
    let data = workers.get(worker);
    if (data === undefined) {
      data = { metrics: new Map(), activity: new Series() };
      workers.set(worker, data);
    }
    return data;
  }

  private put(series: Series, time: number, value: number): void {
    if (series.put(time, value)) this.evictionQueue.push(series);
  }

  private enforceLimits(): void {
    const cutoff = this.clock.now() - this.limits.retentionMs;
    while (this.queueHead < this.evictionQueue.length) {
      const series = this.evictionQueue[this.queueHead] as Series;
      const oldest = series.oldestTime();
      const overCount = this.sampleCount > this.limits.maxSamples;
      if (!overCount && (oldest === undefined || oldest >= cutoff)) break;
      series.dropOldest();
      this.queueHead++;
    }
    if (this.queueHead > 65_536 && this.queueHead * 2 > this.evictionQueue.length) {
      this.evictionQueue = this.evictionQueue.slice(this.queueHead);
      this.queueHead = 0;
    }
  }
}
