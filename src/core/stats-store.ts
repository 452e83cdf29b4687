import type { Aggregation } from "../gen/muster/workers/v1/types_pb.js";
import type { BucketRange } from "./buckets.js";
import { categoryOf, type Sample } from "./machine-stats.js";
import type { Readiness, StoreMetrics } from "./store-health.js";

/** One status report as the stats store keeps it: activity, plus its machine_stats samples. */
export interface Report {
  readonly company: string;
  readonly worker: string;
  /** The task the worker ran, if any: it makes the worker "active" in the activity report. */
  readonly task: string | undefined;
  /** When the report was taken, epoch milliseconds. */
  readonly timeMs: number;
  readonly samples: readonly Sample[];
}

/** A metric and the aggregations wanted of it, in the order the request named them. */
export interface MetricRequest {
  readonly metric: string;
  readonly aggregations: readonly Aggregation[];
}

export interface StatsQuery {
  readonly company: string;
  /** Worker ids; empty means every worker of the company. */
  readonly workers: readonly string[];
  readonly range: BucketRange;
  readonly metrics: readonly MetricRequest[];
  readonly splitByVariant: boolean;
}

export interface ActivityQuery {
  readonly company: string;
  readonly range: BucketRange;
}

/** One aggregate of one bucket of one metric (and variant) of one worker. */
export interface StatsRow {
  readonly worker: string;
  readonly metric: string;
  /** "0", "1", … or "total" when split by variant; undefined when variants are aggregated together. */
  readonly variant: string | undefined;
  readonly aggregation: Aggregation;
  /** Bucket start, epoch milliseconds. */
  readonly bucketMs: number;
  readonly value: number;
}

/** Workers counted in one bucket that had any report. */
export interface ActivityRow {
  /** Bucket start, epoch milliseconds. */
  readonly bucketMs: number;
  /** Distinct workers that reported in the bucket. */
  readonly total: number;
  /** Of those, the ones that reported running a task. */
  readonly active: number;
}

export interface MetricCategory {
  readonly name: string;
  readonly metricKeys: string[];
}

/** Metric keys grouped by category: categories and the keys in each sorted, duplicates dropped. */
export function byCategory(metricKeys: Iterable<string>): MetricCategory[] {
  const groups = new Map<string, Set<string>>();
  for (const metric of metricKeys) {
    const category = categoryOf(metric);
    const keys = groups.get(category) ?? new Set<string>();
    keys.add(metric);
    groups.set(category, keys);
  }
  return [...groups.keys()].sort().map((name) => ({
    name,
    metricKeys: [...(groups.get(name) ?? [])].sort(),
  }));
}

/**
 * Where machine statistics and report activity are kept and aggregated. A report with the same
 * worker and time as an earlier one replaces it (a retried report does not count twice).
 */
export interface StatsStore {
  /** Resolves once the report is durable in the store. */
  record(report: Report): Promise<void>;
  /**
   * Every asked aggregation of every bucket with samples, per worker, metric and (when split)
   * variant, in any order: the service orders and shapes the answer (workers/stats-answers.ts).
   */
  stats(query: StatsQuery): AsyncIterable<StatsRow>;
  /** Rows for buckets with any report, in any order; the service fills the empty buckets with 0. */
  activity(query: ActivityQuery): AsyncIterable<ActivityRow>;
  /** Categories and keys recorded for the workers (all of the company's when empty), sorted. */
  metricKeys(company: string, workers: readonly string[]): Promise<MetricCategory[]>;
  close(): Promise<void>;
  /** The backend's name in metrics and readiness answers: "memory", "influx". */
  readonly backend: string;
  /** Whether calls can be served now (health checks); cheap, called every second or so. */
  ready(): Promise<Readiness>;
  /** Where to report backend events; backends without any may leave it out. */
  useMetrics?(metrics: StoreMetrics): void;
}
