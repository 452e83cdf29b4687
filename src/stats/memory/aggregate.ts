import { create } from "@bufbuild/protobuf";
import { bucketStart } from "../../core/buckets.js";
import {
  Aggregation,
  AggregationStatsSchema,
  type MetricStats,
  MetricStatsSchema,
} from "../../gen/muster/workers/v1/types_pb.js";

interface Bucket {
  sum: number;
  count: number;
  min: number;
  max: number;
}

/** Accumulates samples into epoch-aligned buckets; only buckets that received a sample exist. */
export class BucketAccumulator {
  private readonly buckets = new Map<number, Bucket>();

  constructor(private readonly intervalMs: number) {}

  add(time: number, value: number): void {
    const start = bucketStart(time, this.intervalMs);
    const bucket = this.buckets.get(start);
    if (bucket === undefined) {
      this.buckets.set(start, { sum: value, count: 1, min: value, max: value });
      return;
    }
    bucket.sum += value;
    bucket.count++;
    if (value < bucket.min) bucket.min = value;
    if (value > bucket.max) bucket.max = value;
  }

  get empty(): boolean {
    return this.buckets.size === 0;
  }

  /** The buckets as a MetricStats, one value list per aggregation in the order asked. */
  toMetricStats(
    metric: string,
    variant: string | undefined,
    aggregations: readonly Aggregation[],
  ): MetricStats {
    const starts = [...this.buckets.keys()].sort((a, b) => a - b);
    const buckets = starts.map((s) => this.buckets.get(s) as Bucket);
    return create(MetricStatsSchema, {
      metric,
      ...(variant === undefined ? {} : { variant }),
      dates: starts.map((s) => BigInt(s)),
      stats: aggregations.map((aggregation) =>
        create(AggregationStatsSchema, {
          aggregation,
          values: buckets.map((b) => aggregatedValue(b, aggregation)),
        }),
      ),
    });
  }
}

function aggregatedValue(bucket: Bucket, aggregation: Aggregation): number {
  switch (aggregation) {
    case Aggregation.MIN:
      return bucket.min;
    case Aggregation.MAX:
      return bucket.max;
    default:
      return bucket.sum / bucket.count;
  }
}
