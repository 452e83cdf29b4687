import { bucketStart } from "../../core/buckets.js";
import type { StatsRow } from "../../core/stats-store.js";
import { Aggregation } from "../../gen/muster/workers/v1/types_pb.js";

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

  /** Every asked aggregation of every bucket, as the stats store's rows. */
  rows(
    worker: string,
    metric: string,
    variant: string | undefined,
    aggregations: readonly Aggregation[],
  ): StatsRow[] {
    const rows: StatsRow[] = [];
    for (const [bucketMs, bucket] of this.buckets) {
      for (const aggregation of aggregations) {
        const value = aggregatedValue(bucket, aggregation);
        rows.push({ worker, metric, variant, aggregation, bucketMs, value });
      }
    }
    return rows;
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
