/**
 * Shapes what a stats store returns into answers, once for every backend: stores only find rows,
 * in any order; the order, grouping and zero-filling clients see are decided here.
 */

import { create } from "@bufbuild/protobuf";
import type { BucketRange } from "../core/buckets.js";
import { compareVariants } from "../core/machine-stats.js";
import type { ActivityRow, MetricRequest, StatsRow } from "../core/stats-store.js";
import {
  type Aggregation,
  AggregationStatsSchema,
  type MetricStats,
  MetricStatsSchema,
  type WorkerStats,
  WorkerStatsSchema,
} from "../gen/muster/workers/v1/types_pb.js";

/** One metric (and variant) of one worker: bucket start → aggregation → value. */
interface Found {
  readonly variant: string | undefined;
  readonly buckets: Map<number, Map<Aggregation, number>>;
}

/**
 * get_stats' workers: in id order, each with its metrics in request order and, when split, the
 * variants in index order; one MetricStats per metric and variant carrying every asked
 * aggregation of the buckets that have samples. Rows of metrics or aggregations not asked for
 * are ignored.
 */
export async function workerStatsOf(
  rows: AsyncIterable<StatsRow>,
  metrics: readonly MetricRequest[],
): Promise<WorkerStats[]> {
  const asked = new Map(metrics.map((m) => [m.metric, new Set(m.aggregations)]));
  // worker → metric → variant ("" when not split) → buckets
  const found = new Map<string, Map<string, Map<string, Found>>>();
  for await (const row of rows) {
    if (asked.get(row.metric)?.has(row.aggregation) !== true) continue;
    const byMetric = getOrAdd(found, row.worker, () => new Map<string, Map<string, Found>>());
    const byVariant = getOrAdd(byMetric, row.metric, () => new Map<string, Found>());
    const series = getOrAdd(byVariant, row.variant ?? "", () => ({
      variant: row.variant,
      buckets: new Map<number, Map<Aggregation, number>>(),
    }));
    getOrAdd(series.buckets, row.bucketMs, () => new Map<Aggregation, number>()).set(
      row.aggregation,
      row.value,
    );
  }

  const answer: WorkerStats[] = [];
  for (const worker of [...found.keys()].sort()) {
    const byMetric = found.get(worker);
    const shaped: MetricStats[] = [];
    for (const { metric, aggregations } of metrics) {
      const byVariant = byMetric?.get(metric);
      if (byVariant === undefined) continue;
      for (const key of [...byVariant.keys()].sort(compareVariants)) {
        const series = byVariant.get(key);
        if (series !== undefined) shaped.push(metricStats(metric, series, aggregations));
      }
    }
    if (shaped.length > 0) answer.push(create(WorkerStatsSchema, { worker, metrics: shaped }));
  }
  return answer;
}

function metricStats(
  metric: string,
  series: Found,
  aggregations: readonly Aggregation[],
): MetricStats {
  const starts = [...series.buckets.keys()].sort((a, b) => a - b);
  return create(MetricStatsSchema, {
    metric,
    ...(series.variant === undefined ? {} : { variant: series.variant }),
    dates: starts.map((start) => BigInt(start)),
    stats: aggregations.map((aggregation) =>
      create(AggregationStatsSchema, {
        aggregation,
        values: starts.map((start) => series.buckets.get(start)?.get(aggregation) ?? Number.NaN),
      }),
    ),
  });
}

/** The activity report's series: every bucket of the range, in order, 0 where no row says more. */
export interface ActivitySeries {
  readonly dates: number[];
  readonly total: number[];
  readonly active: number[];
}

export async function activitySeriesOf(
  rows: AsyncIterable<ActivityRow>,
  range: BucketRange,
): Promise<ActivitySeries> {
  const { firstBucketMs, lastBucketMs, intervalMs } = range;
  const count = (lastBucketMs - firstBucketMs) / intervalMs + 1;
  const total = new Array<number>(count).fill(0);
  const active = new Array<number>(count).fill(0);
  for await (const row of rows) {
    const index = (row.bucketMs - firstBucketMs) / intervalMs;
    if (!Number.isInteger(index) || index < 0 || index >= count) continue;
    total[index] = row.total;
    active[index] = row.active;
  }
  const dates = Array.from({ length: count }, (_, i) => firstBucketMs + i * intervalMs);
  return { dates, total, active };
}

function getOrAdd<K, V>(map: Map<K, V>, key: K, make: () => V): V {
  let value = map.get(key);
  if (value === undefined) {
    value = make();
    map.set(key, value);
  }
  return value;
}
