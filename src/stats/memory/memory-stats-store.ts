import { bucketStart } from "../../core/buckets.js";
import type { Clock } from "../../core/clock.js";
import {
  DEFAULT_STATS_MAX_SAMPLES,
  DEFAULT_STATS_MAX_SERIES,
  DEFAULT_STATS_RETENTION_MS,
} from "../../core/defaults.js";
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
import {
  READY,
  type Readiness,
  type SamplesDroppedReason,
  type StoreMetrics,
} from "../../core/store-health.js";
import { BucketAccumulator } from "./aggregate.js";
import { Int32RingQueue } from "./ring-queue.js";
import { ACTIVITY_KEY, Series } from "./series.js";
import { SeriesKeys } from "./series-keys.js";
import { SeriesList } from "./series-list.js";
import { SeriesSlots } from "./series-slots.js";

export interface MemoryStatsLimits {
  /** Samples older than this (by report time) are dropped, milliseconds. */
  readonly retentionMs: number;
  /** At most this many samples (activity points included) are kept; the oldest go first. */
  readonly maxSamples: number;
  /**
   * At most this many series (one per worker, metric and variant, plus one activity series per
   * worker). A new series past it makes room by dropping the oldest samples until a series
   * empties: workers that stopped reporting hold the oldest samples, so they go first.
   */
  readonly maxSeries: number;
}

/** The defaults hold samples and series in about 131 MB (BENCHMARKS.md, memory stats cost). */
export const DEFAULT_MEMORY_STATS_LIMITS: MemoryStatsLimits = {
  retentionMs: DEFAULT_STATS_RETENTION_MS,
  maxSamples: DEFAULT_STATS_MAX_SAMPLES,
  maxSeries: DEFAULT_STATS_MAX_SERIES,
};

/**
 * Memory per sample, measured (bench/memory-stats-cost.ts: 27–28 bytes): 16 bytes of doubles in
 * the V8 heap and 4 of eviction-queue entry outside it, plus the spare capacity of the arrays and
 * of the queue (a power of two: 4,194,304 entries at the default 4,000,000 samples).
 */
export const BYTES_PER_SAMPLE = 28;
/**
 * Heap per series beyond its samples, measured (about 190 bytes): the series, its array, its entry
 * in its worker's series list, its slot (series-slots.ts) and its share of the worker (about 550
 * before series held one array, 270 before a worker held one map rather than one per metric key,
 * 230 before series were listed per worker rather than in fleet-sized maps).
 */
export const BYTES_PER_SERIES = 190;

/** How often samples past the retention window are dropped when no report arrives to do it. */
const SWEEP_INTERVAL_MS = 60_000;

interface WorkerData {
  /** Company and worker id: set again when a freed worker's data is reused for another. */
  company: string;
  worker: string;
  /** The worker's series, its activity apart. */
  readonly series: SeriesList<WorkerSeries>;
  /** One point per report: 1 when it ran a task, 0 when not. */
  activity: WorkerSeries | undefined;
}

type WorkerSeries = Series<WorkerData>;

/**
 * Freed series kept for reuse. At more series than maxSeries every report frees the oldest
 * workers' series and makes its own: reused, they are not garbage for the collector to promote
 * and sweep (bench/simulate.ts at 50,000 embedded agents).
 */
const SPARE_SERIES = 4096;

/**
 * Freed workers' data kept for reuse, for the same reason: at the series bound each report frees
 * a worker and makes one, and a new worker's series list grew its array twice to take about 30
 * series, all of it promoted by the young generation and swept soon after. A list grown past this
 * many slots (a worker that reported long lists) is not kept: its array is let go with it.
 */
const SPARE_WORKERS = 256;
const SPARE_LIST_CAPACITY = 128;

/**
 * Statistics in process memory, bounded by a retention window, a sample count and a series
 * count. Every added sample is queued by arrival; once over a bound, the oldest sample of the
 * series at the head of the queue is dropped, so memory stays flat whatever the load. A series
 * whose last sample goes is freed, and so is a worker with no series left.
 */
export class MemoryStatsStore implements StatsStore {
  readonly backend = "memory";
  private readonly companies = new Map<string, Map<string, WorkerData>>();
  /** One entry per sample held, in arrival order: the slot of the series it was added to. */
  private readonly evictionQueue = new Int32RingQueue();
  private readonly slots = new SeriesSlots<WorkerSeries>();
  private readonly keys = new SeriesKeys();
  private series = 0;
  private readonly sweeper: NodeJS.Timeout;
  private metrics: StoreMetrics | undefined;
  private readonly spare: WorkerSeries[] = [];
  private readonly spareWorkers: WorkerData[] = [];

  constructor(
    private readonly clock: Clock,
    readonly limits: MemoryStatsLimits = DEFAULT_MEMORY_STATS_LIMITS,
  ) {
    this.sweeper = setInterval(() => this.sweep(), SWEEP_INTERVAL_MS);
    this.sweeper.unref();
  }

  /** Samples held, activity points included. */
  get sampleCount(): number {
    return this.evictionQueue.length;
  }

  /** Series held (activity series included); read by tests and the startup line. */
  get seriesCount(): number {
    return this.series;
  }

  /** Series numbered in the slot table; lets tests check that series let go give theirs back. */
  get heldSlots(): number {
    return this.slots.size;
  }

  /** Workers with any sample held, over all companies; lets tests check that none is kept. */
  get workerCount(): number {
    let count = 0;
    for (const workers of this.companies.values()) count += workers.size;
    return count;
  }

  /** Where to count the samples the bounds drop (muster_memory_stats_dropped_samples_total). */
  useMetrics(metrics: StoreMetrics): void {
    this.metrics = metrics;
  }

  /** Drops what the retention window and the bounds say must go; reports and reads do it too. */
  sweep(): void {
    this.enforceLimits();
  }

  async record(report: Report): Promise<void> {
    const data = this.workerData(report.company, report.worker);
    this.put(data, undefined, "", report.timeMs, report.task === undefined ? 0 : 1);
    for (const sample of report.samples) {
      this.put(data, sample.metric, sample.variant, report.timeMs, sample.value);
    }
    // A new worker none of whose series fitted under maxSeries is not kept as an empty entry.
    this.forgetIfEmpty(data);
    this.enforceLimits();
  }

  async *stats(query: StatsQuery): AsyncIterable<StatsRow> {
    this.enforceLimits();
    const { fromMs, toMs, intervalMs } = query.range;
    // Collected before the first row is handed out: the answer is one moment's snapshot.
    const rows: StatsRow[] = [];
    for (const [worker, data] of this.selectWorkers(query.company, query.workers)) {
      for (const { metric, aggregations } of query.metrics) {
        const variants = this.seriesOf(data, metric);
        if (variants.length === 0) continue;
        if (query.splitByVariant) {
          for (const series of variants) {
            const buckets = new BucketAccumulator(intervalMs);
            series.forEachInRange(fromMs, toMs, (t, v) => buckets.add(t, v));
            const variant = this.keys.variantOf(series.key);
            rows.push(...buckets.rows(worker, metric, variant, aggregations));
          }
        } else {
          const buckets = new BucketAccumulator(intervalMs);
          for (const series of variants) {
            series.forEachInRange(fromMs, toMs, (t, v) => buckets.add(t, v));
          }
          rows.push(...buckets.rows(worker, metric, undefined, aggregations));
        }
      }
    }
    yield* rows;
  }

  async *activity(query: ActivityQuery): AsyncIterable<ActivityRow> {
    this.enforceLimits();
    const { fromMs, toMs, intervalMs } = query.range;
    const counts = new Map<number, { total: number; active: number }>();
    for (const data of this.companies.get(query.company)?.values() ?? []) {
      // Points come in time order, so a worker's buckets do too: count each bucket once.
      let lastTotal = -1;
      let lastActive = -1;
      data.activity?.forEachInRange(fromMs, toMs, (time, running) => {
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
    this.enforceLimits();
    const recorded = new Set<string>();
    for (const [, data] of this.selectWorkers(company, workers)) {
      for (const series of data.series.values()) {
        if (series.length > 0) recorded.add(this.keys.metricOf(series.key));
      }
    }
    return byCategory(recorded);
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
  }

  /** Process memory is always there. */
  async ready(): Promise<Readiness> {
    return READY;
  }

  /** The worker's series of `metric`, in the order their variants were first seen. */
  private seriesOf(data: WorkerData, metric: string): WorkerSeries[] {
    const found: WorkerSeries[] = [];
    for (const series of data.series.values()) {
      if (this.keys.metricOf(series.key) === metric) found.push(series);
    }
    return found.sort((a, b) => a.key - b.key);
  }

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
      data = this.spareWorkers.pop();
      if (data === undefined) {
        data = { company, worker, series: new SeriesList(), activity: undefined };
      } else {
        data.company = company;
        data.worker = worker;
      }
      workers.set(worker, data);
    }
    return data;
  }

  /** Adds a sample to the worker's series (the activity series when `metric` is undefined). */
  private put(
    data: WorkerData,
    metric: string | undefined,
    variant: string,
    time: number,
    value: number,
  ): void {
    const key = metric === undefined ? ACTIVITY_KEY : this.keys.numberOf(metric, variant);
    const existing = key === ACTIVITY_KEY ? data.activity : data.series.get(key);
    if (existing !== undefined) {
      if (existing.put(time, value)) this.evictionQueue.push(existing.slot);
      return;
    }
    if (!this.makeRoomForSeries(data)) return;
    const spare = this.spare.pop();
    let series = spare?.reuse(data, key, time, value);
    if (series === undefined) {
      series = new Series(data, key, time, value);
      series.slot = this.slots.take(series);
    }
    this.series++;
    this.evictionQueue.push(series.slot);
    if (key === ACTIVITY_KEY) data.activity = series;
    else data.series.add(series);
  }

  /**
   * Drops the oldest samples until a new series fits under maxSeries. Stops (and the new
   * series' sample is dropped) rather than eat into the worker being written: emptied, it would be
   * forgotten mid-report, and one report holding more series than the limit cannot be kept whole
   * anyway.
   */
  private makeRoomForSeries(writing: WorkerData): boolean {
    let dropped = 0;
    let fits = true;
    while (this.series >= this.limits.maxSeries) {
      const series = this.queueHead();
      if (series === undefined || series.owner === writing) {
        // The new sample itself is what is dropped.
        dropped++;
        fits = false;
        break;
      }
      if (this.dropHead(series)) dropped++;
    }
    this.countDropped("series", dropped);
    return fits;
  }

  private enforceLimits(): void {
    const cutoff = this.clock.now() - this.limits.retentionMs;
    let expired = 0;
    let overBound = 0;
    let series = this.queueHead();
    while (series !== undefined) {
      const oldest = series.oldestTime();
      const overCount = this.sampleCount > this.limits.maxSamples;
      if (!overCount && (oldest === undefined || oldest >= cutoff)) break;
      if (this.dropHead(series)) {
        if (oldest !== undefined && oldest < cutoff) expired++;
        else overBound++;
      }
      series = this.queueHead();
    }
    this.countDropped("retention", expired);
    this.countDropped("samples", overBound);
  }

  /** The series whose sample is the oldest held (at the eviction queue's head). */
  private queueHead(): WorkerSeries | undefined {
    const slot = this.evictionQueue.peek();
    return slot === undefined ? undefined : this.slots.get(slot);
  }

  private countDropped(reason: SamplesDroppedReason, count: number): void {
    if (count > 0) this.metrics?.samplesDropped(reason, count);
  }

  /**
   * Drops the oldest sample of the series at the queue's head, and frees the series if it empties;
   * false when the series held none.
   */
  private dropHead(series: WorkerSeries): boolean {
    const had = series.length > 0;
    series.dropOldest();
    this.evictionQueue.shift();
    if (had && series.length === 0) this.forget(series);
    return had;
  }

  /** Frees an empty series, then its worker and company when nothing else is left in them. */
  private forget(series: WorkerSeries): void {
    const data = series.owner;
    this.series--;
    if (series.key === ACTIVITY_KEY) {
      if (data.activity === series) data.activity = undefined;
    } else {
      data.series.remove(series);
    }
    // Nothing else holds an empty series: its last eviction-queue entry was just taken, and
    // queries read series synchronously.
    if (this.spare.length < SPARE_SERIES) {
      series.release();
      this.spare.push(series);
    } else {
      this.slots.release(series.slot);
    }
    this.forgetIfEmpty(data);
  }

  private forgetIfEmpty(data: WorkerData): void {
    if (data.activity !== undefined || data.series.size > 0) return;
    const workers = this.companies.get(data.company);
    if (workers?.get(data.worker) !== data) return;
    workers.delete(data.worker);
    if (workers.size === 0) this.companies.delete(data.company);
    // Nothing else holds it: its series are gone, and queries read workers synchronously.
    if (this.spareWorkers.length < SPARE_WORKERS && data.series.capacity <= SPARE_LIST_CAPACITY) {
      this.spareWorkers.push(data);
    }
  }
}
